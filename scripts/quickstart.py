#!/usr/bin/env python3
"""The README's Quickstart, followed word for word against a local AWS (moto).

Reads the first `sh` block under "## Quickstart" in README.md and runs each of its commands, as
written, in this checkout, against a moto server (AWS_ENDPOINT_URL, dummy credentials, the AWS
CLI from PyPI). Only what needs an account or would take too long is stood in for, and each
stand-in is printed where it happens:

- the account's own things: the bucket the Quickstart names (my-artifacts) and the cluster it
  clones (orders: aurora-postgresql with a writer, as the demo makes it) are created first;
- `./build.sh build` is a debug build of the Lambda's binary (without the `cli` feature) zipped
  as `bootstrap` where `build` puts the zip (a release build takes 6 to 12 minutes here);
  `--release` runs it as written;
- `cargo install --path .` installs a debug build under target/quickstart (not ~/.cargo/bin; a
  release build again), which is put on PATH.

A command moto cannot serve stops with moto's error; the known ones are listed below with the
reason (KNOWN_STOPS), and the run carries on with the next command, as a user would. Anything
else that fails fails the run. The endpoint is `localhost`, not 127.0.0.1: moto finds the bucket
of a template URL only on an endpoint named so.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo import LocalAws, free_port, realistic_source  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZIP = os.path.join(ROOT, "target", "lambda", "aurora-clone-manager", "bootstrap.zip")
INSTALL_ROOT = os.path.join(ROOT, "target", "quickstart")
# What the run writes where a user's own build would be: put back afterwards.
KEPT = [ZIP, os.path.join(ROOT, "target", "packaged.yaml"), os.path.join(ROOT, "target", "packaged.s3")]

# Commands moto cannot serve: (the command's start, what moto answers, why).
KNOWN_STOPS = [
    ("aws cloudformation deploy --stack-name orders-qa", "No export named",
     "moto publishes no outputs or exports of a stack created through a change set (which is how "
     "`aws cloudformation deploy` creates one), so the consumer stack's Fn::ImportValue of the "
     "clone manager's LambdaArn finds nothing. Past that, moto would have to run the function in "
     "Docker to serve the custom resource; `./build.sh demo` plays that part instead"),
]


def quickstart_commands(readme):
    """The commands of the Quickstart's first sh block, continuation lines joined."""
    section = readme.split("\n## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("\n```", 1)[0]
    commands, current = [], ""
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            commands.append(" ".join(current.split()))
            current = ""
    return commands


def bare(command):
    """The command without its trailing comment."""
    return command.split(" #", 1)[0].strip()


def debug_build(env):
    subprocess.run(["cargo", "build", "--quiet", "--no-default-features", "--bin", "aurora-clone-manager"],
                   cwd=ROOT, env=env, check=True)
    target = env.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    binary = os.path.join(target, "debug", "aurora-clone-manager")
    # The Lambda's build has no CLI: outside Lambda it says so and exits 2.
    alone = subprocess.run([binary, "status"], env=env, capture_output=True, text=True)
    if alone.returncode != 2 or "the Lambda's build" not in alone.stderr:
        raise SystemExit(f"the zip's binary is not the Lambda's build: {alone.returncode} {alone.stderr}")
    os.makedirs(os.path.dirname(ZIP), exist_ok=True)
    with zipfile.ZipFile(ZIP, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(binary, "rb") as f:
            z.writestr(info, f.read())
    return (f"the binary, outside Lambda: {alone.stderr.strip()}\n"
            f"zipped it as bootstrap: {os.path.relpath(ZIP, ROOT)} ({os.path.getsize(ZIP):,} bytes)")


STAND_INS = {
    "./build.sh build": (
        "a debug build of the Lambda's binary (cargo build --no-default-features), zipped as bootstrap where "
        "`./build.sh build` puts its zip: a release build takes 6 to 12 minutes here",
        debug_build),
    "cargo install --path .": (
        "cargo install --path . --debug --root target/quickstart --force: a debug build, installed in the "
        "project's target/ (on PATH for what follows), not in ~/.cargo/bin",
        lambda env: run_shell("cargo install --quiet --path . --debug --root target/quickstart --force", env)[1]),
}


def run_shell(command, env, timeout=900):
    out = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if out.returncode != 0:
        raise subprocess.CalledProcessError(out.returncode, command, out.stdout, "")
    return out.returncode, out.stdout.strip()


def show(text, limit=25):
    # The AWS CLI's upload progress: only where it ended.
    lines = [line.split("\r")[-1] for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if "Uploading to" not in line or "(100.00%)" in line]
    if len(lines) > limit:
        lines = lines[:8] + [f"... ({len(lines) - limit + 8} lines)"] + lines[-(limit - 9):]
    for line in lines:
        print(f"    {line}")


def follow(command, env, release):
    """Runs one command; returns None when it ran, or the reason moto stopped it."""
    print(f"\n$ {command}")
    started = time.time()
    stand_in = None if release else STAND_INS.get(bare(command))
    try:
        if stand_in:
            print(f"  stand-in: {stand_in[0]}")
            output = stand_in[1](env)
        else:
            output = run_shell(command, env)[1]
        show(output or "")
        print(f"  ok ({time.time() - started:.0f} s)")
        return None
    except subprocess.CalledProcessError as e:
        text = f"{e.stdout or ''}{e.stderr or ''}".strip()
        show(text)
        for start, answer, why in KNOWN_STOPS:
            if command.startswith(start) and answer in text:
                print(f"  stopped by moto (exit {e.returncode}): {why}")
                return why
        print(f"  FAILED (exit {e.returncode}): not a known limit of moto; the README or the code is wrong")
        raise SystemExit(1)


def environment(endpoint):
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_PROFILE", "ACM_STACK", "STACK_NAME", "STATE_TABLE", "AWS_LAMBDA_RUNTIME_API",
                        "LAMBDA_S3_BUCKET", "LAMBDA_S3_PREFIX")}
    aws_bin = os.path.join(ROOT, ".venv", "aws", "bin")
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="quickstart", AWS_SECRET_ACCESS_KEY="quickstart",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               PATH=os.pathsep.join([os.path.join(INSTALL_ROOT, "bin"), aws_bin, env.get("PATH", "")]))
    return env


def the_account(endpoint):
    """What the Quickstart assumes the account has: its artifacts bucket and the cluster to clone."""
    session = LocalAws(endpoint)
    session.client("s3").create_bucket(Bucket="my-artifacts")
    realistic_source(session, "orders")
    print("stand-ins for the account: bucket my-artifacts, cluster orders (aurora-postgresql 16.4, a writer), "
          "credentials quickstart/quickstart, region us-east-1")


def main():
    release = "--release" in sys.argv[1:]
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        commands = quickstart_commands(f.read())
    port = free_port()
    moto = subprocess.Popen([os.path.join(ROOT, ".venv", "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://localhost:{port}"
    saved = {p: p + ".quickstart-saved" for p in KEPT if os.path.exists(p)}
    for path, copy in saved.items():
        shutil.copy2(path, copy)
    stops = []
    started = time.time()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        print(f"The README's Quickstart ({len(commands)} commands) against the local AWS: moto at {endpoint}")
        the_account(endpoint)
        env = environment(endpoint)
        for command in commands:
            why = follow(command, env, release)
            if why:
                stops.append((command, why))
    finally:
        moto.terminate()
        for path in KEPT:
            if path in saved:
                shutil.move(saved[path], path)
            elif os.path.exists(path):
                os.remove(path)
    ran = len(commands) - len(stops)
    print(f"\nquickstart: {ran} of {len(commands)} commands ran against the local AWS in "
          f"{time.time() - started:.0f} s; {len(stops)} stopped by moto (see above)")


if __name__ == "__main__":
    main()
