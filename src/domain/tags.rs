//! The tags this tool writes on clusters and instances: ownership (which stack and resource a
//! clone belongs to, so that Delete can prove it created it) and lineage (what it was cloned from
//! and how old its data is, so that the planner can count slots and ages).

use super::Tags;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const PREFIX: &str = "aurora-clone-manager:";
pub const MANAGED_BY: &str = "aurora-clone-manager:managed-by";
pub const ROLE: &str = "aurora-clone-manager:role";
pub const STACK_ID: &str = "aurora-clone-manager:stack-id";
pub const LOGICAL_ID: &str = "aurora-clone-manager:logical-id";
pub const REQUEST_ID: &str = "aurora-clone-manager:request-id";
pub const ROOT: &str = "aurora-clone-manager:root";
pub const SOURCE: &str = "aurora-clone-manager:source";
pub const DATA_TIMESTAMP: &str = "aurora-clone-manager:data-timestamp";
/// The ARN of the clone's password secret.
pub const PASSWORD_SECRET: &str = "aurora-clone-manager:password-secret";
/// The KMS key of that secret (the caller's, the stack's default, or one created for the clone).
pub const PASSWORD_KEY: &str = "aurora-clone-manager:password-key";
/// Set when the key was created by this tool for this clone alone (deleted with it).
pub const CREATED_KEY: &str = "aurora-clone-manager:created-key";
/// On a secret (and a key made for one clone): the clone it belongs to.
pub const CLUSTER: &str = "aurora-clone-manager:cluster";
/// On a secret: the request that set the password it holds (an earlier attempt of the same
/// request may adopt it; nothing else may).
pub const SECRET_REQUEST: &str = "aurora-clone-manager:secret-request";
/// On a key made for one clone: the name of the secret it encrypts (how a key whose id was never
/// recorded is found again).
pub const FOR_SECRET: &str = "aurora-clone-manager:for-secret";
/// Set on a pool copy once its ready event was sent.
pub const READY_EVENT: &str = "aurora-clone-manager:ready-event";
/// `set` once the password change was sent to RDS.
pub const PASSWORD_STATE: &str = "aurora-clone-manager:password-state";

/// What a managed cluster is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A copy-on-write clone owned by one CloudFormation resource.
    Clone,
    /// A full copy of a root, kept in the pool to host more clones. Only maintenance retires it.
    Copy,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clone => "clone",
            Role::Copy => "copy",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "clone" => Some(Role::Clone),
            "copy" => Some(Role::Copy),
            _ => None,
        }
    }
}

/// Who owns a managed cluster: the manager stack, and for clones the consumer resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    pub managed_by: String,
    pub role: Role,
    pub stack_id: Option<String>,
    pub logical_id: Option<String>,
    pub request_id: Option<String>,
}

impl Ownership {
    pub fn from_tags(tags: &Tags) -> Option<Ownership> {
        Some(Ownership {
            managed_by: tags.get(MANAGED_BY)?.clone(),
            role: Role::parse(tags.get(ROLE)?)?,
            stack_id: tags.get(STACK_ID).cloned(),
            logical_id: tags.get(LOGICAL_ID).cloned(),
            request_id: tags.get(REQUEST_ID).cloned(),
        })
    }

    pub fn write(&self, tags: &mut Tags) {
        tags.insert(MANAGED_BY.into(), self.managed_by.clone());
        tags.insert(ROLE.into(), self.role.as_str().into());
        for (k, v) in [
            (STACK_ID, &self.stack_id),
            (LOGICAL_ID, &self.logical_id),
            (REQUEST_ID, &self.request_id),
        ] {
            if let Some(v) = v {
                tags.insert(k.into(), v.clone());
            }
        }
    }

    /// True when this is a clone created by `manager` for the given consumer resource.
    pub fn is_clone_of_resource(&self, manager: &str, stack_id: &str, logical_id: &str) -> bool {
        self.managed_by == manager
            && self.role == Role::Clone
            && self.stack_id.as_deref() == Some(stack_id)
            && self.logical_id.as_deref() == Some(logical_id)
    }
}

/// Where a managed cluster's data came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    /// The root: the production cluster at the top of the family.
    pub root: String,
    /// The cluster actually restored from (the root or a pool copy).
    pub source: String,
    /// When the data was taken from the root.
    pub data_timestamp: OffsetDateTime,
}

impl Lineage {
    pub fn from_tags(tags: &Tags) -> Option<Lineage> {
        Some(Lineage {
            root: tags.get(ROOT)?.clone(),
            source: tags.get(SOURCE)?.clone(),
            data_timestamp: OffsetDateTime::parse(tags.get(DATA_TIMESTAMP)?, &Rfc3339).ok()?,
        })
    }

    pub fn write(&self, tags: &mut Tags) {
        tags.insert(ROOT.into(), self.root.clone());
        tags.insert(SOURCE.into(), self.source.clone());
        tags.insert(DATA_TIMESTAMP.into(), format_time(self.data_timestamp));
    }
}

/// RFC 3339 in UTC, whole seconds: the one time format in tags, Data and events.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// The user's tags, less any that would impersonate this tool's own.
pub fn user_tags(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| !k.starts_with(PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
