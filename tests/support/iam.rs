//! The stack's permissions as the IAM tests evaluate them: the template rendered for some
//! parameters (`render`), its function's role, and each AWS call the function makes written as
//! the authorizations AWS makes for it (`policy::Request`s).

use super::policy::{self, allows, Request};
use super::render::{arn, properties, render, role_arn, role_policy, ACCOUNT, REGION, STACK};
use aurora_clone_manager::domain::tags::{self, MANAGED_BY};
use serde_json::Value;

pub const PREFIX: &str = "clone-";
pub const DEPLOYER: &str = "arn:aws:iam::123456789012:role/deployer";
pub const DEVELOPERS: &str = "arn:aws:iam::123456789012:role/developers";

pub type Tags<'a> = &'a [(&'a str, &'a str)];

/// The tags the function writes at creation (owner first; lineage and the user's tags after).
pub const OURS: Tags = &[
    (MANAGED_BY, STACK),
    (tags::ROLE, "clone"),
    ("team", "payments"),
];

pub fn cluster(id: &str) -> String {
    arn("rds", &format!("cluster:{id}"))
}

pub fn db(id: &str) -> String {
    arn("rds", &format!("db:{id}"))
}

pub fn secret(name: &str) -> String {
    arn("secretsmanager", &format!("secret:{name}-AbCdEf"))
}

pub fn key(id: &str) -> String {
    arn("kms", &format!("key/{id}"))
}

/// The stack rendered with some parameters, and its function's role.
pub struct Stack {
    pub rendered: Value,
    pub role: String,
}

impl Stack {
    pub fn new(params: &[(&str, &str)]) -> Stack {
        let rendered = render(params);
        let role = role_arn(&rendered);
        Stack { rendered, role }
    }

    pub fn iam(&self) -> &Value {
        role_policy(&self.rendered)
    }

    pub fn req(&self, action: &str, resource: &str) -> Request {
        Request::new(&self.role, action, resource)
    }

    /// The authorizations of a call that the role's policy refuses, as readable lines.
    pub fn refused(&self, auths: &[Request]) -> Vec<String> {
        auths
            .iter()
            .filter(|r| !allows(self.iam(), r))
            .map(|r| format!("{} on {} {:?}", r.action, r.resource, r.context))
            .collect()
    }

    pub fn assert_allowed(&self, what: &str, auths: &[Request]) {
        let refused = self.refused(auths);
        assert!(refused.is_empty(), "{what}: refused {refused:#?}");
    }

    pub fn assert_refused(&self, what: &str, auths: &[Request]) {
        assert!(
            !self.refused(auths).is_empty(),
            "{what}: every authorization was allowed"
        );
    }

    // --- the calls, as AWS authorizes them ---------------------------------------------------

    pub fn restore(
        &self,
        target: &str,
        source: &str,
        source_tags: Tags,
        tags: Tags,
    ) -> Vec<Request> {
        let r = |res: &str| {
            self.req("rds:RestoreDBClusterToPointInTime", res)
                .request_tags(tags)
        };
        vec![
            r(&cluster(target)),
            r(&cluster(source)).resource_tags(source_tags),
            r(&arn("rds", "subgrp:orders-subnets")),
            r(&arn("rds", "cluster-pg:default.aurora-postgresql16")),
            r(&arn("rds", "og:default:aurora-postgresql-16")),
            self.req("rds:AddTagsToResource", &cluster(target))
                .request_tags(tags),
        ]
    }

    pub fn create_instance(
        &self,
        instance: &str,
        cluster_id: &str,
        cluster_tags: Tags,
        tags: Tags,
    ) -> Vec<Request> {
        let r = |res: &str| self.req("rds:CreateDBInstance", res).request_tags(tags);
        vec![
            r(&db(instance)),
            r(&cluster(cluster_id)).resource_tags(cluster_tags),
            r(&arn("rds", "pg:default.aurora-postgresql16")),
            self.req("rds:AddTagsToResource", &db(instance))
                .request_tags(tags),
        ]
    }

    pub fn on(&self, action: &str, resource: &str, resource_tags: Tags) -> Vec<Request> {
        vec![self.req(action, resource).resource_tags(resource_tags)]
    }

    /// `ModifyDBCluster` with a new identifier. RDS authorizes it on the cluster by its name;
    /// the name it takes is written too, as the same cluster (its tags go with it), so that the
    /// policy is held to both names whether or not AWS also authorizes the new one.
    pub fn rename_cluster(&self, from: &str, to: &str, tags: Tags) -> Vec<Request> {
        [from, to]
            .iter()
            .map(|id| {
                self.req("rds:ModifyDBCluster", &cluster(id))
                    .resource_tags(tags)
            })
            .collect()
    }

    /// `ModifyDBInstance` with a new identifier, written as `rename_cluster`'s.
    pub fn rename_instance(&self, from: &str, to: &str, tags: Tags) -> Vec<Request> {
        [from, to]
            .iter()
            .map(|id| {
                self.req("rds:ModifyDBInstance", &db(id))
                    .resource_tags(tags)
            })
            .collect()
    }

    pub fn tag(&self, resource: &str, resource_tags: Tags, tags: Tags) -> Vec<Request> {
        vec![self
            .req("rds:AddTagsToResource", resource)
            .resource_tags(resource_tags)
            .request_tags(tags)]
    }

    pub fn create_secret(&self, name: &str, tags: Tags) -> Vec<Request> {
        vec![
            self.req("secretsmanager:CreateSecret", &secret(name))
                .request_tags(tags),
            self.req("secretsmanager:TagResource", &secret(name))
                .request_tags(tags),
        ]
    }

    pub fn put_secret_policy(&self, name: &str, block_public: bool) -> Vec<Request> {
        vec![self
            .req("secretsmanager:PutResourcePolicy", &secret(name))
            .with(
                "secretsmanager:BlockPublicPolicy",
                &block_public.to_string(),
            )]
    }

    pub fn create_key(&self, tags: Tags) -> Vec<Request> {
        vec![
            self.req("kms:CreateKey", "*").request_tags(tags),
            self.req("kms:TagResource", "*").request_tags(tags),
        ]
    }

    pub fn via(&self, service: &str, action: &str, resource: &str) -> Request {
        self.req(action, resource)
            .with(
                "kms:ViaService",
                &format!("{service}.{REGION}.amazonaws.com"),
            )
            .with("kms:CallerAccount", ACCOUNT)
    }
}

pub fn with_prefix() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ClusterIdPrefix", PREFIX),
        ("AllowedSources", "orders,billing"),
    ]
}

/// A key's policy as the stack renders it.
pub fn key_policy_of(rendered: &Value, key: &str) -> Value {
    properties(rendered, key)["KeyPolicy"].clone()
}

/// Is a trust policy's answer an Allow?
pub fn evaluate_trust(trust: &Value, req: &Request) -> bool {
    policy::evaluate(trust, req, true) == policy::Decision::Allowed
}
