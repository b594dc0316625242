//! Text from a network peer (an IMAP server, the identity provider, a browser redirect, a
//! certificate) is untrusted: it could carry terminal escape sequences that retitle the
//! window, clear the screen or fake output. Every such text passes through [`peer_text`]
//! before it is stored or shown, in the CLI and the TUI alike.
//!
//! Values we did not make ourselves but only show (a hand-edited `config.json`, a typed or
//! refused value, a setup code's fields) pass through the functions below at the last step:
//! [`terminal`] in the CLI's `out!`/`say!`, [`json`] in every `--json` output, [`screen_symbol`] over
//! the app's whole frame, and [`echo`] where a refused value is quoted back.

/// Longest peer text we keep; beyond it a server is rambling or hostile.
pub const MAX_PEER_TEXT: usize = 2048;

/// One line of peer text: control characters (C0, DEL, C1: ESC, BEL, CSI …) and invisible
/// bidirectional overrides removed, line breaks and tabs turned into spaces, length bounded.
pub fn peer_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_PEER_TEXT));
    for c in s.chars() {
        if out.len() >= MAX_PEER_TEXT {
            out.push('…');
            break;
        }
        match c {
            '\t' | '\n' | '\r' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// Bytes from a peer, decoded leniently, then as [`peer_text`].
pub fn peer_bytes(b: &[u8]) -> String {
    let head = &b[..b.len().min(MAX_PEER_TEXT * 4)];
    peer_text(&String::from_utf8_lossy(head))
}

/// Peer text that may be absent.
pub fn peer_opt(s: Option<String>) -> Option<String> {
    s.map(|s| peer_text(&s))
}

/// [`peer_text`] of text that is usually clean already (read back from our own files): then
/// kept as it is, without a copy.
pub fn peer_cow(s: std::borrow::Cow<'_, str>) -> std::borrow::Cow<'_, str> {
    let clean = s.len() <= MAX_PEER_TEXT
        && s.trim().len() == s.len()
        && !s.chars().any(|c| c.is_control() || is_invisible_format(c));
    if clean { s } else { peer_text(&s).into() }
}

/// Bidi embeddings/overrides/isolates/marks and zero-width characters: they reorder or hide
/// text on screen ("Trojan Source"), so a peer could make a message read as something else.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A character no value of ours may hold: a control character (C0, DEL, C1, ESC among them) or
/// an invisible bidi/zero-width one. Validation refuses these ([`crate::model::validate`]).
pub fn is_hostile(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// What a hostile character is shown as: visible, so that a value is not silently changed
/// into another that reads the same.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Printable ASCII, line breaks and tabs only (a plain loop: the size-optimised build does not
/// inline the closure of `all`).
fn plain_ascii(s: &str) -> bool {
    for &b in s.as_bytes() {
        if !((0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t') {
            return false;
        }
    }
    true
}

/// Text for the terminal (the CLI's every line): line breaks and tabs stay, every other
/// control or invisible character becomes [`REPLACEMENT`]. Borrowed when there is none.
pub fn terminal(s: &str) -> std::borrow::Cow<'_, str> {
    // Printable ASCII, line breaks and tabs (nearly every table) need no look at characters.
    if plain_ascii(s) || !s.chars().any(|c| c != '\n' && c != '\t' && is_hostile(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars()
        .map(|c| {
            if c != '\n' && c != '\t' && is_hostile(c) {
                REPLACEMENT
            } else {
                c
            }
        })
        .collect::<String>()
        .into()
}

/// Longest part of a refused or unknown value quoted back to the user, in characters.
pub const MAX_ECHO: usize = 64;

/// A value quoted back in a message (a refused input, an unknown name): on one line, hostile
/// characters made visible, and cut to [`MAX_ECHO`] characters with "…".
pub fn echo(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_ECHO)
        .map(|c| if is_hostile(c) { REPLACEMENT } else { c })
        .collect();
    if s.chars().nth(MAX_ECHO).is_some() {
        out.push('…');
    }
    out
}

/// JSON for output: serde_json escapes C0 controls and quotes; this also escapes DEL, C1
/// controls and invisible bidi characters as `\uXXXX`, so `--json` piped to a terminal
/// (`jq`-less, or `cat`) cannot carry them. They occur only inside strings, where `\u`
/// escapes mean the same character, so the JSON's value is unchanged.
pub fn json(s: String) -> String {
    // Raw white space is the layout of pretty JSON (inside strings serde_json escapes it).
    let escape = |c: char| is_hostile(c) && !matches!(c, '\n' | '\r' | '\t');
    if !s.chars().any(escape) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if escape(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One cell of the app's screen: invisible bidi characters and C1 controls (never drawn by
/// the app on purpose) removed. ESC stays: ratatui drops it from text, and the only ESC a
/// cell holds is one the link widget put there (OSC 8 hyperlinks).
pub fn screen_symbol(symbol: &str) -> Option<String> {
    let bad = |c: char| is_invisible_format(c) || ('\u{80}'..='\u{9f}').contains(&c) || c == '\u{7f}';
    if !symbol.chars().any(bad) {
        return None;
    }
    let kept: String = symbol.chars().filter(|c| !bad(*c)).collect();
    Some(if kept.is_empty() { " ".into() } else { kept })
}

/// Serde helper: a stored string field that once came from a peer is cleaned as it is read,
/// so a hand-edited or older store cannot bring escape codes to the terminal either.
pub mod serde_clean {
    use serde::{Deserialize, Deserializer};

    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        String::deserialize(d).map(|s| super::peer_text(&s))
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Option::<String>::deserialize(d).map(super::peer_opt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_keeps_plain_text_and_marks_the_rest() {
        assert!(matches!(terminal("a\tb\nc ~"), std::borrow::Cow::Borrowed(_)));
        assert!(matches!(terminal("Zürich"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(terminal("a\u{1b}[2Jb"), "a\u{FFFD}[2Jb");
        assert_eq!(terminal("a\u{202E}b\u{7f}"), "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn escape_sequences_and_bells_are_removed() {
        let hostile = "BYE \x1b]0;pwned\x07\x1b[2J\x1b[1;1Hfake prompt$ \u{9b}31m";
        let clean = peer_text(hostile);
        assert!(!clean.chars().any(char::is_control), "{clean:?}");
        assert_eq!(clean, "BYE ]0;pwned[2J[1;1Hfake prompt$ 31m");
    }

    #[test]
    fn clean_text_is_kept_as_peer_text_would_make_it() {
        let long = "x".repeat(MAX_PEER_TEXT);
        let longer = "x".repeat(MAX_PEER_TEXT + 1);
        for s in [
            "",
            "u@example.com",
            " padded ",
            "a\tb",
            "a\r\nb",
            "abc\u{202E}fed",
            "\u{1b}[2J",
            "Zürich",
            "\u{3000}wide space",
            long.as_str(),
            longer.as_str(),
        ] {
            let kept = peer_cow(std::borrow::Cow::Borrowed(s));
            assert_eq!(kept, peer_text(s), "{s:?}");
            assert_eq!(matches!(kept, std::borrow::Cow::Borrowed(_)), kept == s, "{s:?}");
        }
    }

    #[test]
    fn line_breaks_become_single_spaces_and_bidi_is_dropped() {
        assert_eq!(peer_text("a\r\n\r\nb\tc"), "a b c");
        assert_eq!(peer_text("abc\u{202E}fed"), "abcfed");
    }

    #[test]
    fn shown_values_make_hostile_characters_visible() {
        let hostile = "Sup\u{1b}]0;x\u{7}port\u{9b}2J\u{202E}gnp.exe\u{2066}\u{61c}";
        let t = terminal(hostile);
        assert!(!t.chars().any(is_hostile), "{t:?}");
        assert!(t.contains(REPLACEMENT));
        assert_eq!(terminal("a\n\tb"), "a\n\tb");
        assert!(matches!(terminal("plain"), std::borrow::Cow::Borrowed(_)));
        let e = echo(&format!("{}\u{202E}", "x".repeat(9000)));
        assert_eq!(e.chars().count(), MAX_ECHO + 1);
        assert!(e.ends_with('…'));
        assert_eq!(echo("a\nb"), "a\u{FFFD}b");
    }

    #[test]
    fn json_escapes_c1_del_and_bidi() {
        let v = serde_json::json!({ "name": "a\u{9b}b\u{202E}c\u{7f}\u{1b}" });
        let out = json(serde_json::to_string_pretty(&v).unwrap());
        assert!(!out.chars().any(|c| is_hostile(c) && c != '\n'), "{out}");
        assert!(
            out.contains("\\u009b") && out.contains("\\u202e") && out.contains("\\u007f"),
            "{out}"
        );
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn screen_cells_lose_bidi_but_keep_links() {
        assert_eq!(screen_symbol("\u{202E}").as_deref(), Some(" "));
        assert_eq!(screen_symbol("a\u{2067}").as_deref(), Some("a"));
        assert_eq!(screen_symbol("\x1b]8;;http://x/\x1b\\h"), None);
    }

    #[test]
    fn length_is_bounded() {
        let long = "x".repeat(100_000);
        assert!(peer_text(&long).len() <= MAX_PEER_TEXT + 4);
        assert!(peer_bytes(&[0xff; 100_000]).len() <= MAX_PEER_TEXT + 4);
    }
}
