#!/usr/bin/env bash
# Aurora Clone Manager: build, test, demo, package and deploy.
#
#   ./build.sh demo      the Lambda against a local AWS (moto): Create -> ready -> Delete
#   ./build.sh test      every check: fmt, clippy, all tests (moto started by the tests), cfn-lint,
#                        checkov and parliament, the demo and the Quickstart against moto
#   ./build.sh build     the Lambda zip (target/lambda/aurora-clone-manager/bootstrap.zip)
#   ./build.sh package   aws cloudformation package (needs LAMBDA_S3_BUCKET, LAMBDA_S3_PREFIX)
#   ./build.sh deploy [Param=Value ...]   aws cloudformation deploy (needs STACK_NAME; the template
#                        goes by the bucket `package` used)
#   ./build.sh bench     release build; zip size, cold start, warm Create, peak RSS, AWS calls, planner
#   ./build.sh quickstart [--release]   the README's Quickstart, word for word, against moto
#
# Tools come from registries only: moto, cfn-lint and cargo-lambda from PyPI into .venv,
# checkov and parliament into .venv/scan.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY_TOOLS=("moto[server]>=5.2,<5.3" "cfn-lint>=1.20,<2")
# The security scanners (`./build.sh test`): checkov on both templates, parliament on the rendered
# IAM policies. They get a virtualenv of their own, .venv/scan: checkov pins boto3 (==1.35.49),
# which in .venv would downgrade the boto3 that moto and the demo run on.
SCAN_TOOLS=("checkov>=3.3.30,<3.4" "parliament>=1.6.4,<1.7")
# The AWS CLI for `./build.sh quickstart`, in .venv/aws: awscli pins botocore to its own release.
AWS_TOOLS=("awscli>=1.36,<2")

die() { echo "build.sh: $*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"; }

venv() {
  need python3 "install Python 3"
  if [ ! -x "$VENV/bin/python" ]; then
    if ! python3 -m venv "$VENV" 2>/dev/null; then
      command -v apt-get >/dev/null || die "python3 -m venv failed and apt-get is not available: install python3-venv"
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$VENV"; python3 -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.tools-$(printf '%s ' "${PY_TOOLS[@]}" "$@" | cksum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q "${PY_TOOLS[@]}" "$@" || die "pip install failed"
    touch "$stamp"
  fi
}

# A virtualenv of its own under .venv for tools whose pins would move what .venv runs on.
side_venv() {
  venv
  local dir="$VENV/$1"; shift
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir" || die "python3 -m venv $dir failed"
  local stamp="$dir/.tools-$(printf '%s ' "$@" | cksum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ]; then
    "$dir/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$dir/bin/python" -m pip install -q "$@" || die "pip install of $* failed"
    touch "$stamp"
  fi
}

scan_venv() { side_venv scan "${SCAN_TOOLS[@]}"; }

cmd_demo() {
  need cargo "install Rust (rustup)"
  venv
  cargo build --quiet --bin aurora-clone-manager
  "$VENV/bin/python" scripts/demo.py
}

cmd_test() {
  need cargo "install Rust (rustup)"
  venv
  export MOTO_SERVER="$PWD/$VENV/bin/moto_server"
  cargo fmt --all -- --check || die "cargo fmt reports unformatted code: run cargo fmt --all"
  cargo clippy --all-targets --quiet -- -D warnings
  # The Lambda's own build (no CLI), as `build` and `bench` make it.
  cargo clippy --no-default-features --quiet -- -D warnings
  cargo test --quiet
  "$VENV/bin/cfn-lint" template.yaml example/template.yaml
  echo "cfn-lint: both templates clean"
  scan_venv
  # Offline: nothing downloaded from the Prisma Cloud platform (--skip-download), no policy
  # mapping fetched (BC_SKIP_MAPPING), no API key. Skips are in the templates, each with its reason.
  # The rendered templates too (prefix unset and set): checkov skips the Role's policy in
  # template.yaml, whose statement list holds an Fn::If.
  mkdir -p target/rendered
  "$VENV/bin/python" scripts/render_policy.py --cfn --param ClusterIdPrefix= --param 'AllowedSources=*' \
    --out target/rendered/template.json
  "$VENV/bin/python" scripts/render_policy.py --cfn --param ClusterIdPrefix=clone- \
    --param AllowedSources=orders --param AllowedSecretPrefixes=/team-a/ --out target/rendered/template-prefix.json
  BC_SKIP_MAPPING=TRUE "$VENV/scan/bin/checkov" --framework cloudformation \
    -f template.yaml -f example/template.yaml \
    -f target/rendered/template.json -f target/rendered/template-prefix.json \
    --quiet --compact --skip-download || die "checkov reports findings"
  # parliament (and its community auditors) on every IAM policy of template.yaml, rendered with
  # the prefix set and unset and the other options; accepted findings are listed, with their
  # reasons, in scripts/render_policy.py (the CLI cannot read --file without a terminal).
  "$VENV/scan/bin/python" -W ignore scripts/render_policy.py --audit || die "parliament reports findings"
  cmd_demo
  cmd_quickstart
}

cmd_quickstart() {
  need cargo "install Rust (rustup)"
  side_venv aws "${AWS_TOOLS[@]}"
  "$VENV/bin/python" scripts/quickstart.py "$@"
}

cmd_build() {
  need cargo "install Rust (rustup)"
  venv "cargo-lambda>=1.8,<2" "ziglang>=0.13"
  # Without the `cli` feature: the operator CLI (clap, CloudWatch) stays out of the zip.
  PATH="$PWD/$VENV/bin:$PATH" cargo lambda build --release --output-format zip \
    --bin aurora-clone-manager --no-default-features
  ls -l "${CARGO_TARGET_DIR:-target}/lambda/aurora-clone-manager/bootstrap.zip"
}

cmd_bench() {
  need cargo "install Rust (rustup)"
  venv
  cargo build --release --quiet --bin aurora-clone-manager --no-default-features
  "$VENV/bin/python" scripts/bench.py
  cargo bench --quiet --bench planner
}

cmd_package() {
  need aws "install the AWS CLI"
  [ -n "${LAMBDA_S3_BUCKET:-}" ] || die "set LAMBDA_S3_BUCKET to the bucket for the Lambda zip"
  [ -f target/lambda/aurora-clone-manager/bootstrap.zip ] || die "no zip: run ./build.sh build first"
  aws cloudformation package --template-file template.yaml --s3-bucket "$LAMBDA_S3_BUCKET" \
    --s3-prefix "${LAMBDA_S3_PREFIX:-aurora-clone-manager}" --output-template-file target/packaged.yaml
  # `deploy` uploads the template to the same place (see cmd_deploy).
  printf '%s\n%s\n' "$LAMBDA_S3_BUCKET" "${LAMBDA_S3_PREFIX:-aurora-clone-manager}" > target/packaged.s3
}

cmd_deploy() {
  need aws "install the AWS CLI"
  [ -n "${STACK_NAME:-}" ] || die "set STACK_NAME to the clone manager's stack name"
  [ -f target/packaged.yaml ] || die "no packaged template: run ./build.sh package first"
  # The packaged template is over the 51,200 bytes CloudFormation takes inline: it goes by S3,
  # to the bucket `package` used (or LAMBDA_S3_BUCKET).
  local bucket prefix
  bucket="${LAMBDA_S3_BUCKET:-$(sed -n 1p target/packaged.s3 2>/dev/null)}"
  prefix="${LAMBDA_S3_PREFIX:-$(sed -n 2p target/packaged.s3 2>/dev/null)}"
  [ -n "$bucket" ] || die "set LAMBDA_S3_BUCKET: the template is deployed through S3 (run ./build.sh package first)"
  local overrides=()
  [ $# -gt 0 ] && overrides=(--parameter-overrides "$@")
  # An unchanged redeploy succeeds; `${a[@]+...}` keeps bash 3.2 (macOS) quiet about an empty
  # array under `set -u`.
  aws cloudformation deploy --template-file target/packaged.yaml --stack-name "$STACK_NAME" \
    --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
    --s3-bucket "$bucket" --s3-prefix "${prefix:-aurora-clone-manager}" \
    ${overrides[@]+"${overrides[@]}"}
}

case "${1:-}" in
  demo|test|build|bench|package) "cmd_$1" ;;
  quickstart) shift; cmd_quickstart "$@" ;;
  deploy) shift; cmd_deploy "$@" ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
