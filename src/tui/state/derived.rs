//! What the header and the wake-up timer need from *all* servers, computed when its inputs
//! change (the data, or the clock moving to another second) instead of on every frame: with
//! 10,000 servers a full pass costs milliseconds, a keypress must not.

use super::Model;
use super::review::sort::Facts;
use crate::model::AuthKind;
use crate::model::health::{Level, refresh_due_at};
use jiff::Timestamp;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Servers whose health is WARNING or worse.
    pub attention: usize,
    /// The earliest refresh due among OAuth2 servers with tokens (wakes the timer).
    pub earliest_due: Option<Timestamp>,
    /// The earliest refresh due among the servers background refresh may touch.
    pub earliest_refresh: Option<Timestamp>,
    /// Some OAuth2 server has tokens: countdowns on screen move every minute.
    pub any_tokens: bool,
    /// The second of `Model::now` this was computed for.
    second: i64,
}

impl Model {
    /// Recomputes [`Derived`]; call after `data` or `now` changed.
    pub(crate) fn rederive(&mut self) {
        let servers = self.servers();
        // Token files not read yet (first frame) are left out rather than shown as missing.
        let known = &servers[..servers.len().saturating_sub(self.data.pending)];
        let mut d = Derived {
            second: self.now.as_second(),
            ..Derived::default()
        };
        let mut facts = Vec::with_capacity(servers.len());
        for s in known {
            let health = self.health(s);
            if health.level >= Level::Warning {
                d.attention += 1;
            }
            facts.push(Facts::of(s, Some(&health)));
            if s.auth != AuthKind::OAuth2 {
                continue;
            }
            let Some(file) = self.data.tokens.get(&s.name) else {
                continue;
            };
            let Some(t) = file.tokens.as_ref() else {
                continue;
            };
            // After a failed refresh the core's back-off says when to try again (one policy,
            // recorded in the token file): not before.
            let due = match crate::ops::tokens::backoff_until(file) {
                Some(retry) => refresh_due_at(t).max(retry),
                None => refresh_due_at(t),
            };
            d.any_tokens = true;
            d.earliest_due = Some(d.earliest_due.map_or(due, |e| e.min(due)));
            if file.blocker.is_none() && t.refresh_token.is_some() {
                d.earliest_refresh = Some(d.earliest_refresh.map_or(due, |e| e.min(due)));
            }
        }
        facts.extend(servers[known.len()..].iter().map(|s| Facts::of(s, None)));
        self.derived = d;
        self.view.facts = facts;
        self.resort();
    }

    /// Recomputes only when the clock moved to another second since the last pass.
    pub(crate) fn rederive_if_stale(&mut self) {
        if self.derived.second != self.now.as_second() {
            self.rederive();
        }
    }

    /// How many servers need attention (WARNING or worse).
    pub fn attention(&self) -> usize {
        self.derived.attention
    }
}

#[cfg(test)]
mod tests {
    use crate::model::health::Level;
    use crate::tui::state::msg::Msg;
    use crate::tui::testing;
    use jiff::SignedDuration;

    fn counted(m: &crate::tui::state::Model) -> usize {
        m.servers()
            .iter()
            .filter(|s| m.health(s).level >= Level::Warning)
            .count()
    }

    #[test]
    fn attention_follows_the_clock_and_the_data() {
        let mut m = testing::model(testing::populated());
        assert_eq!(m.attention(), counted(&m));
        // Two days on, every token has expired: the count moves with the clock.
        let later = m.now + SignedDuration::from_hours(48);
        let _ = m.update(Msg::Tick(later));
        assert_eq!(m.attention(), counted(&m));
        let _ = m.update(Msg::Loaded(Ok(testing::empty())));
        assert_eq!(m.attention(), 0);
    }

    #[test]
    fn unread_token_files_are_not_counted_yet() {
        let mut data = testing::populated();
        data.pending = data.config.servers.len();
        data.tokens.clear();
        let m = testing::model(data);
        assert_eq!(m.attention(), 0);
        assert!(m.derived.earliest_due.is_none());
    }
}
