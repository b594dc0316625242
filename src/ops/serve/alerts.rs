//! Which health changes become notifications: pure, fed with each server's level at an
//! injected time. A new level is announced once it has held for the flapping window (a blip
//! shorter than that says nothing); a CRITICAL server is announced again every reminder
//! interval. The first look at a server announces it only when it is not OK, so a restart
//! does not repeat every "OK".

use crate::model::health::Level;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The level changed (and held for the flapping window).
    Transition,
    /// Still CRITICAL after a reminder interval.
    Reminder,
    /// `serve --test-notify`: a sample, nothing is wrong.
    Test,
}

/// One notification to send about a server (by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announce {
    pub server_id: String,
    pub reason: Reason,
    pub level: Level,
    /// The level announced before (None: the first look at this server).
    pub previous: Option<Level>,
    /// Since when the server is at `level`.
    pub since: Timestamp,
}

#[derive(Debug, Clone)]
struct Track {
    /// The level last announced (or taken silently as the baseline).
    announced: Level,
    /// When `announced` was last sent (None: taken silently).
    notified_at: Option<Timestamp>,
    /// A different level seen, and since when.
    pending: Option<(Level, Timestamp)>,
    /// Since when the server is at the announced level.
    since: Timestamp,
}

/// The alert state of every server.
#[derive(Debug, Clone)]
pub struct Alerts {
    flap: SignedDuration,
    remind: SignedDuration,
    tracks: HashMap<String, Track>,
}

fn signed(d: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

impl Alerts {
    pub fn new(flap: std::time::Duration, remind: std::time::Duration) -> Self {
        Self {
            flap: signed(flap),
            remind: signed(remind),
            tracks: HashMap::new(),
        }
    }

    /// New windows (SIGHUP); what is tracked stays.
    pub fn set_windows(&mut self, flap: std::time::Duration, remind: std::time::Duration) {
        self.flap = signed(flap);
        self.remind = signed(remind);
    }

    /// Takes the current level of every server; returns what to announce. Servers not in
    /// `levels` are forgotten (removed from the store).
    pub fn observe<'a>(
        &mut self,
        levels: impl IntoIterator<Item = (&'a str, Level)>,
        now: Timestamp,
    ) -> Vec<Announce> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (id, level) in levels {
            seen.insert(id.to_string());
            let Some(t) = self.tracks.get_mut(id) else {
                let notified_at = (level != Level::Ok).then_some(now);
                if level != Level::Ok {
                    out.push(Announce {
                        server_id: id.into(),
                        reason: Reason::Transition,
                        level,
                        previous: None,
                        since: now,
                    });
                }
                self.tracks.insert(
                    id.into(),
                    Track {
                        announced: level,
                        notified_at,
                        pending: None,
                        since: now,
                    },
                );
                continue;
            };
            if level == t.announced {
                t.pending = None;
            } else {
                let since = match t.pending {
                    Some((l, since)) if l == level => since,
                    _ => {
                        t.pending = Some((level, now));
                        now
                    }
                };
                if now >= since + self.flap {
                    out.push(Announce {
                        server_id: id.into(),
                        reason: Reason::Transition,
                        level,
                        previous: Some(t.announced),
                        since,
                    });
                    t.announced = level;
                    t.notified_at = Some(now);
                    t.pending = None;
                    t.since = since;
                    continue;
                }
            }
            if t.announced >= Level::Critical && t.notified_at.is_some_and(|at| now >= at + self.remind) {
                out.push(Announce {
                    server_id: id.into(),
                    reason: Reason::Reminder,
                    level: t.announced,
                    previous: Some(t.announced),
                    since: t.since,
                });
                t.notified_at = Some(now);
            }
        }
        self.tracks.retain(|id, _| seen.contains(id));
        out
    }

    /// When [`Alerts::observe`] should look again even if nothing changes: a pending level
    /// that will have held long enough, or a reminder falling due.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.tracks
            .values()
            .flat_map(|t| {
                let pending = t.pending.map(|(_, since)| since + self.flap);
                let remind = t
                    .notified_at
                    .filter(|_| t.announced >= Level::Critical)
                    .map(|at| at + self.remind);
                [pending, remind]
            })
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn alerts() -> Alerts {
        Alerts::new(Duration::from_secs(60), Duration::from_secs(3600))
    }

    fn levels(out: &[Announce]) -> Vec<(Reason, Level, Option<Level>)> {
        out.iter().map(|a| (a.reason, a.level, a.previous)).collect()
    }

    #[test]
    fn an_ok_server_is_taken_silently_and_a_bad_one_announced_at_first_sight() {
        let mut a = alerts();
        let out = a.observe([("a", Level::Ok), ("b", Level::Critical)], at(0));
        assert_eq!(levels(&out), [(Reason::Transition, Level::Critical, None)]);
        assert_eq!(out[0].server_id, "b");
    }

    #[test]
    fn a_change_is_announced_once_after_it_held_for_the_window() {
        let mut a = alerts();
        a.observe([("a", Level::Ok)], at(0));
        assert!(a.observe([("a", Level::Critical)], at(10)).is_empty());
        assert_eq!(a.next_due(), Some(at(70)));
        let out = a.observe([("a", Level::Critical)], at(70));
        assert_eq!(
            levels(&out),
            [(Reason::Transition, Level::Critical, Some(Level::Ok))]
        );
        assert_eq!(out[0].since, at(10));
        assert!(a.observe([("a", Level::Critical)], at(80)).is_empty(), "once");
        a.observe([("a", Level::Ok)], at(100));
        let out = a.observe([("a", Level::Ok)], at(160));
        assert_eq!(
            levels(&out),
            [(Reason::Transition, Level::Ok, Some(Level::Critical))]
        );
    }

    #[test]
    fn flapping_within_the_window_says_nothing() {
        let mut a = alerts();
        a.observe([("a", Level::Ok)], at(0));
        for t in 0..20 {
            let level = if t % 2 == 0 { Level::Critical } else { Level::Ok };
            assert!(a.observe([("a", level)], at(1 + t * 5)).is_empty());
        }
        assert_eq!(a.next_due(), None);
    }

    #[test]
    fn warning_then_critical_are_two_transitions() {
        let mut a = Alerts::new(Duration::ZERO, Duration::from_secs(3600));
        a.observe([("a", Level::Ok)], at(0));
        let w = a.observe([("a", Level::Warning)], at(1));
        let c = a.observe([("a", Level::Critical)], at(2));
        assert_eq!(
            levels(&w),
            [(Reason::Transition, Level::Warning, Some(Level::Ok))]
        );
        assert_eq!(
            levels(&c),
            [(Reason::Transition, Level::Critical, Some(Level::Warning))]
        );
    }

    #[test]
    fn critical_is_repeated_every_reminder_interval_and_removed_servers_are_forgotten() {
        let mut a = alerts();
        a.observe([("a", Level::Critical)], at(0));
        assert!(a.observe([("a", Level::Critical)], at(3599)).is_empty());
        let out = a.observe([("a", Level::Critical)], at(3600));
        assert_eq!(
            levels(&out),
            [(Reason::Reminder, Level::Critical, Some(Level::Critical))]
        );
        assert_eq!(a.next_due(), Some(at(7200)));
        a.observe([], at(3700));
        assert_eq!(a.next_due(), None);
    }
}
