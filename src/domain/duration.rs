//! ISO-8601 durations, as the stack parameters, the maintenance config and the properties write
//! them.

use std::time::Duration;

/// Parses an ISO-8601 duration of weeks, days, hours, minutes and seconds (`P3D`, `PT12H`,
/// `P1DT6H30M`). Years and months are refused: their length in seconds is ambiguous.
pub fn parse_iso_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("must be an ISO-8601 duration such as P3D or PT12H, got {text:?}");
    let upper = text.trim().to_ascii_uppercase();
    let body = upper.strip_prefix('P').ok_or_else(bad)?;
    let (date, time) = match body.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, t),
        Some(_) => return Err(bad()),
        None => (body, ""),
    };
    if date.is_empty() && time.is_empty() {
        return Err(bad());
    }
    let secs = sum_units(date, &[('W', 604_800), ('D', 86_400)]).ok_or_else(bad)?
        + sum_units(time, &[('H', 3600), ('M', 60), ('S', 1)]).ok_or_else(bad)?;
    if secs == 0 {
        return Err(format!("must be longer than zero, got {text:?}"));
    }
    Ok(Duration::from_secs(secs))
}

/// Sums `<number><unit>` pairs whose units appear in `units`, in that order.
fn sum_units(text: &str, units: &[(char, u64)]) -> Option<u64> {
    let mut total = 0u64;
    let mut number = String::new();
    let mut next_unit = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let pos = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
        let n: u64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(units[pos].1)?)?;
        number.clear();
        next_unit = pos + 1;
    }
    number.is_empty().then_some(total)
}
