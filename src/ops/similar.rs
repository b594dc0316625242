//! Stored names like one that was typed, for "no server named …" messages: a typo
//! ("helpdsk"), another case ("HELPDESK") or a part of the name ("sales") finds them.

/// How alike two names must be (Jaro-Winkler, case ignored) to be offered.
const ALIKE: f64 = 0.8;
/// At most this many names are offered.
const MOST: usize = 3;

/// The names among `names` most like `typed`, the likest first.
pub fn similar<'a>(typed: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let typed = typed.trim().to_lowercase();
    if typed.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let lower = name.to_lowercase();
            // A part of the name counts as a close match (the whole word typed, or the
            // name typed inside something longer).
            let part = lower.contains(&typed) || typed.contains(&lower);
            let score = strsim::jaro_winkler(&typed, &lower).max(if part { 0.9 } else { 0.0 });
            (score >= ALIKE).then_some((score, name))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(MOST)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// "No server named "x". Similar: "a", "b"." (or "Stored servers: …" when few are stored
/// and none is alike).
pub fn no_server_named(typed: &str, names: &[&str]) -> String {
    let typed_clean = crate::sanitize::echo(typed);
    let alike = similar(typed, names.iter().copied());
    let quote = |v: &[String]| {
        v.iter()
            .map(|n| format!("\"{}\"", crate::sanitize::echo(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !alike.is_empty() {
        return format!("no server named \"{typed_clean}\". Similar: {}.", quote(&alike));
    }
    match names.len() {
        0 => format!("no server named \"{typed_clean}\": no server is stored yet."),
        1..=MOST => {
            let all: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            format!("no server named \"{typed_clean}\". Stored: {}.", quote(&all))
        }
        n => format!("no server named \"{typed_clean}\", nor one like it ({n} are stored)."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 5] = ["Helpdesk", "Support inbox", "Sales", "Billing", "Legacy"];

    #[test]
    fn a_typo_another_case_or_a_part_finds_the_name() {
        assert_eq!(similar("helpdsk", NAMES), ["Helpdesk"]);
        assert_eq!(similar("SALES", NAMES)[0], "Sales");
        assert_eq!(similar("support", NAMES), ["Support inbox"]);
        assert!(similar("zzzz", NAMES).is_empty());
        assert!(similar("  ", NAMES).is_empty());
    }

    #[test]
    fn the_message_names_what_is_alike_or_what_there_is() {
        let m = no_server_named("helpdsk", &NAMES);
        assert_eq!(m, "no server named \"helpdsk\". Similar: \"Helpdesk\".");
        let m = no_server_named("zzzz", &NAMES);
        assert!(m.contains("nor one like it (5 are stored"), "{m}");
        let m = no_server_named("zzzz", &["Sales"]);
        assert_eq!(m, "no server named \"zzzz\". Stored: \"Sales\".");
        let m = no_server_named("zzzz", &[]);
        assert!(m.contains("no server is stored yet"), "{m}");
    }
}
