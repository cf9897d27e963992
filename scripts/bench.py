#!/usr/bin/env python3
"""Performance budget of the release build, against the local AWS (moto).

Reports: zip size; cold start (process start to the first Runtime API poll); warm handling time
of a Create; peak RSS of a whole Create -> ready -> Delete; AWS API calls per Create, per
follow-up and per maintenance run of a 100-cluster account (counted at the SDK boundary by the
function's own interceptor, which logs them at the end of each invocation).
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
from demo import ROOT, STACK, LocalAws, Runtime, cfn_request, free_port, realistic_source  # noqa: E402

BINARY = os.environ.get("ACM_BINARY", os.path.join(ROOT, "target", "release", "aurora-clone-manager"))


def zip_size():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(BINARY, "bootstrap")
    return os.path.getsize(BINARY), len(buf.getvalue())


def lambda_env(runtime, endpoint, log_level="info"):
    return dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{runtime.port}", AWS_ENDPOINT_URL=endpoint,
                AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                AWS_LAMBDA_FUNCTION_NAME=STACK, AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_LOG_GROUP_NAME="bench", AWS_LAMBDA_LOG_STREAM_NAME="bench",
                STACK_NAME=STACK, LOG_LEVEL=log_level, RUST_BACKTRACE="0",
                # One attempt per call, as in the tests: moto answers DescribeAccountAttributes with
                # HTTP 500, and retry backoff would be timed instead of the handler.
                AWS_MAX_ATTEMPTS="1")


def cold_starts(endpoint, runs=20):
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
        proc = subprocess.Popen([BINARY], env=lambda_env(runtime, endpoint), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not polled and time.perf_counter() - start < 10:
            time.sleep(0.0005)
        times.append((polled[0] - start) * 1000)
        proc.kill()
        proc.wait()
        runtime.server.shutdown()
    return statistics.median(times), min(times)


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
        raw, zipped = zip_size()
        cold_median, cold_min = cold_starts(endpoint)

        runtime = Runtime()
        log_path = os.path.join(ROOT, "target", "bench-lambda.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([BINARY], env=lambda_env(runtime, endpoint), stdout=log, stderr=subprocess.STDOUT)
        warm = []
        physical = []
        for i in range(10):
            request_id, event = cfn_request(runtime, "Create", {"SourceClusterId": "orders", "ClusterId": f"bench-{i}"})
            start = time.perf_counter()
            runtime.invoke(event)
            if i > 0:
                warm.append((time.perf_counter() - start) * 1000)
            physical.append(runtime.responses[request_id]["body"]["PhysicalResourceId"])
        runtime.invoke({"source": "aurora-clone-manager", "action": "follow-up"})
        for arn in physical:
            _, event = cfn_request(runtime, "Delete", {"SourceClusterId": "orders"}, physical=arn)
            runtime.invoke(event)

        rds = aws.client("rds")
        for i in range(99):
            rds.create_db_cluster(DBClusterIdentifier=f"other-{i}", Engine="aurora-postgresql",
                                  MasterUsername="u", MasterUserPassword="password-1")
        aws.client("ssm").put_parameter(Name=f"/{STACK}/maintenance-config", Type="String",
                                        Value='{"clusters":[{"cluster-id":"orders","target-clone-slots":40}]}')
        runtime.invoke({"source": "events", "action": "maintain!"})
        # VmHWM, not wait4's ru_maxrss: the latter counts the forked Python image before exec.
        status_lines = dict(line.split(":", 1) for line in open(f"/proc/{proc.pid}/status"))
        peak_kib = int(status_lines["VmHWM"].split()[0])
        proc.terminate()
        proc.wait()
        calls = calls_of(log_path)
        create_calls = [c["aws_calls"] for c in calls[1:10]]
        follow_up = calls[10]["aws_calls"]
        maintenance = calls[-1]
        print(json.dumps({
            "binary_bytes": raw,
            "zip_bytes": zipped,
            "cold_start_ms": {"median": round(cold_median, 2), "min": round(cold_min, 2)},
            "warm_create_ms": {"median": round(statistics.median(warm), 1), "max": round(max(warm), 1)},
            "peak_rss_mib": round(peak_kib / 1024, 1),
            "aws_calls_per_create": statistics.median(create_calls),
            "aws_calls_per_follow_up_tick": follow_up,
            "aws_calls_maintenance_100_clusters": maintenance["aws_calls"],
            "maintenance_calls": maintenance["calls"],
        }, indent=2))
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
