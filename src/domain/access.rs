//! What a stack allows to be cloned, and to whom a clone's secret may be given.

use super::Cluster;

/// A source the stack allows cloning: by identifier, or by a tag the source carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRule {
    Id(String),
    Tag(String, String),
}

/// True when `rules` is empty (any source) or one of them admits `cluster`.
pub fn source_allowed(rules: &[SourceRule], cluster: &Cluster) -> bool {
    rules.is_empty()
        || rules.iter().any(|r| match r {
            SourceRule::Id(id) => *id == cluster.id,
            SourceRule::Tag(k, v) => cluster.tags.get(k) == Some(v),
        })
}

/// The account of an ARN (`arn:partition:service:region:account:...`).
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// A secret's name from its ARN (`...:secret:<name>-<6 random characters>`).
pub fn secret_name(arn: &str) -> String {
    let tail = arn.split_once(":secret:").map(|(_, t)| t).unwrap_or(arn);
    match tail.rsplit_once('-') {
        Some((name, suffix)) if suffix.len() == 6 => name.to_string(),
        _ => tail.to_string(),
    }
}

/// The principals of `arns` outside `own` and `allowed` accounts (or not ARNs at all).
pub fn foreign_principals<'a>(arns: &'a [String], own: &str, allowed: &[String]) -> Vec<&'a str> {
    arns.iter()
        .filter(|a| match account_of(a) {
            Some(acct) => acct != own && !allowed.iter().any(|x| x == acct),
            None => true,
        })
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_readers() {
        let mut c = Cluster::new("orders", "available");
        assert!(source_allowed(&[], &c));
        assert!(source_allowed(&[SourceRule::Id("orders".into())], &c));
        let by_tag = [SourceRule::Tag("clonable".into(), "yes".into())];
        assert!(!source_allowed(&by_tag, &c));
        c.tags.insert("clonable".into(), "yes".into());
        assert!(source_allowed(&by_tag, &c));
        let arns = vec![
            "arn:aws:iam::111111111111:role/dev".to_string(),
            "arn:aws:iam::222222222222:role/partner".to_string(),
            "*".to_string(),
        ];
        assert_eq!(
            foreign_principals(&arns, "111111111111", &[]),
            vec!["arn:aws:iam::222222222222:role/partner", "*"]
        );
        assert_eq!(
            foreign_principals(&arns, "111111111111", &["222222222222".into()]),
            vec!["*"]
        );
    }
}
