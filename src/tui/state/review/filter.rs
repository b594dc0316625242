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

/// The entries of `order` whose haystack matches `query` (every word of it, fuzzily, case
/// ignored; `'word` matches it exactly, `^word` at the start, as in fzf) and that `keep` lets
/// through, the best match first.
pub fn matching(
    query: &str,
    haystacks: &[String],
    order: &[usize],
    keep: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let query = query.trim();
    if query.is_empty() {
        return order.iter().copied().filter(|i| keep(*i)).collect();
    }
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize)> = order
        .iter()
        .copied()
        .filter(|i| keep(*i))
        .filter_map(|i| {
            let h = haystacks.get(i)?;
            pattern
                .score(Utf32Str::new(h, &mut buf), &mut matcher)
                .map(|score| (score, i))
        })
        .collect();
    // The best match first (as in helix and television); equal scores keep the chosen order.
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().map(|(_, i)| i).collect()
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
}
