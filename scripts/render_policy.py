#!/usr/bin/env python3
"""Renders template.yaml as CloudFormation would for one set of parameters: conditions evaluated,
resources whose Condition is false dropped, every intrinsic function resolved (AWS::NoValue
removed), pseudo parameters and resource attributes replaced by fixed example values.

    render_policy.py [--template template.yaml] [--param Name=Value ...] [--out FILE]
        prints (or writes) the Role's inline policy document: what parliament audits
    render_policy.py --all [...]
        the whole rendered template (Parameters, Conditions, Resources, Outputs): what
        tests/iam*.rs, tests/template*.rs and tests/metrics.rs evaluate
    render_policy.py --cfn [...]
        the rendered template as a plain CloudFormation template (JSON): checkov reads the Role's
        policy from it (it skips a policy whose statements hold conditions like Fn::If)
    render_policy.py --policies DIR [...]
        every IAM policy document of the template, one JSON file each, into DIR
    render_policy.py --audit
        parliament (with its community auditors) on every IAM policy document, rendered for each
        parameter set of AUDITED; a finding fails the run unless ACCEPTED lists it with a reason.
        Run it with the Python that has parliament (./build.sh uses .venv/scan).

Needs only PyYAML (cfn-lint's dependency in .venv; Debian's python3-yaml elsewhere).
"""

import argparse
import json
import os
import re
import sys

import yaml

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"
STACK = "aurora-clone-manager"

NO_VALUE = object()

FUNCTIONS = ["Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split",
             "Sub", "If", "Equals", "Not", "And", "Or", "Transform", "ToJsonString", "Length"]


class Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags, as their long forms."""


def _construct(tag):
    name = "Ref" if tag == "Ref" else ("Condition" if tag == "Condition" else f"Fn::{tag}")

    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in FUNCTIONS + ["Ref", "Condition", "GetAtt"]:
    Loader.add_constructor(f"!{_tag}", _construct(_tag))


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


class Renderer:
    def __init__(self, template, overrides, stack=STACK):
        self.t = template
        self.stack = stack
        self.pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::StackName": stack,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/00000000-0000-4000-8000-000000000000",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        self.params = {}
        for name, spec in (template.get("Parameters") or {}).items():
            value = overrides.get(name, spec.get("Default"))
            if value is None:
                raise SystemExit(f"render_policy: parameter {name} has no default: pass --param {name}=...")
            value = str(value) if not isinstance(value, list) else value
            if spec.get("Type") == "CommaDelimitedList" and not isinstance(value, list):
                value = [v.strip() for v in value.split(",")]
            self.params[name] = value
        unknown = set(overrides) - set(self.params)
        if unknown:
            raise SystemExit(f"render_policy: unknown parameters {sorted(unknown)}")
        self.conditions = {}
        for name in (template.get("Conditions") or {}):
            self.condition(name)

    # --- conditions -------------------------------------------------------------------------

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = None  # cycle guard
            self.conditions[name] = bool(self.resolve(self.t["Conditions"][name]))
        if self.conditions[name] is None:
            raise SystemExit(f"render_policy: condition {name} refers to itself")
        return self.conditions[name]

    # --- references -------------------------------------------------------------------------

    def resource(self, name):
        res = (self.t.get("Resources") or {}).get(name)
        if res is None:
            raise SystemExit(f"render_policy: no resource {name}")
        return res

    def physical_id(self, name):
        """What Ref returns for a resource."""
        res = self.resource(name)
        props = res.get("Properties") or {}
        kind = res["Type"]
        named = {
            "AWS::Lambda::Function": "FunctionName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::Events::Rule": "Name",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::IAM::Role": "RoleName",
            "AWS::SSM::Parameter": "Name",
            "AWS::KMS::Alias": "AliasName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::Scheduler::ScheduleGroup": "Name",
            "AWS::Events::EventBus": "Name",
        }.get(kind)
        given = self.resolve(props.get(named)) if named and named in props else None
        if kind == "AWS::KMS::Key":
            return f"{name.lower()}-0000-4000-8000-000000000000"
        if kind == "AWS::SQS::Queue":
            queue = given or f"{self.stack}-{name}-EXAMPLE"
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue}"
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{self.stack}-{name}-EXAMPLE"
        if kind == "AWS::Events::Rule":
            return given or f"{self.stack}-{name}-EXAMPLE"
        return given or f"{self.stack}-{name}-EXAMPLE"

    def attribute(self, name, attr):
        res = self.resource(name)
        kind = res["Type"]
        ref = self.physical_id(name)
        p, r, a = PARTITION, REGION, ACCOUNT
        if attr == "Arn":
            arns = {
                "AWS::IAM::Role": f"arn:{p}:iam::{a}:role/{ref}",
                "AWS::Lambda::Function": f"arn:{p}:lambda:{r}:{a}:function:{ref}",
                "AWS::Logs::LogGroup": f"arn:{p}:logs:{r}:{a}:log-group:{ref}:*",
                "AWS::KMS::Key": f"arn:{p}:kms:{r}:{a}:key/{ref}",
                "AWS::Events::Rule": f"arn:{p}:events:{r}:{a}:rule/{ref}",
                "AWS::DynamoDB::Table": f"arn:{p}:dynamodb:{r}:{a}:table/{ref}",
                "AWS::SQS::Queue": f"arn:{p}:sqs:{r}:{a}:{ref.rsplit('/', 1)[-1]}",
                "AWS::Scheduler::ScheduleGroup": f"arn:{p}:scheduler:{r}:{a}:schedule-group/{ref}",
                "AWS::Events::EventBus": f"arn:{p}:events:{r}:{a}:event-bus/{ref}",
            }
            if kind in arns:
                return arns[kind]
        if kind == "AWS::SQS::Queue" and attr == "QueueName":
            return ref.rsplit("/", 1)[-1]
        if kind == "AWS::KMS::Key" and attr == "KeyId":
            return ref
        if kind == "AWS::IAM::Role" and attr == "RoleId":
            return "AROAEXAMPLE" + name.upper()
        if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
            return f"<{name}.{attr}>"
        raise SystemExit(f"render_policy: no example value for {name}.{attr} ({kind})")

    def ref(self, name):
        if name in self.pseudo:
            return self.pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.params:
            return self.params[name]
        return self.physical_id(name)

    def sub(self, text, variables):
        def one(m):
            inner = m.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                value = variables[inner]
            elif "." in inner and inner.split(".", 1)[0] in (self.t.get("Resources") or {}):
                value = self.attribute(*inner.split(".", 1))
            else:
                value = self.ref(inner)
            if isinstance(value, list):
                raise SystemExit(f"render_policy: ${{{inner}}} is a list in Fn::Sub")
            return str(value)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    # --- functions --------------------------------------------------------------------------

    def resolve(self, node):
        if isinstance(node, list):
            out = [self.resolve(v) for v in node]
            return [v for v in out if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self.function(key[4:], arg)
        out = {}
        for k, v in node.items():
            v = self.resolve(v)
            if v is not NO_VALUE:
                out[k] = v
        return out

    def function(self, name, arg):
        if name == "If":
            cond, yes, no = arg
            return self.resolve(yes if self.condition(cond) else no)
        if name == "Equals":
            a, b = (self.resolve(v) for v in arg)
            return a == b
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "And":
            return all(self.resolve(v) for v in arg)
        if name == "Or":
            return any(self.resolve(v) for v in arg)
        if name == "Join":
            sep, values = arg
            values = self.resolve(values)
            return self.resolve(sep).join(str(v) for v in values)
        if name == "Split":
            sep, text = arg
            return self.resolve(text).split(self.resolve(sep))
        if name == "Select":
            index, values = arg
            values = self.resolve(values)
            return values[int(self.resolve(index))]
        if name == "Sub":
            if isinstance(arg, str):
                return self.sub(arg, {})
            text, variables = arg
            return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})
        if name == "GetAtt":
            res, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.attribute(res, self.resolve(attr))
        if name == "ImportValue":
            return f"import:{self.resolve(arg)}"
        if name == "GetAZs":
            return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
        if name == "Base64":
            return self.resolve(arg)
        raise SystemExit(f"render_policy: Fn::{name} is not rendered")

    # --- the template -----------------------------------------------------------------------

    def render(self):
        resources = {}
        for name, res in (self.t.get("Resources") or {}).items():
            if "Condition" in res and not self.condition(res["Condition"]):
                continue
            out = {k: v for k, v in res.items() if k not in ("Properties", "Metadata")}
            if "Properties" in res:
                out["Properties"] = self.resolve(res["Properties"])
            if "Metadata" in res:
                out["Metadata"] = res["Metadata"]
            resources[name] = out
        outputs = {}
        for name, out in (self.t.get("Outputs") or {}).items():
            if "Condition" in out and not self.condition(out["Condition"]):
                continue
            outputs[name] = self.resolve(out)
        return {
            "Pseudo": {k: v for k, v in self.pseudo.items() if isinstance(v, str)},
            "Parameters": self.params,
            "Conditions": self.conditions,
            "Resources": resources,
            "Outputs": outputs,
        }


def policy_documents(rendered):
    """Every IAM policy document in the rendered template, by a file-friendly name."""
    docs = {}
    for name, res in rendered["Resources"].items():
        props = res.get("Properties") or {}
        if res["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies") or []:
                docs[f"{name}-{policy['PolicyName']}"] = policy["PolicyDocument"]
        elif res["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            docs[name] = props["PolicyDocument"]
    return docs


# The parameter sets the audit renders: the defaults, and every option that changes the policies.
AUDITED = {
    # AllowedSources has no default: "*" (any source) is the widest a deployer may choose.
    "defaults, any source": {"AllowedSources": "*"},
    "no prefix, any source": {"ClusterIdPrefix": "", "AllowedSources": "*"},
    "prefix, source ids, secret prefixes, readers, no verification": {
        "ClusterIdPrefix": "clone-",
        "AllowedSources": "orders,billing",
        "AllowedSecretPrefixes": "/team-a/,/team-b/",
        "AllowedReaderAccounts": "111122223333",
        "VerifyStackRequests": "false",
    },
    "prefix, a tag entry among the sources": {
        "ClusterIdPrefix": "clone-",
        "AllowedSources": "orders,clone-source=yes",
    },
    "default access for groups and roles": {
        "AllowedSources": "*",
        "SetupDefaultAccess": "true",
        "DefaultAccessGroups": "dba",
        "DefaultAccessRoles": "developers",
    },
}

# Findings accepted after review, each with its reason: (issue, the actions it names) -> why.
# Anything else parliament reports fails the audit.
ACCEPTED = {
    # KMS authorizes the Tags of CreateKey as kms:TagResource "in an IAM policy that isn't
    # restricted to particular KMS keys" (KMS Developer Guide, Controlling access to tags). The
    # statement requires our managed-by and for-secret tags in the request; a tag on a key gives
    # this role nothing (no statement keys on a key's tags, and a key's policy names the role).
    ("RESOURCE_STAR", ("kms:TagResource",)): "tags given at CreateKey",
    # The community auditor lists every permissions-management action. Each is what the function
    # does, bounded: reader policies on its own secrets (PutResourcePolicy only with the
    # public-policy block) and their removal; keys it creates (whose rights come from their own
    # policy); grants that RDS makes on a source's key for a clone (kms:ViaService rds,
    # kms:GrantIsForAWSResource); passing ExpiryRole (which may only invoke this function) to
    # EventBridge Scheduler alone.
    ("PERMISSIONS_MANAGEMENT_ACTIONS", (
        "iam:passrole", "kms:creategrant", "kms:createkey",
        "secretsmanager:deleteresourcepolicy", "secretsmanager:putresourcepolicy",
    )): "the function's own bounded grants",
}


def finding_key(finding):
    detail = finding.detail
    if isinstance(finding.location, dict) and "actions" in finding.location:
        actions = finding.location["actions"]
    elif isinstance(detail, list) and all(isinstance(a, str) for a in detail):
        actions = detail
    else:
        actions = [json.dumps(detail, sort_keys=True)]
    return (finding.issue, tuple(sorted(actions)))


def audit(template_path, stack):
    """parliament on every policy document of every AUDITED rendering; returns the failures."""
    import pathlib

    import parliament
    from parliament import analyze_policy_string, enhance_finding, override_config

    override_config(pathlib.Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")
    template = load(template_path)
    failures, accepted = [], set()
    for label, params in AUDITED.items():
        rendered = Renderer(template, params, stack).render()
        for name, doc in policy_documents(rendered).items():
            policy = analyze_policy_string(json.dumps(doc, indent=2), f"{name} ({label})",
                                           include_community_auditors=True, config=parliament.config)
            for finding in policy.findings:
                finding = enhance_finding(finding)
                key = finding_key(finding)
                if key in ACCEPTED:
                    accepted.add(key)
                    continue
                failures.append(f"{finding.severity} {finding.issue} {finding.title}: {finding.detail} "
                                f"in {name} ({label}) at {finding.location}")
    for key in ACCEPTED.keys() - accepted:
        failures.append(f"ACCEPTED lists {key}, which no rendering reports any more: remove it")
    return failures


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", default=os.path.join(here, "template.yaml"))
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--stack", default=STACK)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--all", action="store_true", help="the whole rendered template")
    mode.add_argument("--policies", metavar="DIR", help="every IAM policy document into DIR")
    mode.add_argument("--audit", action="store_true", help="parliament on every rendering")
    mode.add_argument("--cfn", action="store_true", help="a plain rendered CloudFormation template")
    ap.add_argument("--out", help="write here instead of standard output")
    args = ap.parse_args()

    if args.audit:
        failures = audit(args.template, args.stack)
        for f in failures:
            print(f"parliament: {f}", file=sys.stderr)
        if failures:
            sys.exit(1)
        print(f"parliament: {len(AUDITED)} renderings, no finding beyond the {len(ACCEPTED)} accepted ones")
        return

    overrides = {}
    for p in args.param:
        name, sep, value = p.partition("=")
        if not sep:
            ap.error(f"--param {p}: expected NAME=VALUE")
        overrides[name] = value
    rendered = Renderer(load(args.template), overrides, args.stack).render()

    if args.policies:
        os.makedirs(args.policies, exist_ok=True)
        for name, doc in policy_documents(rendered).items():
            with open(os.path.join(args.policies, f"{name}.json"), "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=2)
        return
    if args.all:
        result = rendered
    elif args.cfn:
        result = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": f"template.yaml rendered with {overrides or 'its defaults'}",
            "Resources": rendered["Resources"],
            "Outputs": rendered["Outputs"],
        }
    else:
        result = rendered["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]
    text = json.dumps(result, indent=2, sort_keys=False)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
