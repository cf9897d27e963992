//! Estimated monthly cost of clones and pool copies: storage from the volume's size as
//! CloudWatch reports it (`VolumeBytesUsed`; unknown when unreadable, never guessed) and compute
//! from the writer's class hours or its Serverless v2 minimum, at the prices of a table the
//! maintenance config may override (`prices`). Defaults: Aurora Standard, on demand, us-east-1,
//! as published in 2026; a month is 730 hours.

use serde::Serialize;
use std::collections::BTreeMap;

pub const HOURS_PER_MONTH: f64 = 730.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Prices in USD.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    pub storage_gb_month: f64,
    pub acu_hour: f64,
    /// Per instance class, per hour.
    pub instance_hour: BTreeMap<String, f64>,
}

impl Default for Prices {
    fn default() -> Prices {
        let classes = [
            ("db.t4g.medium", 0.073),
            ("db.t3.medium", 0.082),
            ("db.r4.large", 0.29),
            ("db.r5.large", 0.29),
            ("db.r6g.large", 0.26),
            ("db.r6i.large", 0.29),
            ("db.r7g.large", 0.276),
            ("db.r6g.xlarge", 0.519),
            ("db.r7g.xlarge", 0.553),
        ];
        Prices {
            storage_gb_month: 0.10,
            acu_hour: 0.12,
            instance_hour: classes.iter().map(|(c, p)| (c.to_string(), *p)).collect(),
        }
    }
}

/// What a cluster's compute is: its writers' classes, and the Serverless v2 minimum if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Compute {
    pub classes: Vec<String>,
    pub min_capacity: Option<f64>,
}

/// A month's estimate; `None` where it cannot be known.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Cost {
    pub storage_usd: Option<f64>,
    pub compute_usd: Option<f64>,
    pub volume_bytes: Option<u64>,
}

impl Cost {
    pub fn total(&self) -> Option<f64> {
        Some(self.storage_usd? + self.compute_usd?)
    }

    /// Sums, unknown if any part is.
    pub fn sum(costs: &[Cost]) -> Cost {
        costs.iter().fold(
            Cost {
                storage_usd: Some(0.0),
                compute_usd: Some(0.0),
                volume_bytes: Some(0),
            },
            |a, c| Cost {
                storage_usd: a.storage_usd.zip(c.storage_usd).map(|(x, y)| x + y),
                compute_usd: a.compute_usd.zip(c.compute_usd).map(|(x, y)| x + y),
                volume_bytes: a.volume_bytes.zip(c.volume_bytes).map(|(x, y)| x + y),
            },
        )
    }

    /// `$12.34 storage + $0.00 compute`, with `?` for what is unknown.
    pub fn describe(&self) -> String {
        let usd = |v: Option<f64>| v.map_or("$?".to_string(), |v| format!("${v:.2}"));
        format!(
            "{} storage + {} compute",
            usd(self.storage_usd),
            usd(self.compute_usd)
        )
    }
}

/// A cluster's month: `bytes` as CloudWatch reports the volume, `compute` as its writers are.
pub fn estimate(bytes: Option<u64>, compute: &Compute, prices: &Prices) -> Cost {
    let serverless = compute
        .classes
        .iter()
        .any(|c| c == super::capacity::SERVERLESS);
    let provisioned: Option<f64> = compute
        .classes
        .iter()
        .filter(|c| c.as_str() != super::capacity::SERVERLESS)
        .map(|c| prices.instance_hour.get(c).copied())
        .sum();
    let acus = match serverless {
        true => compute.min_capacity.map(|m| m * prices.acu_hour),
        false => Some(0.0),
    };
    Cost {
        storage_usd: bytes.map(|b| b as f64 / GIB * prices.storage_gb_month),
        compute_usd: provisioned
            .zip(acus)
            .map(|(p, a)| (p + a) * HOURS_PER_MONTH),
        volume_bytes: bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compute(classes: &[&str], min: Option<f64>) -> Compute {
        Compute {
            classes: classes.iter().map(|c| c.to_string()).collect(),
            min_capacity: min,
        }
    }

    #[test]
    fn the_originals_idle_copy_costs_about_210_a_month_and_a_paused_one_storage_only() {
        let p = Prices::default();
        let r4 = estimate(Some(0), &compute(&["db.r4.large"], None), &p);
        assert!((r4.compute_usd.unwrap() - 211.7).abs() < 0.1);
        let paused = estimate(
            Some(50 * 1024 * 1024 * 1024),
            &compute(&["db.serverless"], Some(0.0)),
            &p,
        );
        assert_eq!(paused.compute_usd, Some(0.0));
        assert!(
            (paused.storage_usd.unwrap() - 5.0).abs() < 1e-9,
            "50 GiB at $0.10"
        );
        let half = estimate(None, &compute(&["db.serverless"], Some(0.5)), &p);
        assert!((half.compute_usd.unwrap() - 43.8).abs() < 1e-9);
        assert_eq!(
            half.storage_usd, None,
            "no size read: unknown, never guessed"
        );
        assert_eq!(half.total(), None);
    }

    #[test]
    fn unknown_classes_and_sizes_stay_unknown_in_sums() {
        let p = Prices::default();
        let odd = estimate(Some(0), &compute(&["db.x2g.16xlarge"], None), &p);
        assert_eq!(odd.compute_usd, None);
        let known = estimate(Some(GIB as u64), &compute(&["db.r6g.large"], None), &p);
        let sum = Cost::sum(&[known, odd]);
        assert_eq!(sum.compute_usd, None);
        assert!((sum.storage_usd.unwrap() - 0.10).abs() < 1e-9);
        assert_eq!(sum.describe(), "$0.10 storage + $? compute");
    }
}
