//! The list's find: a fuzzy match (nucleo, the matcher helix and television use) over each
//! server's name, mailbox, sign-in account, host and app.

use crate::model::Server;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// The text a server is found by: its fields, space-separated, so a query may span them.
pub fn haystack(server: &Server) -> String {
    let mut text = format!("{} {} {}", server.name, server.username, server.host);
    for extra in [server.sign_in_as.as_deref(), server.app.as_deref()]
        .into_iter()
        .flatten()
    {
        text.push(' ');
        text.push_str(extra);
    }
    text
}

/// The characters of fzf's syntax (`!` not, `^` start, `'` exact, `$` end, `\` escape): with
/// one of them, a longer query may match more, so it is never narrowed from a shorter one.
const SYNTAX: [char; 5] = ['!', '^', '\'', '$', '\\'];

/// The servers a query matches, by index into the haystacks, with nucleo's score.
pub type Scored = Vec<(usize, u32)>;

/// The queries typed so far, each extending the one before, with what each matched: a
/// character typed rescores only what the query before it matched (a fuzzy match of the
/// longer query is a match of the shorter), and Backspace finds its answer here. Kept until
/// the haystacks change. Written here because nucleo's matcher scores one text at a time; its
/// incremental engine (`nucleo`) runs its own threads, which a redraw-per-key app does not need.
#[derive(Debug, Clone, Default)]
pub struct Trail {
    steps: Vec<(String, Scored)>,
}

/// Deeper than anyone types without a pause; the oldest step goes first.
const MAX_STEPS: usize = 64;

impl Trail {
    /// Forget every answer: the haystacks changed.
    pub fn clear(&mut self) {
        self.steps.clear();
    }

    /// The servers whose haystack matches every word of `query` (fuzzily, case ignored;
    /// `'word` exactly, `^word` at the start, as in fzf), with their scores.
    pub fn find(&mut self, query: &str, haystacks: &[String]) -> &[(usize, u32)] {
        let plain = !query.contains(SYNTAX);
        while let Some((q, _)) = self.steps.last() {
            if q == query || (plain && query.starts_with(q.as_str()) && !q.contains(SYNTAX)) {
                break;
            }
            self.steps.pop();
        }
        let same = self.steps.last().is_some_and(|(q, _)| q == query);
        if !same {
            let found = match self.steps.last() {
                Some((_, before)) => score(query, haystacks, before.iter().map(|(i, _)| *i)),
                None => score(query, haystacks, 0..haystacks.len()),
            };
            if self.steps.len() == MAX_STEPS {
                self.steps.remove(0);
            }
            self.steps.push((query.to_string(), found));
        }
        self.steps.last().map_or(&[], |(_, found)| found)
    }
}

fn score(query: &str, haystacks: &[String], candidates: impl Iterator<Item = usize>) -> Scored {
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    candidates
        .filter_map(|i| {
            let h = haystacks.get(i)?;
            pattern
                .score(Utf32Str::new(h, &mut buf), &mut matcher)
                .map(|score| (i, score))
        })
        .collect()
}

/// The entries of `order` that `query` matches (see [`Trail::find`]) and that `keep` lets
/// through, the best match first; equal scores keep the chosen order. `rank[i]` is server
/// `i`'s place in `order`.
pub fn matching(
    trail: &mut Trail,
    query: &str,
    haystacks: &[String],
    order: &[usize],
    rank: &[usize],
    keep: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let query = query.trim();
    if query.is_empty() {
        // A find cleared: what it matched is of no more use.
        trail.clear();
        return order.iter().copied().filter(|i| keep(*i)).collect();
    }
    let mut scored: Vec<(std::cmp::Reverse<u32>, usize, usize)> = trail
        .find(query, haystacks)
        .iter()
        .filter(|(i, _)| keep(*i))
        .map(|&(i, s)| {
            (
                std::cmp::Reverse(s),
                rank.get(i).copied().unwrap_or(usize::MAX),
                i,
            )
        })
        .collect();
    // The best match first (as in helix and television), then the chosen order.
    scored.sort_unstable();
    scored.into_iter().map(|(_, _, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthKind, ServerState};
    use crate::tui::testing::server;

    fn hay() -> Vec<String> {
        let mut legacy = server(
            "Legacy",
            AuthKind::Basic,
            ServerState::Draft,
            "old@contoso.com",
            None,
        );
        legacy.host = "imap.example.net".into();
        let mut sales = server(
            "Sales",
            AuthKind::OAuth2,
            ServerState::Draft,
            "sales@contoso.com",
            Some("Contoso mail"),
        );
        sales.sign_in_as = Some("admin@contoso.com".into());
        vec![haystack(&legacy), haystack(&sales)]
    }

    fn matching(query: &str, h: &[String], order: &[usize], keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut rank = vec![0; h.len()];
        for (pos, i) in order.iter().enumerate() {
            rank[*i] = pos;
        }
        super::matching(&mut Trail::default(), query, h, order, &rank, keep)
    }

    #[test]
    fn finds_by_every_field_fuzzily_and_ignores_case() {
        let h = hay();
        let all = [0, 1];
        assert_eq!(matching("", &h, &all, |_| true), vec![0, 1]);
        assert_eq!(matching("LEG", &h, &all, |_| true), vec![0]);
        assert_eq!(matching("example", &h, &all, |_| true), vec![0]);
        assert_eq!(matching("admin@", &h, &all, |_| true), vec![1]);
        assert_eq!(matching("contoso mail", &h, &all, |_| true), vec![1]);
        assert_eq!(matching("sls", &h, &all, |_| true), vec![1], "fuzzy");
        assert!(matching("zzz", &h, &all, |_| true).is_empty());
        assert_eq!(matching("'example", &h, &all, |_| true), vec![0], "exact");
        assert_eq!(matching("contoso", &h, &[0, 1], |_| true).len(), 2);
        assert_eq!(matching("sales", &h, &[0, 1], |_| true), vec![1]);
        assert_eq!(matching("", &h, &[1, 0], |i| i == 1), vec![1], "keep filters too");
    }

    /// Typing, deleting and fzf's syntax through one trail give what a fresh scan gives.
    #[test]
    fn the_trail_answers_as_a_fresh_scan_would() {
        let mut h = hay();
        for i in 0..300 {
            h.push(format!(
                "server-{i} user{}@contoso.com imap-{}.example.net Contoso",
                i * 7,
                i % 13
            ));
        }
        let fresh = |q: &str| {
            let mut t = Trail::default();
            let mut v = t.find(q, &h).to_vec();
            v.sort_unstable();
            v
        };
        let mut trail = Trail::default();
        let typed = [
            "s",
            "se",
            "ser",
            "server-1",
            "server-12",
            "server-1",
            "server-",
            "server-9",
            "server-9 ",
            "server-9 c",
            "server-9 co",
            "server-9 !c",
            "server-9 !",
            "server-9",
            "'server-9",
            "'server-99",
            "^imap",
            "^imap-1",
            "imap-1$",
            "imap-12$",
            "imap",
            "9",
            "99",
            "9",
            "",
            "l",
            "le",
            "leg",
            "lega",
        ];
        for q in typed {
            if q.trim().is_empty() {
                continue;
            }
            let mut got = trail.find(q.trim(), &h).to_vec();
            got.sort_unstable();
            assert_eq!(got, fresh(q.trim()), "{q:?}");
        }
    }
}
