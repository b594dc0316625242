//! Text from a network peer (an IMAP server, the identity provider, a browser redirect, a
//! certificate) is untrusted: it could carry terminal escape sequences that retitle the
//! window, clear the screen or fake output. Every such text passes through [`peer_text`]
//! before it is stored or shown, in the CLI and the TUI alike.

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

/// Bidi embeddings/overrides/isolates and zero-width marks: they reorder or hide text on
/// screen ("Trojan Source"), so a peer could make a message read as something else.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
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
    fn escape_sequences_and_bells_are_removed() {
        let hostile = "BYE \x1b]0;pwned\x07\x1b[2J\x1b[1;1Hfake prompt$ \u{9b}31m";
        let clean = peer_text(hostile);
        assert!(!clean.chars().any(char::is_control), "{clean:?}");
        assert_eq!(clean, "BYE ]0;pwned[2J[1;1Hfake prompt$ 31m");
    }

    #[test]
    fn line_breaks_become_single_spaces_and_bidi_is_dropped() {
        assert_eq!(peer_text("a\r\n\r\nb\tc"), "a b c");
        assert_eq!(peer_text("abc\u{202E}fed"), "abcfed");
    }

    #[test]
    fn length_is_bounded() {
        let long = "x".repeat(100_000);
        assert!(peer_text(&long).len() <= MAX_PEER_TEXT + 4);
        assert!(peer_bytes(&[0xff; 100_000]).len() <= MAX_PEER_TEXT + 4);
    }
}
