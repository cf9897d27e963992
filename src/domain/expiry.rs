//! Clone expiry: when a clone expires and what happens then, as the resource asks it
//! (`ExpiresAfter` or `ExpiresAt`, `ExpiryAction`) and as the clone's tags record it.

use super::tags::format_time;
use super::{ident, Tags};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// When the clone expires (RFC 3339).
pub const EXPIRES_AT: &str = "aurora-clone-manager:expires-at";
/// What happens then: `notify`, `stop` or `delete`.
pub const EXPIRY_ACTION: &str = "aurora-clone-manager:expiry-action";
/// Set once the `clone-expiring` warning went out.
pub const EXPIRING_SENT: &str = "aurora-clone-manager:expiring-sent";
/// Set to the action once the expiry was acted on.
pub const EXPIRED: &str = "aurora-clone-manager:expired";
/// Set by `aurora-clone-manager extend`: the operator's extension (the stack's next change of
/// `ExpiresAfter`/`ExpiresAt` replaces it).
pub const EXTENDED: &str = "aurora-clone-manager:expiry-extended";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryAction {
    Notify,
    Stop,
    Delete,
}

impl ExpiryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryAction::Notify => "notify",
            ExpiryAction::Stop => "stop",
            ExpiryAction::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<ExpiryAction> {
        match s {
            "notify" => Some(ExpiryAction::Notify),
            "stop" => Some(ExpiryAction::Stop),
            "delete" => Some(ExpiryAction::Delete),
            _ => None,
        }
    }
}

/// What the resource asks: a lifetime from the clone's creation, or a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExpiresWhen {
    After(std::time::Duration),
    At(OffsetDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpirySpec {
    pub when: ExpiresWhen,
    pub action: ExpiryAction,
}

impl ExpirySpec {
    /// The moment, for a clone created at `created`.
    pub fn at(&self, created: OffsetDateTime) -> OffsetDateTime {
        match self.when {
            ExpiresWhen::After(d) => created + d,
            ExpiresWhen::At(t) => t,
        }
    }
}

/// A clone's expiry, as its tags record it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expiry {
    pub at: OffsetDateTime,
    pub action: ExpiryAction,
    pub warned: bool,
    /// The action already taken at expiry, if any.
    pub handled: Option<ExpiryAction>,
}

impl Expiry {
    pub fn from_tags(tags: &Tags) -> Option<Expiry> {
        Some(Expiry {
            at: OffsetDateTime::parse(tags.get(EXPIRES_AT)?, &Rfc3339).ok()?,
            action: tags
                .get(EXPIRY_ACTION)
                .and_then(|a| ExpiryAction::parse(a))
                .unwrap_or(ExpiryAction::Stop),
            warned: tags.contains_key(EXPIRING_SENT),
            handled: tags.get(EXPIRED).and_then(|a| ExpiryAction::parse(a)),
        })
    }

    /// The tags that record a (new) expiry: the warning and the handling start over.
    pub fn tags(at: OffsetDateTime, action: ExpiryAction) -> Tags {
        [
            (EXPIRES_AT.to_string(), format_time(at)),
            (EXPIRY_ACTION.to_string(), action.as_str().to_string()),
        ]
        .into()
    }

    /// The tag keys a new expiry clears.
    pub fn cleared() -> Vec<String> {
        vec![EXPIRING_SENT.into(), EXPIRED.into()]
    }
}

/// Every tag this module writes: what dropping a clone's expiry removes.
pub const TAG_KEYS: [&str; 5] = [EXPIRES_AT, EXPIRY_ACTION, EXPIRING_SENT, EXPIRED, EXTENDED];

/// True for any tag this module writes (never taken from a resource's own `Tags`).
pub fn is_expiry_tag(key: &str) -> bool {
    TAG_KEYS.contains(&key)
}

/// The two one-time schedules of a clone with an expiry: the warning's and the expiry's (names
/// unique per clone, so that making one again finds it there).
pub fn schedule_names(cluster_id: &str) -> [String; 2] {
    let stem = ident::with_suffix(cluster_id, &format!("{:08x}", ident::fnv1a(cluster_id)));
    [format!("{stem}-w"), format!("{stem}-x")]
}
