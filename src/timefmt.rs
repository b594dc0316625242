//! Human time formats, one place.

use jiff::{Timestamp, tz::TimeZone};

/// `2026-11-28 14:03` in the system time zone.
pub fn local(t: Timestamp) -> String {
    in_zone(t, &TimeZone::system())
}

pub fn in_zone(t: Timestamp, tz: &TimeZone) -> String {
    let mut out = String::with_capacity(16);
    push_in_zone(&mut out, t, tz);
    out
}

/// [`in_zone`], appended to `out`. Digits written by hand: jiff's `strftime` parses its
/// format on every call, and at 10,000 servers that was much of `list`'s time for its rows.
pub fn push_in_zone(out: &mut String, t: Timestamp, tz: &TimeZone) {
    let dt = tz.to_datetime(t);
    let Ok(year) = u16::try_from(dt.year()) else {
        // Before year 0 (not a time inbound stores): `strftime`'s own sign and padding.
        out.push_str(&dt.strftime("%Y-%m-%d %H:%M").to_string());
        return;
    };
    // jiff's years end at 9999, so four digits always hold one.
    push_digits(out, year, 4);
    for (sep, n) in [
        ('-', dt.month()),
        ('-', dt.day()),
        (' ', dt.hour()),
        (':', dt.minute()),
    ] {
        out.push(sep);
        push_digits(out, u16::try_from(n).unwrap_or(0), 2);
    }
}

/// `n`'s last `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, n: u16, width: u32) {
    for place in (0..width).rev() {
        let digit = (n / 10u16.pow(place)) % 10;
        out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
    }
}

/// `41 min`, `2 h 5 min`, `3 d` — a duration for countdowns.
pub fn span(secs: i64) -> String {
    let mut out = String::new();
    push_span(&mut out, secs);
    out
}

/// [`span`], appended to `out` (`list` writes one per row, without a string of its own).
pub fn push_span(out: &mut String, secs: i64) {
    use std::fmt::Write as _;
    if secs < 0 {
        out.push('-');
    }
    let s = secs.unsigned_abs();
    // Writing to a String cannot fail.
    let _ = if s < 60 {
        write!(out, "{s} s")
    } else if s < 3600 {
        write!(out, "{} min", s / 60)
    } else if s < 86_400 {
        let m = (s % 3600) / 60;
        if m == 0 {
            write!(out, "{} h", s / 3600)
        } else {
            write!(out, "{} h {m} min", s / 3600)
        }
    } else {
        write!(out, "{} d", s / 86_400)
    };
}

/// `in 41 min` / `5 min ago` / `just now` (within a second either way: a clock a moment
/// behind must not make a past event read as "in 0 s").
pub fn relative(t: Timestamp, now: Timestamp) -> String {
    let mut out = String::new();
    push_relative(&mut out, t, now);
    out
}

/// [`relative`], appended to `out`.
pub fn push_relative(out: &mut String, t: Timestamp, now: Timestamp) {
    let secs = t.duration_since(now).as_secs();
    if secs.abs() < 1 {
        out.push_str("just now");
    } else if secs > 0 {
        out.push_str("in ");
        push_span(out, secs);
    } else {
        push_span(out, -secs);
        out.push_str(" ago");
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
        assert_eq!(span(-7500), "-2 h 5 min");
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

    #[test]
    fn hand_written_digits_are_strftime_s() {
        let zones = [
            TimeZone::UTC,
            TimeZone::fixed(jiff::tz::offset(-11)),
            TimeZone::fixed(jiff::tz::Offset::from_seconds(5 * 3600 + 45 * 60).unwrap()),
            TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC),
            TimeZone::system(),
        ];
        // Every year's padding (big steps from the first time on), then steps through the
        // years inbound meets that land on every minute, hour, day and time change.
        for (from, step, to) in [
            (Timestamp::MIN, 86_400 * 365 * 7 + 3_607, Timestamp::MAX),
            (
                "1960-01-01T00:00:00Z".parse().unwrap(),
                3 * 86_400 + 3_607,
                "2110-01-01T00:00:00Z".parse().unwrap(),
            ),
        ] {
            let mut t: Timestamp = from;
            while t < to {
                for tz in &zones {
                    let want = t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
                    assert_eq!(in_zone(t, tz), want, "{t} in {tz:?}");
                }
                let Ok(next) = t.checked_add(jiff::SignedDuration::from_secs(step)) else {
                    break;
                };
                t = next;
            }
        }
        for s in [
            "0000-01-01T00:00:00Z",
            "2026-03-29T01:30:00Z",
            "9999-12-30T21:59:59Z",
        ] {
            let t: Timestamp = s.parse().unwrap();
            for tz in &zones {
                let want = t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
                assert_eq!(in_zone(t, tz), want, "{t} in {tz:?}");
            }
        }
    }
}
