//! Human time formats, one place.

use jiff::{Timestamp, tz::TimeZone};

/// `2026-11-28 14:03` in the system time zone.
pub fn local(t: Timestamp) -> String {
    in_zone(t, &TimeZone::system())
}

pub fn in_zone(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// `41 min`, `2 h 5 min`, `3 d` — a duration for countdowns.
pub fn span(secs: i64) -> String {
    let s = secs.abs();
    let text = if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        let m = (s % 3600) / 60;
        if m == 0 {
            format!("{} h", s / 3600)
        } else {
            format!("{} h {m} min", s / 3600)
        }
    } else {
        format!("{} d", s / 86_400)
    };
    if secs < 0 { format!("-{text}") } else { text }
}

/// `in 41 min` / `5 min ago` / `just now` (within a second either way: a clock a moment
/// behind must not make a past event read as "in 0 s").
pub fn relative(t: Timestamp, now: Timestamp) -> String {
    let secs = t.duration_since(now).as_secs();
    if secs.abs() < 1 {
        "just now".to_string()
    } else if secs > 0 {
        format!("in {}", span(secs))
    } else {
        format!("{} ago", span(-secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_never_run_backwards_at_zero() {
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now - jiff::SignedDuration::from_secs(8), now), "8 s ago");
        assert_eq!(relative(now + jiff::SignedDuration::from_secs(8), now), "in 8 s");
    }

    #[test]
    fn spans() {
        assert_eq!(span(5), "5 s");
        assert_eq!(span(2460), "41 min");
        assert_eq!(span(7500), "2 h 5 min");
        assert_eq!(span(7200), "2 h");
        assert_eq!(span(3 * 86_400 + 5), "3 d");
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        assert_eq!(
            relative(now + jiff::SignedDuration::from_mins(41), now),
            "in 41 min"
        );
        assert_eq!(
            relative(now - jiff::SignedDuration::from_mins(5), now),
            "5 min ago"
        );
        assert_eq!(in_zone(now, &TimeZone::UTC), "2026-11-28 12:00");
    }
}
