//! Numbers formatted for people: thousands separators, latency to about three significant digits,
//! `n/a` for what was not measured. Shared by the markdown summary and the chart.

/// What a report shows for a value that was not measured (`null` in `results.json`).
pub const NOT_AVAILABLE: &str = "n/a";

/// An integer with `,` between groups of three digits: `27728` → `27,728`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A non-negative rounded float with separators, keeping `decimals` digits after the point.
fn grouped(x: f64, decimals: usize) -> String {
    let text = format!("{:.decimals$}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let sign = if x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    let int = int
        .parse::<u64>()
        .map_or_else(|_| int.to_string(), thousands);
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A rate (ops/s, KiB/s): whole numbers from 100 up (`27,728`), two decimals below (`12.35`).
pub fn rate(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            if x.abs() >= 100.0 {
                grouped(x, 0)
            } else {
                grouped(x, 2)
            }
        }
        _ => NOT_AVAILABLE.to_string(),
    }
}

/// A latency in ms to about three significant digits: `0.151`, `6.72`, `12.4`, `123`, `1,234`.
///
/// memtier prints latency to the µs (3 decimals); below 1 ms that is what is kept, above it more
/// digits would claim a precision the 2-significant-digit histograms do not have.
pub fn ms(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let a = x.abs();
            let decimals = if a >= 100.0 {
                0
            } else if a >= 10.0 {
                1
            } else if a >= 1.0 {
                2
            } else {
                3
            };
            grouped(x, decimals)
        }
        _ => NOT_AVAILABLE.to_string(),
    }
}

/// A duration in seconds: `5.2 s`, `53 s`, `12 min 5 s`, `2 h 3 min`.
pub fn secs(v: Option<f64>) -> String {
    let Some(s) = v.filter(|s| s.is_finite() && *s >= 0.0) else {
        return NOT_AVAILABLE.to_string();
    };
    if s < 10.0 {
        return format!("{s:.1} s");
    }
    // Whole seconds are plenty from 10 s up; the cast is of a finite, non-negative, rounded value.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = s.round() as u64;
    match whole {
        0..=119 => format!("{whole} s"),
        120..=7199 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, (whole % 3600) / 60),
    }
}

/// A percentage: `87.5 %`, `4.25 %`.
pub fn percent(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() && x.abs() >= 10.0 => format!("{} %", grouped(x, 1)),
        Some(x) if x.is_finite() => format!("{x:.2} %"),
        _ => NOT_AVAILABLE.to_string(),
    }
}

/// A count that arrives as a float (e.g. connected clients from a metric): `1,024`.
pub fn count(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => grouped(x, 0),
        _ => NOT_AVAILABLE.to_string(),
    }
}

/// `1 load generator` / `3 load generators`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

/// A progress bar of `width` characters, `share` (0 to 1) of it filled: `[######------]`.
pub fn progress_bar(share: f64, width: usize) -> String {
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        0.0
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let filled = ((share * width as f64).round() as usize).min(width);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_bars_fill_their_share() {
        assert_eq!(progress_bar(0.5, 4), "[##--]");
        assert_eq!(progress_bar(2.0, 3), "[###]");
        assert_eq!(progress_bar(f64::NAN, 2), "[--]");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(27_728), "27,728");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn rates_and_latencies_read_like_people_write_them() {
        assert_eq!(rate(Some(27_728.35)), "27,728");
        assert_eq!(rate(Some(99.999)), "100.00");
        assert_eq!(rate(Some(12.345)), "12.35");
        assert_eq!(rate(None), "n/a");
        assert_eq!(rate(Some(f64::NAN)), "n/a");
        assert_eq!(ms(Some(0.151)), "0.151");
        assert_eq!(ms(Some(6.719)), "6.72");
        assert_eq!(ms(Some(12.351)), "12.4");
        assert_eq!(ms(Some(123.4)), "123");
        assert_eq!(ms(Some(1234.0)), "1,234");
        assert_eq!(ms(None), "n/a");
        assert_eq!(ms(Some(-0.0)), "0.000");
    }

    #[test]
    fn durations_percentages_and_counts() {
        assert_eq!(secs(Some(5.198)), "5.2 s");
        assert_eq!(secs(Some(53.0)), "53 s");
        assert_eq!(secs(Some(725.0)), "12 min 5 s");
        assert_eq!(secs(Some(7380.0)), "2 h 3 min");
        assert_eq!(secs(None), "n/a");
        assert_eq!(percent(Some(87.54)), "87.5 %");
        assert_eq!(percent(Some(4.251)), "4.25 %");
        assert_eq!(count(Some(1024.0)), "1,024");
        assert_eq!(plural(1, "task", "tasks"), "1 task");
        assert_eq!(plural(3, "task", "tasks"), "3 tasks");
    }
}
