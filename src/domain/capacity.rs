//! Aurora Serverless v2 capacity: the range a `db.serverless` writer scales in, parsed strictly,
//! and which engine versions can pause at zero (auto-pause).

/// Aurora capacity units, in steps of half an ACU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    pub min: f64,
    pub max: f64,
}

/// The instance class of a Serverless v2 instance.
pub const SERVERLESS: &str = "db.serverless";

/// What a serverless clone scales in when the resource names no range.
pub const DEFAULT_CLONE_CAPACITY: Capacity = Capacity { min: 0.5, max: 8.0 };

/// Aurora's limits: 0 (auto-pause, where supported) or 0.5 to 256 ACUs, in half units; the
/// maximum at least 1 and not below the minimum.
pub fn check(c: Capacity) -> Result<(), String> {
    let half_units = |v: f64| (v * 2.0).fract() == 0.0;
    if !(half_units(c.min) && half_units(c.max)) {
        return Err(format!(
            "capacities are in steps of 0.5 ACU, got {} to {}",
            c.min, c.max
        ));
    }
    if !(0.0..=256.0).contains(&c.min) || !(1.0..=256.0).contains(&c.max) {
        return Err(format!(
            "MinCapacity must be 0 to 256 and MaxCapacity 1 to 256 ACUs, got {} to {}",
            c.min, c.max
        ));
    }
    if c.min > c.max {
        return Err(format!(
            "MinCapacity {} is above MaxCapacity {}",
            c.min, c.max
        ));
    }
    Ok(())
}

/// True when the engine version can pause a Serverless v2 instance at 0 ACUs: Aurora
/// PostgreSQL 13.15+, 14.12+, 15.7+, 16.3+ (and later majors); Aurora MySQL 3.08+.
pub fn auto_pause_supported(engine: &str, version: &str) -> bool {
    let parts: Vec<u32> = version
        .split(['.', '-'])
        .map_while(|p| p.parse().ok())
        .collect();
    let (major, minor) = (
        parts.first().copied().unwrap_or(0),
        parts.get(1).copied().unwrap_or(0),
    );
    match engine {
        "aurora-postgresql" => match major {
            13 => minor >= 15,
            14 => minor >= 12,
            15 => minor >= 7,
            16 => minor >= 3,
            m => m > 16,
        },
        // Aurora MySQL 3 versions read "8.0.mysql_aurora.3.08.0".
        "aurora-mysql" => version
            .split("mysql_aurora.")
            .nth(1)
            .map(|v| {
                let p: Vec<u32> = v.split('.').map_while(|x| x.parse().ok()).collect();
                (
                    p.first().copied().unwrap_or(0),
                    p.get(1).copied().unwrap_or(0),
                ) >= (3, 8)
            })
            .unwrap_or(false),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(check(Capacity { min: 0.5, max: 8.0 }).is_ok());
        assert!(check(Capacity { min: 0.0, max: 1.0 }).is_ok());
        for (min, max) in [
            (0.25, 1.0),
            (4.0, 2.0),
            (0.5, 0.5),
            (0.5, 300.0),
            (-1.0, 2.0),
        ] {
            assert!(check(Capacity { min, max }).is_err(), "{min}..{max}");
        }
    }

    #[test]
    fn auto_pause_versions() {
        for (e, v, ok) in [
            ("aurora-postgresql", "13.15", true),
            ("aurora-postgresql", "13.14", false),
            ("aurora-postgresql", "14.12", true),
            ("aurora-postgresql", "15.4", false),
            ("aurora-postgresql", "15.7", true),
            ("aurora-postgresql", "16.3", true),
            ("aurora-postgresql", "17.1", true),
            ("aurora-mysql", "8.0.mysql_aurora.3.08.0", true),
            ("aurora-mysql", "8.0.mysql_aurora.3.07.1", false),
            ("aurora-mysql", "5.7.mysql_aurora.2.11.2", false),
        ] {
            assert_eq!(auto_pause_supported(e, v), ok, "{e} {v}");
        }
    }
}
