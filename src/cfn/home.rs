//! Where this function lives: the partition, region and account whose RDS clusters can be its
//! clones. A PhysicalResourceId names one of its clusters only when its ARN is spelled exactly as
//! RDS spells the ARNs of this account and region; any other spelling (an empty region or
//! account, another partition or account, upper case, extra colons) names no cluster of ours,
//! however its last part reads, since RDS itself matches identifiers case-insensitively.

use crate::domain::ident::{well_formed, ClusterArn};

/// The function's own partition, region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub partition: String,
    /// Unknown when only the role's ARN is (IAM ARNs carry no region).
    pub region: Option<String>,
    pub account: String,
}

impl Home {
    /// From the function's own ARN (`arn:<partition>:lambda:<region>:<account>:function:...`),
    /// or else the role's (`arn:<partition>:iam::<account>:role/...`).
    pub fn of(function_arn: Option<&str>, role_arn: Option<&str>) -> Option<Home> {
        let from = |arn: &str, with_region: bool| {
            let parts: Vec<&str> = arn.split(':').collect();
            let ok = parts.len() >= 6 && parts[0] == "arn" && well_formed(&parts[1..5], false);
            let region = (with_region && !parts[3].is_empty()).then(|| parts[3].to_string());
            ok.then(|| Home {
                partition: parts[1].to_string(),
                region,
                account: parts[4].to_string(),
            })
        };
        function_arn
            .and_then(|a| from(a, true))
            .or_else(|| role_arn.and_then(|a| from(a, false)))
    }

    fn holds(&self, partition: &str, region: &str, account: &str) -> bool {
        self.partition == partition
            && account == self.account
            && self.region.as_deref().is_none_or(|r| r == region)
    }
}

/// The cluster an RDS cluster ARN names, when it is spelled as RDS spells it and, with a `home`,
/// lies in it.
pub fn cluster_of<'a>(arn: &'a str, home: Option<&Home>) -> Option<&'a str> {
    ClusterArn::parse(arn)
        .filter(|a| home.is_none_or(|h| h.holds(a.partition, a.region, a.account)))
        .map(|a| a.cluster_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "arn:aws:rds:us-east-1:123456789012:cluster:team-b-clone";

    fn home() -> Home {
        Home::of(
            Some("arn:aws:lambda:us-east-1:123456789012:function:acm"),
            None,
        )
        .expect("home")
    }

    #[test]
    fn only_our_spelling_names_a_cluster() {
        assert_eq!(cluster_of(ID, Some(&home())), Some("team-b-clone"));
        assert_eq!(cluster_of(ID, None), Some("team-b-clone"));
        for bad in [
            "arn:aws:rds:::cluster:team-b-clone",
            "arn:aws:rds:us-east-1::cluster:team-b-clone",
            "arn:aws:rds:us-east-1:210987654321:cluster:team-b-clone",
            "arn:aws-cn:rds:us-east-1:123456789012:cluster:team-b-clone",
            "arn:aws:rds:eu-west-1:123456789012:cluster:team-b-clone",
            "arn:aws:rds:us-east-1:123456789012:cluster:Team-B-Clone",
            "ARN:aws:rds:us-east-1:123456789012:cluster:team-b-clone",
            "arn:AWS:rds:us-east-1:123456789012:cluster:team-b-clone",
            "arn:aws:RDS:us-east-1:123456789012:cluster:team-b-clone",
            "arn:aws:rds:us-east-1:123456789012:CLUSTER:team-b-clone",
            "arn:aws:rds:us-east-1:123456789012:cluster:team-b-clone:",
            "arn:aws:rds:us-east-1:123456789012:cluster::team-b-clone",
            "arn:aws:rds:us-east-1:123456789012:cluster:team-b-clone:x",
            "arn:aws:rds:us-east-1:123456789012:db:team-b-clone",
            "arn:aws:rds:us-east-1:123456789012:cluster: team-b-clone",
        ] {
            assert_eq!(cluster_of(bad, Some(&home())), None, "{bad}");
        }
    }

    #[test]
    fn home_comes_from_the_function_or_else_the_role() {
        let role = Home::of(None, Some("arn:aws-cn:iam::123456789012:role/acm")).expect("role");
        assert_eq!(
            (role.partition.as_str(), role.region.as_deref()),
            ("aws-cn", None)
        );
        let id = "arn:aws-cn:rds:cn-north-1:123456789012:cluster:c";
        assert_eq!(cluster_of(id, Some(&role)), Some("c"));
        assert_eq!(cluster_of(ID, Some(&role)), None, "another partition");
        assert_eq!(Home::of(Some("arn:aws:lambda:::function:x"), None), None);
        assert_eq!(Home::of(None, None), None);
    }
}
