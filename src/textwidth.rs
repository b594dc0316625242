//! Display widths and truncation, shared by the CLI's tables and the TUI's panes (one
//! truncation for both faces).

use unicode_width::UnicodeWidthStr;

/// Display width in terminal columns.
pub fn cols(s: &str) -> usize {
    // Printable ASCII is one column a byte (most names, hosts and addresses): no table lookup.
    // (A plain loop: the size-optimised build does not inline the closure of `all`.)
    for &b in s.as_bytes() {
        if !(0x20..0x7f).contains(&b) {
            return s.width();
        }
    }
    s.len()
}

/// Byte index where `s` reaches `width` columns (at least one character, so a cut always
/// makes progress).
pub fn cut_at(s: &str, width: usize) -> usize {
    let mut w = 0;
    for (i, c) in s.char_indices() {
        // Printable ASCII is one column, as in `cols`, without encoding it for a lookup.
        let cw = if (' '..='~').contains(&c) {
            1
        } else {
            let mut b = [0u8; 4];
            cols(c.encode_utf8(&mut b))
        };
        if w + cw > width {
            return i.max(c.len_utf8());
        }
        w += cw;
    }
    s.len()
}

/// Truncates to `width` columns with an ellipsis.
pub fn truncate(s: &str, width: usize) -> String {
    if cols(s) <= width {
        return s.to_string();
    }
    let cut = cut_at(s, width.saturating_sub(1));
    format!("{}…", &s[..cut])
}

/// Pads `s` with spaces to `width` columns (by display width, unlike `format!("{:<w$}")`,
/// which counts chars and panics on widths beyond u16::MAX).
pub fn pad(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(cols(s))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_shortcut_counts_as_unicode_width_does() {
        let ascii: String = (0x20u8..0x7f).map(char::from).collect();
        assert_eq!(cols(&ascii), ascii.width());
        for s in [
            "",
            "imap.example.net",
            "Zürich",
            "日本",
            "a\u{200B}b",
            "tab\there",
            "\u{1b}[2J",
        ] {
            assert_eq!(cols(s), s.width(), "{s:?}");
        }
    }

    #[test]
    fn truncates_and_pads_by_columns() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ab", 4), "ab");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(cols(&pad("日本", 6)), 6);
        assert_eq!(truncate(&"x".repeat(70_000), 10).chars().count(), 10);
    }
}
