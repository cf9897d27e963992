#!/usr/bin/env python3
"""The local demo: the Lambda, run as Lambda runs it, against a local AWS (moto).

Starts moto, creates a realistic source cluster (aurora-postgresql in its own VPC subnet group and
security group, with tags and a writer instance), starts a stand-in for the Lambda Runtime API and
for CloudFormation's ResponseURL, runs the real binary with AWS_LAMBDA_RUNTIME_API set, and sends it
a Create, plays EventBridge's scheduler while the follow-up rule is enabled, then sends a Delete;
then a Create with a preparation step (the demo plays the preparer) and a refresh in place.
Everything it shows comes from the binary's responses and from the local AWS APIs.
"""

import datetime
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STACK = "demo-clone-manager"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{STACK}"
CONSUMER_STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-app/7f1c"
STATE_TABLE = f"{STACK}-state"
EVENT_BUS = f"{STACK}-events"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runtime:
    """The Lambda Runtime API (next / response / error) and a ResponseURL receiver."""

    def __init__(self):
        self.events = queue.Queue()
        self.results = {}
        self.responses = {}
        self.done = threading.Condition()
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    request_id, event = runtime.events.get()
                    body = json.dumps(event).encode()
                    self.send_response(200)
                    self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                    self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 300) * 1000)))
                    self.send_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
                    self.send_header("Lambda-Runtime-Trace-Id", "Root=1-demo")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_response(404)
                    self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = self.path.strip("/").split("/")
                self.send_response(202)
                self.end_headers()
                if "invocation" in parts:
                    with runtime.done:
                        runtime.results[parts[-2]] = (parts[-1], body.decode())
                        runtime.done.notify_all()

            def do_PUT(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                self.send_response(200)
                self.end_headers()
                with runtime.done:
                    runtime.responses[self.path.split("?")[0].split("/")[-1]] = {
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(body),
                    }
                    runtime.done.notify_all()

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event):
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        with self.done:
            self.done.wait_for(lambda: request_id in self.results, timeout=300)
        return self.results.get(request_id)


class LocalAws:
    """boto3 clients for the local AWS."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="demo", aws_secret_access_key="demo")


def realistic_source(session, cluster_id):
    ec2, rds = session.client("ec2"), session.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
        for i, az in enumerate(["us-east-1a", "us-east-1b"], start=1)
    ]
    sg = ec2.create_security_group(GroupName="orders-db", Description="orders database", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(DBSubnetGroupName="orders-db", DBSubnetGroupDescription="orders", SubnetIds=subnets)
    rds.create_db_cluster(
        DBClusterIdentifier=cluster_id, Engine="aurora-postgresql", EngineVersion="16.4",
        MasterUsername="orders_admin", MasterUserPassword="production-password-1", DatabaseName="orders",
        DBSubnetGroupName="orders-db", VpcSecurityGroupIds=[sg],
        Tags=[{"Key": "team", "Value": "orders"}, {"Key": "env", "Value": "production"}])
    rds.create_db_instance(DBInstanceIdentifier=f"{cluster_id}-1", DBClusterIdentifier=cluster_id,
                           Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")


def stack_resources(session):
    """What the stack's template creates that the function needs: the state table (partition
    key `pk`, String; TTL on `ttl`) and a bus for the lifecycle events (moto's PutEvents fails on
    a bus where a rule targets a Lambda, as the follow-up rule does on the default bus)."""
    ddb = session.client("dynamodb")
    ddb.create_table(TableName=STATE_TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.update_time_to_live(TableName=STATE_TABLE,
                            TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True})
    session.client("events").create_event_bus(Name=EVENT_BUS)
    session.client("scheduler").create_schedule_group(Name=f"{STACK}-expiry")


def cfn_request(runtime, kind, props, physical=None):
    request_id = str(uuid.uuid4())
    event = {
        "RequestType": kind, "RequestId": request_id, "StackId": CONSUMER_STACK,
        "ResponseURL": f"http://127.0.0.1:{runtime.port}/responses/{request_id}?X-Amz-Signature=demo",
        "ResourceType": "Custom::AuroraClone", "LogicalResourceId": "OrdersClone",
        "ResourceProperties": dict(props, ServiceToken=FUNCTION_ARN),
    }
    if physical:
        event["PhysicalResourceId"] = physical
    return request_id, event


def play_scheduler(runtime, events, rule, request_id, limit=20):
    """Invoke the follow-up rule's target, as EventBridge would every minute, until answered."""
    for tick in range(limit):
        if request_id in runtime.responses:
            return tick
        state = events.describe_rule(Name=rule)["State"]
        if state != "ENABLED":
            return tick
        target = events.list_targets_by_rule(Rule=rule)["Targets"][0]
        print(f"  scheduler tick {tick + 1}: invoking {target['Arn'].split(':')[-1]} with {target['Input']}")
        runtime.invoke(json.loads(target["Input"]))
    return limit


def expire(session, runtime, rds, clone):
    """The clone's expiry: its schedules in the stack's group, then the expiry schedule firing
    (moto stores schedules and never fires them: the demo plays EventBridge Scheduler)."""
    scheduler = session.client("scheduler")
    group = f"{STACK}-expiry"
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
    for name in names:
        s = scheduler.get_schedule(Name=name, GroupName=group)
        print(f"   schedule {name}: {s['ScheduleExpression']} -> {s['Target']['Input']}")
    tags = {t["Key"]: t["Value"] for t in clone["TagList"]}
    expires = tags["aurora-clone-manager:expires-at"]
    wait = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00")) - datetime.datetime.now(datetime.timezone.utc)
    print(f"   waiting {max(wait.total_seconds(), 0):.0f} s for the expiry at {expires} (ExpiresAfter PT1M)")
    time.sleep(max(wait.total_seconds(), 0) + 1)
    expiry = [n for n in names if n.endswith("-x")][0]
    target = scheduler.get_schedule(Name=expiry, GroupName=group)["Target"]
    print(f"   EventBridge Scheduler fires {expiry}: {runtime.invoke(json.loads(target['Input']))[1]}")
    after = rds.describe_db_clusters(DBClusterIdentifier=clone["DBClusterIdentifier"])["DBClusters"][0]
    marks = {t["Key"].split(":")[1]: t["Value"] for t in after["TagList"] if "expir" in t["Key"]}
    print(f"   clone {after['DBClusterIdentifier']}: status {after['Status']}, expiry tags {marks}")
    if after["Status"] not in ("stopped", "stopping") or marks.get("expired") != "stop":
        sys.exit("the clone was not stopped at expiry")


def prepared_create(session, runtime, events, rule):
    """A clone with a preparation step: the demo plays the preparer. A rule on the lifecycle bus
    sends clone-prepare to a queue; the demo takes the token from it, "masks", and reports ok."""
    sqs = session.client("sqs")
    queue_url = sqs.create_queue(QueueName="demo-preparer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="demo-preparer", EventBusName=EVENT_BUS,
                    EventPattern=json.dumps({"detail-type": ["lifecycle-event/clone-prepare"]}))
    events.put_targets(Rule="demo-preparer", EventBusName=EVENT_BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
    masker = "arn:aws:iam::123456789012:role/demo-masker"
    request_id, create = cfn_request(runtime, "Create", {
        "SourceClusterId": "orders", "CopyOk": "true", "InstanceClass": "db.t4g.medium",
        "SetPassword": "true", "Prepare": "true", "PrepareTimeout": "PT10M", "PreparerArns": [masker],
        "AccessPrincipalArns": ["arn:aws:iam::123456789012:role/demo-developers"]})
    print("7. CloudFormation sends Create for a clone with Prepare: true (the demo plays the preparer)")
    runtime.invoke(create)
    token = None
    for tick in range(20):
        for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(m["Body"])
            token, detail = event["detail"]["token"], event["detail"]
            print(f"   clone-prepare for {detail['clusterId']} ({detail['reason']}): secret "
                  f"{detail['passwordSecretArn'].split(':')[-1]}, report by {detail['prepareBy']}")
        if token:
            break
        print(f"  scheduler tick {tick + 1}: follow-up")
        runtime.invoke({"source": "aurora-clone-manager", "action": "follow-up"})
    if not token:
        sys.exit("no clone-prepare event")
    if request_id in runtime.responses:
        sys.exit("CloudFormation was answered before the preparer reported")
    print("   the preparer masks the data, then reports ok with its token")
    report = {"source": "aurora-clone-manager", "action": "prepared", "token": token, "status": "ok", "reason": "masked"}
    print(f"   prepared: {runtime.invoke(report)[1]}")
    play_scheduler(runtime, events, rule, request_id)
    body = runtime.responses[request_id]["body"]
    print(f"8. CloudFormation received {body['Status']} only after the report: {body['Data'].get('ClusterId')}")
    if body["Status"] != "SUCCESS":
        sys.exit(f"the prepared Create failed: {body.get('Reason')}")
    return body, (sqs, queue_url)


def play_preparer(preparer, runtime):
    """The preparer's side: each clone-prepare on its queue is "masked" and reported ok."""
    sqs, queue_url = preparer
    for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        detail = json.loads(m["Body"])["detail"]
        print(f"   clone-prepare for {detail['clusterId']} ({detail['reason']}): the preparer masks it "
              f"(secret {detail['passwordSecretArn'].split(':')[-1]}) and reports ok")
        report = {"source": "aurora-clone-manager", "action": "prepared", "token": detail["token"], "status": "ok"}
        print(f"   prepared: {runtime.invoke(report)[1]}")


def refresh(session, runtime, rds, clone_id, preparer):
    """A refresh in place, asked for as the clone's schedule asks: a new clone of the source is
    prepared (the demo plays the preparer again), then takes the clone's name. moto keeps each instance's old cluster id after a cluster rename, so it lists
    the old writer under the new cluster, and the manager's last check of the cut-over waits there
    (AWS keeps members with their cluster; the fakes' tests carry a refresh to its end)."""
    before = rds.describe_db_clusters(DBClusterIdentifier=clone_id)["DBClusters"][0]
    asked = runtime.invoke({"source": "aurora-clone-manager", "action": "refresh", "cluster": clone_id})[1]
    print(f"9. a refresh of {clone_id} is asked for (as its RefreshSchedule would): {asked}")
    for tick in range(14):
        play_preparer(preparer, runtime)
        out = json.loads(runtime.invoke({"source": "aurora-clone-manager", "action": "follow-up"})[1])
        items = [i for i in out.get("items", []) if "refresh" in i]
        print(f"  scheduler tick {tick + 1}: {items[0] if items else 'no refresh pending'}")
        if not items:
            break
    after = rds.describe_db_clusters(DBClusterIdentifier=clone_id)["DBClusters"][0]
    print(f"   {clone_id}: created {before['ClusterCreateTime']} -> {after['ClusterCreateTime']} "
          f"(a new cluster under the same name), port {after['Port']}, same ARN {after['DBClusterArn'] == before['DBClusterArn']}")
    print("   (moto keeps each instance's old cluster id after a cluster rename, so it lists the old writer "
          "under the new cluster; the manager waits for a listing that names the clone's writer, which AWS "
          "gives at once: tests/refresh.rs carries a refresh to its end over fakes)")
    if after["ClusterCreateTime"] == before["ClusterCreateTime"]:
        sys.exit("the refresh did not put a new cluster under the clone's name")


def main():
    moto_port = free_port()
    moto_bin = os.path.join(ROOT, ".venv", "bin", "moto_server")
    moto = subprocess.Popen([moto_bin, "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{moto_port}"
    binary = os.environ.get("ACM_BINARY", os.path.join(ROOT, "target", "debug", "aurora-clone-manager"))
    lambda_proc = None
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", moto_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        session = LocalAws(endpoint)
        print(f"1. local AWS (moto) at {endpoint}; creating source cluster 'orders' (aurora-postgresql, subnet group, security group, writer)")
        realistic_source(session, "orders")
        stack_resources(session)
        print(f"   state table {STATE_TABLE} (pk: String, TTL on ttl), event bus {EVENT_BUS}")

        runtime = Runtime()
        env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{runtime.port}", AWS_ENDPOINT_URL=endpoint,
                   AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_REGION="us-east-1",
                   AWS_LAMBDA_FUNCTION_NAME=STACK, AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{STACK}",
                   AWS_LAMBDA_LOG_STREAM_NAME="demo", STACK_NAME=STACK, STATE_TABLE=STATE_TABLE,
                   EVENT_BUS_NAME=EVENT_BUS, ALLOWED_RESPONSE_HOSTS="127.0.0.1", LOG_LEVEL="info")
        log = open(os.path.join(ROOT, "target", "demo-lambda.log"), "w")
        lambda_proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
        print(f"2. Lambda started under a local Runtime API (logs: target/demo-lambda.log)")

        events = session.client("events")
        rule = f"{STACK}-follow-up"
        request_id, create = cfn_request(runtime, "Create", {"SourceClusterId": "orders", "CopyOk": "true",
                                                             "InstanceClass": "db.t4g.medium", "Tags": {"purpose": "demo"},
                                                             "ExpiresAfter": "PT1M", "ExpiryAction": "stop"})
        print("3. CloudFormation sends Create for Custom::AuroraClone OrdersClone")
        print(f"  invocation result: {runtime.invoke(create)[1]}")
        ticks = play_scheduler(runtime, events, rule, request_id)
        response = runtime.responses.get(request_id)
        if not response:
            sys.exit("no CloudFormation response after the follow-ups")
        body = response["body"]
        print(f"4. CloudFormation received {body['Status']} after {ticks} follow-up tick(s) "
              f"(Content-Type: {response['content_type']!r})")
        for key, value in sorted(body.get("Data", {}).items()):
            print(f"     {key:16} {value}")
        rds = session.client("rds")
        clone = rds.describe_db_clusters(DBClusterIdentifier=body["Data"]["ClusterId"])["DBClusters"][0]
        print(f"   clone {clone['DBClusterIdentifier']}: status {clone['Status']}, "
              f"writer {[m['DBInstanceIdentifier'] for m in clone['DBClusterMembers']]}")
        for tag in clone["TagList"]:
            print(f"     tag {tag['Key']} = {tag['Value']}")
        if body["Status"] != "SUCCESS":
            sys.exit(f"Create failed: {body.get('Reason')}")

        print("   maintenance config: keep 16 free clone slots of orders (the root has 14 left)")
        session.client("ssm").put_parameter(
            Name=f"/{STACK}/maintenance-config", Type="String", Overwrite=True,
            Value='{"clusters":[{"cluster-id":"orders","target-clone-slots":16}]}')
        summary = json.loads(runtime.invoke({"source": "events", "action": "maintain!"})[1])
        for source in summary.get("clusters", []):
            print(f"   maintenance: {source['cluster_id']}: copies made {source['create_ids']}, "
                  f"free slots {source['slots_free']} + {source['slots_coming']} coming")
        for copy_id in (c for s in summary.get("clusters", []) for c in s["create_ids"]):
            for i in rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [copy_id]}])["DBInstances"]:
                scaling = rds.describe_db_clusters(DBClusterIdentifier=copy_id)["DBClusters"][0].get("ServerlessV2ScalingConfiguration")
                print(f"   pool copy {copy_id}: writer {i['DBInstanceClass']}, scaling {scaling}")

        cli_env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo",
                       AWS_REGION="us-east-1", STACK_NAME=STACK, STATE_TABLE=STATE_TABLE)
        # The demo has no CloudFormation stack to name the table: without it the CLI finds no
        # ownership ledger, and `status` would show nothing as the stack's.
        cli_env.pop("AWS_LAMBDA_RUNTIME_API", None)
        for args in (["status"], ["plan", "--source", "orders"]):
            print(f"   $ aurora-clone-manager {' '.join(args)}")
            out = subprocess.run([binary, *args], env=cli_env, capture_output=True, text=True)
            print("\n".join("     " + line for line in out.stdout.rstrip().splitlines()))
            if out.returncode != 0:
                sys.exit(f"CLI {args} failed: {out.stderr}")

        expire(session, runtime, rds, clone)

        delete_id, delete = cfn_request(runtime, "Delete", {"SourceClusterId": "orders"}, physical=body["PhysicalResourceId"])
        print("5. CloudFormation sends Delete")
        runtime.invoke(delete)
        play_scheduler(runtime, events, rule, delete_id)
        answer = runtime.responses[delete_id]["body"]
        # The clone was stopped at expiry, and RDS deletes nothing stopped: the Delete started it,
        # and a follow-up deletes it once it runs.
        clusters = lambda: [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]]
        for tick in range(10):
            if clone["DBClusterIdentifier"] not in clusters():
                break
            print("  scheduler tick: the stopped clone was started so that it can be deleted; follow-up")
            runtime.invoke({"source": "aurora-clone-manager", "action": "follow-up"})
        remaining = clusters()
        print(f"6. CloudFormation received {answer['Status']} for Delete; clusters left: {remaining}")
        if answer["Status"] != "SUCCESS" or clone["DBClusterIdentifier"] in remaining or "orders" not in remaining:
            sys.exit("Delete did not remove exactly the clone")
        qa, preparer = prepared_create(session, runtime, events, rule)
        refresh(session, runtime, rds, qa["Data"]["ClusterId"], preparer)
        print("demo passed: clone created, reported ready and deleted; a prepared clone handed out "
              "after its preparer's report; a refresh's new clone under the clone's name")
    finally:
        if lambda_proc:
            lambda_proc.terminate()
        moto.terminate()


if __name__ == "__main__":
    main()
