//! The orders of the server list: what each sorts by, and the sort itself over facts kept per
//! server (computed once per health pass, so a sort of 10,000 servers assesses nothing).

use crate::model::Server;
use crate::model::health::{Health, Level};
use jiff::Timestamp;
use jiff::civil::Date;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// The store's order (the order servers were added in).
    #[default]
    Stored,
    Name,
    /// Worst first: CRITICAL, WARNING, then OK.
    Health,
    /// The access token that runs out first, first; servers without a token last.
    TokenExpiry,
    /// The client secret or certificate that runs out first, first.
    SecretExpiry,
    /// The oldest test first; never tested before everything.
    LastTest,
}

impl SortKey {
    /// The order the sort key walks through.
    const CYCLE: [SortKey; 6] = [
        SortKey::Health,
        SortKey::Name,
        SortKey::TokenExpiry,
        SortKey::SecretExpiry,
        SortKey::LastTest,
        SortKey::Stored,
    ];

    pub fn next(self) -> Self {
        let i = Self::CYCLE.iter().position(|k| *k == self).unwrap_or(0);
        Self::CYCLE[(i + 1) % Self::CYCLE.len()]
    }

    /// How the list names the order ("by health").
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Stored => "as added",
            SortKey::Name => "name",
            SortKey::Health => "health",
            SortKey::TokenExpiry => "token expiry",
            SortKey::SecretExpiry => "secret expiry",
            SortKey::LastTest => "last test",
        }
    }

    /// The default: worst first when anything needs attention, else the store's order.
    pub fn default_for(attention: usize) -> Self {
        if attention > 0 {
            SortKey::Health
        } else {
            SortKey::Stored
        }
    }
}

/// What the sorts compare, per server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// `None` while the server's token file is not read yet (sorted after the known ones).
    pub level: Option<Level>,
    pub token_until: Option<Timestamp>,
    pub secret_until: Option<Date>,
    pub last_test: Option<Timestamp>,
    /// The name, lower-cased once, for the name order.
    pub folded: String,
}

impl Facts {
    pub fn of(server: &Server, health: Option<&Health>) -> Self {
        Self {
            level: health.map(|h| h.level),
            token_until: health.and_then(|h| h.access_valid_until),
            secret_until: health.and_then(|h| h.secret_expires),
            last_test: server.last_test.as_ref().map(|t| t.at),
            folded: server.name.to_lowercase(),
        }
    }
}

/// `None` after every `Some`, whatever the direction of the `Some`s.
fn some_first<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The indices of `facts` in the order of `key`; ties keep the store's order (a stable sort).
pub fn order(facts: &[Facts], key: SortKey) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..facts.len()).collect();
    let by = |a: &usize, b: &usize| {
        let (fa, fb) = (&facts[*a], &facts[*b]);
        match key {
            SortKey::Stored => Ordering::Equal,
            SortKey::Name => fa.folded.cmp(&fb.folded),
            SortKey::Health => some_first(fa.level.map(std::cmp::Reverse), fb.level.map(std::cmp::Reverse))
                .then_with(|| fa.folded.cmp(&fb.folded)),
            SortKey::TokenExpiry => some_first(fa.token_until, fb.token_until),
            SortKey::SecretExpiry => some_first(fa.secret_until, fb.secret_until),
            // Never tested sorts first: a review starts with what nobody has checked.
            SortKey::LastTest => match (fa.last_test, fb.last_test) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(&b),
            },
        }
    };
    if key != SortKey::Stored {
        idx.sort_by(by);
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str, level: Option<Level>, token_mins: Option<i64>, tested: Option<i64>) -> Facts {
        let at = |m: i64| Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_mins(m);
        Facts {
            level,
            token_until: token_mins.map(at),
            secret_until: None,
            last_test: tested.map(at),
            folded: name.to_lowercase(),
        }
    }

    #[test]
    fn health_puts_the_worst_first_and_unknown_last() {
        let f = vec![
            facts("b", Some(Level::Ok), None, None),
            facts("a", None, None, None),
            facts("c", Some(Level::Critical), None, None),
            facts("d", Some(Level::Warning), None, None),
        ];
        assert_eq!(order(&f, SortKey::Health), vec![2, 3, 0, 1]);
    }

    #[test]
    fn expiry_sorts_the_soonest_first_and_missing_last() {
        let f = vec![
            facts("a", None, None, Some(5)),
            facts("b", None, Some(30), Some(1)),
            facts("c", None, Some(10), None),
        ];
        assert_eq!(order(&f, SortKey::TokenExpiry), vec![2, 1, 0]);
        assert_eq!(order(&f, SortKey::LastTest), vec![2, 1, 0]);
        assert_eq!(order(&f, SortKey::Stored), vec![0, 1, 2]);
    }

    #[test]
    fn name_ignores_case_and_the_cycle_visits_every_order() {
        let f = vec![facts("beta", None, None, None), facts("Alpha", None, None, None)];
        assert_eq!(order(&f, SortKey::Name), vec![1, 0]);
        let mut k = SortKey::Health;
        let mut seen = vec![k];
        for _ in 0..5 {
            k = k.next();
            seen.push(k);
        }
        assert_eq!(k.next(), SortKey::Health);
        seen.sort_by_key(|k| k.label());
        seen.dedup();
        assert_eq!(seen.len(), 6);
    }
}
