#!/usr/bin/env python3
"""Performance budget of the release build, against the local AWS (moto).

Reports: binary and zip size (this binary, deflate 9, and the zip `./build.sh build` made, if
there is one); cold start (process start to the first Runtime API poll); warm handling time of a
Create; peak RSS of a whole Create -> ready -> Delete; AWS API calls per Create, per follow-up and
per maintenance run of a 100-cluster account (counted at the SDK boundary by the function's own
interceptor, which logs them at the end of each invocation). Cold start and peak RSS are measured
side by side with a Python/boto3 handler holding the same seven clients, in the same run.

The binary is $ACM_BINARY, or release/aurora-clone-manager under $CARGO_TARGET_DIR (default
target/), as `./build.sh bench` builds it.
"""

import io
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo import (EVENT_BUS, ROOT, STACK, STATE_TABLE, LocalAws, Runtime, cfn_request,  # noqa: E402
                  free_port, realistic_source, stack_resources)

TARGET_DIR = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR") or "target")
BINARY = os.environ.get("ACM_BINARY", os.path.join(TARGET_DIR, "release", "aurora-clone-manager"))
LAMBDA_ZIP = os.path.join(TARGET_DIR, "lambda", "aurora-clone-manager", "bootstrap.zip")

# The budget (issue 11): zip under 4 MiB, cold start at most 15 ms, peak RSS at most 16 MiB.
ZIP_BUDGET = 4 * 1024 * 1024
COLD_START_BUDGET_MS = 15.0
RSS_BUDGET_MIB = 16.0

# The same seven clients as the function, in a minimal Python/boto3 Lambda (the Runtime API loop
# by hand, as the Python runtime's bootstrap does): one DescribeDBClusters per invocation.
PYTHON_HANDLER = r"""
import json, os, urllib.request
import boto3
clients = {s: boto3.client(s) for s in
           ("rds", "secretsmanager", "ssm", "events", "kms", "dynamodb", "cloudformation")}
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    result = {"clusters": len(clients["rds"].describe_db_clusters()["DBClusters"])}
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response",
                                                  data=json.dumps(result).encode(), method="POST")).close()
"""
PYTHON = [os.path.join(ROOT, ".venv", "bin", "python"), "-c", PYTHON_HANDLER]


def zip_size():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(BINARY, "bootstrap")
    return os.path.getsize(BINARY), len(buf.getvalue())


def lambda_zip():
    """The zip `./build.sh build` made (cargo lambda, zig, glibc 2.17), if any, and its age."""
    if not os.path.exists(LAMBDA_ZIP):
        return None
    with zipfile.ZipFile(LAMBDA_ZIP) as z:
        binary = sum(i.file_size for i in z.infolist())
    return {"zip_bytes": os.path.getsize(LAMBDA_ZIP), "binary_bytes": binary,
            "built": time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(LAMBDA_ZIP))),
            "path": os.path.relpath(LAMBDA_ZIP, ROOT)}


def peak_rss_mib(pid):
    # VmHWM, not wait4's ru_maxrss: the latter counts the forked Python image before exec.
    status_lines = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return int(status_lines["VmHWM"].split()[0]) / 1024


def lambda_env(runtime, endpoint, log_level="info"):
    return dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{runtime.port}", AWS_ENDPOINT_URL=endpoint,
                AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                AWS_LAMBDA_FUNCTION_NAME=STACK, AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                AWS_DEFAULT_REGION="us-east-1",
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_LOG_GROUP_NAME="bench", AWS_LAMBDA_LOG_STREAM_NAME="bench",
                STACK_NAME=STACK, STATE_TABLE=STATE_TABLE, EVENT_BUS_NAME=EVENT_BUS,
                ALLOWED_RESPONSE_HOSTS="127.0.0.1", LOG_LEVEL=log_level, RUST_BACKTRACE="0",
                # One attempt per call, as in the tests: moto answers DescribeAccountAttributes with
                # HTTP 500, and retry backoff would be timed instead of the handler.
                AWS_MAX_ATTEMPTS="1")


def cold_starts(endpoint, command=None, runs=20):
    """Process start to the first Runtime API poll, `runs` times: median and minimum, in ms."""
    times = []
    for _ in range(runs):
        runtime = Runtime()
        polled = []
        original = runtime.events.get

        def first_poll(*a, **k):
            polled.append(time.perf_counter())
            return original(*a, **k)

        runtime.events.get = first_poll
        start = time.perf_counter()
        proc = subprocess.Popen(command or [BINARY], env=lambda_env(runtime, endpoint),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not polled and time.perf_counter() - start < 30:
            time.sleep(0.0005)
        times.append((polled[0] - start) * 1000)
        proc.kill()
        proc.wait()
        runtime.server.shutdown()
    return statistics.median(times), min(times)


def python_peak_rss(endpoint, invocations=10):
    """Peak RSS of the Python/boto3 handler after `invocations` invocations."""
    runtime = Runtime()
    proc = subprocess.Popen(PYTHON, env=lambda_env(runtime, endpoint), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(invocations):
            runtime.invoke({"source": "bench"})
        return peak_rss_mib(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        runtime.server.shutdown()


def calls_of(log_path):
    """The AWS calls of each invocation, in order, from the function's JSON logs."""
    out = []
    with open(log_path) as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("fields", {}).get("message") == "invocation done":
                out.append(entry["fields"])
    return out


def main():
    if not os.path.exists(BINARY):
        sys.exit(f"no release binary at {BINARY}: run ./build.sh bench")
    moto_port = free_port()
    moto = subprocess.Popen([os.path.join(ROOT, ".venv", "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{moto_port}"
    try:
        time.sleep(1.5)
        aws = LocalAws(endpoint)
        realistic_source(aws, "orders")
        stack_resources(aws)
        raw, zipped = zip_size()
        cold_median, cold_min = cold_starts(endpoint)
        py_cold_median, py_cold_min = cold_starts(endpoint, PYTHON, runs=5)
        py_rss = python_peak_rss(endpoint)

        runtime = Runtime()
        log_path = os.path.join(ROOT, "target", "bench-lambda.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([BINARY], env=lambda_env(runtime, endpoint), stdout=log, stderr=subprocess.STDOUT)
        warm = []
        physical = []
        # Invocations of this process, in order, and which were what (the log has one
        # `invocation done` line per invocation).
        kinds = []

        def invoke(kind, event):
            kinds.append(kind)
            return runtime.invoke(event)

        follow_up = {"source": "aurora-clone-manager", "action": "follow-up"}
        for i in range(10):
            request_id, event = cfn_request(runtime, "Create", {"SourceClusterId": "orders", "ClusterId": f"bench-{i}"})
            start = time.perf_counter()
            invoke("create-cold" if i == 0 else "create-warm", event)
            if i > 0:
                warm.append((time.perf_counter() - start) * 1000)
            while request_id not in runtime.responses and kinds.count("tick-pending") < 50:
                invoke("tick-pending", follow_up)
            physical.append(runtime.responses[request_id]["body"]["PhysicalResourceId"])
        for arn in physical:
            _, event = cfn_request(runtime, "Delete", {"SourceClusterId": "orders"}, physical=arn)
            invoke("delete", event)
        invoke("tick-idle", follow_up)
        invoke("tick-idle", follow_up)
        rds_event = {"source": "aws.rds", "detail-type": "RDS DB Instance Event",
                     "detail": {"SourceIdentifier": "someone-elses-db", "EventID": "RDS-EVENT-0004"}}
        invoke("rds-event-idle", rds_event)

        rds = aws.client("rds")
        for i in range(99):
            rds.create_db_cluster(DBClusterIdentifier=f"other-{i}", Engine="aurora-postgresql",
                                  MasterUsername="u", MasterUserPassword="password-1")
        aws.client("ssm").put_parameter(Name=f"/{STACK}/maintenance-config", Type="String",
                                        Value='{"clusters":[{"cluster-id":"orders","target-clone-slots":40}]}')
        runtime.invoke({"source": "events", "action": "maintain!"})
        peak = peak_rss_mib(proc.pid)
        proc.terminate()
        proc.wait()
        calls = calls_of(log_path)
        kinds.append("maintenance")
        by_kind = {}
        for kind, c in zip(kinds, calls):
            by_kind.setdefault(kind, []).append(c)
        create_calls = [c["aws_calls"] for c in by_kind["create-warm"]]
        maintenance = by_kind["maintenance"][-1]
        built = lambda_zip()
        print(json.dumps({
            "binary_bytes": raw,
            "zip_bytes": zipped,
            "lambda_zip": built,
            "cold_start_ms": {"median": round(cold_median, 2), "min": round(cold_min, 2)},
            "python_boto3_cold_start_ms": {"median": round(py_cold_median, 1), "min": round(py_cold_min, 1)},
            "warm_create_ms": {"median": round(statistics.median(warm), 1), "max": round(max(warm), 1)},
            "peak_rss_mib": round(peak, 1),
            "python_boto3_peak_rss_mib": round(py_rss, 1),
            "budget": {
                "zip_under_4_mib": (built["zip_bytes"] if built else zipped) < ZIP_BUDGET,
                "cold_start_at_most_15_ms": cold_median <= COLD_START_BUDGET_MS,
                "peak_rss_at_most_16_mib": peak <= RSS_BUDGET_MIB,
            },
            "aws_calls_create_first_invocation": {"cold": by_kind["create-cold"][0]["aws_calls"],
                                                  "warm_median": statistics.median(create_calls),
                                                  "warm_calls": by_kind["create-warm"][0]["calls"]},
            "aws_calls_follow_up_tick_one_pending": by_kind["tick-pending"][0]["aws_calls"],
            "aws_calls_follow_up_tick_idle": [c["aws_calls"] for c in by_kind["tick-idle"]],
            "aws_calls_rds_event_idle": by_kind["rds-event-idle"][0]["aws_calls"],
            "aws_calls_maintenance_100_clusters": maintenance["aws_calls"],
            "maintenance_calls": maintenance["calls"],
        }, indent=2))
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
