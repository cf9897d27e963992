//! The preparation step: before a clone is handed out, a preparer (masking, fixtures) is asked
//! by a `clone-prepare` event carrying a single-use token, and reports by invoking the function
//! with it. The token is random, stored only as its SHA-256, bound to one request's clone, and
//! spent by the first report.

use serde::{Deserialize, Serialize};

/// A preparation asked for, as the request's record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preparation {
    /// SHA-256 of the token, hex. The token itself is never stored or logged.
    pub token_hash: String,
    /// Unix seconds after which a report is too late and the request fails.
    pub until: i64,
    /// `clone-prepare` went out with this token.
    #[serde(default)]
    pub event_sent: bool,
    /// What the preparer reported (the token is spent once this is set).
    #[serde(default)]
    pub report: Option<Report>,
    /// After `ok`: the clone's readers are `AccessPrincipalArns` (no longer the preparers).
    #[serde(default)]
    pub readers_set: bool,
}

/// A preparer's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub ok: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A new single-use token: 256 random bits, hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// The token's SHA-256, hex: what is stored and compared.
pub fn token_hash(token: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The longest reason kept from a report (it is passed to CloudFormation, which shows it).
pub const MAX_REASON: usize = 400;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert!(!token_hash(&a).contains(&a));
        // SHA-256 of "abc", as FIPS 180-2 gives it.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
