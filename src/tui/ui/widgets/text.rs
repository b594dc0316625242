//! Text helpers: wrapping into lines, label/value rows, spinners.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::textwidth::cut_at;
pub use crate::textwidth::{cols, truncate};

/// Greedy word wrap to `width` columns (display width); words longer than a line are cut.
/// Only ASCII spaces break, so a no-break space keeps a mark with its word.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    use textwrap::{Options, WordSeparator, WordSplitter, WrapAlgorithm};
    let options = Options::new(width.max(1))
        .wrap_algorithm(WrapAlgorithm::FirstFit)
        .word_separator(WordSeparator::AsciiSpace)
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(true);
    textwrap::wrap(text, options)
        .into_iter()
        .map(std::borrow::Cow::into_owned)
        .collect()
}

/// Splits `s` into pieces of at most `width` columns (for URLs, which have no spaces).
pub fn chunks(s: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let cut = cut_at(rest, width.max(1));
        out.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
    out
}

/// Wrapped lines with a hanging indent, all in `style`.
pub fn para(text: &str, width: usize, indent: usize, style: Style) -> Vec<Line<'static>> {
    let pad = " ".repeat(indent);
    wrap(text, width.saturating_sub(indent))
        .into_iter()
        .map(|l| Line::from(Span::styled(format!("{pad}{l}"), style)))
        .collect()
}

/// A bullet with a hanging indent.
pub fn bullet(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width.saturating_sub(4))
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            Line::from(Span::styled(
                format!("{}{l}", if i == 0 { "  • " } else { "    " }),
                style,
            ))
        })
        .collect()
}

/// `Label     value` with a fixed label column; a long value continues on indented lines
/// (styles kept per word).
pub fn row(
    label: &str,
    label_style: Style,
    value: Vec<Span<'static>>,
    label_width: usize,
    width: usize,
) -> Vec<Line<'static>> {
    let avail = width.saturating_sub(label_width).max(8);
    let mut out = Vec::new();
    for (i, spans) in wrap_spans(value, avail).into_iter().enumerate() {
        let l = if i == 0 { label } else { "" };
        let mut line = vec![Span::styled(format!("{l:<label_width$}"), label_style)];
        line.extend(spans);
        out.push(Line::from(line));
    }
    out
}

/// Greedy wrap of styled spans to `width` columns.
pub fn wrap_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Vec<Span<'static>>> {
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0usize;
    for span in spans {
        let style = span.style;
        let text = span.content.into_owned();
        let mut first = true;
        for word in text.split(' ') {
            let piece = if first {
                word.to_string()
            } else {
                format!(" {word}")
            };
            first = false;
            let w = cols(&piece);
            // A word wider than the line is split too, even at a line's start: never cut.
            if used + w > width {
                if used > 0 {
                    lines.push(Vec::new());
                    used = 0;
                }
                let trimmed = piece.trim_start().to_string();
                for chunk in chunks(&trimmed, width) {
                    if used > 0 {
                        lines.push(Vec::new());
                    }
                    used = cols(&chunk);
                    if let Some(l) = lines.last_mut() {
                        l.push(Span::styled(chunk, style));
                    }
                }
                continue;
            }
            used += w;
            if let Some(l) = lines.last_mut() {
                l.push(Span::styled(piece, style));
            }
        }
    }
    lines
}

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn spinner(frame: u64) -> &'static str {
    SPINNER[(frame % SPINNER.len() as u64) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_cuts() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(chunks("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(truncate("abcdef", 4), "abc…");
        // A word wider than the line is never cut, not even as a line's first word.
        let text = |lines: Vec<Vec<Span<'static>>>| -> Vec<String> {
            lines
                .into_iter()
                .map(|l| l.iter().map(|s| s.content.to_string()).collect())
                .collect()
        };
        assert_eq!(
            text(wrap_spans(vec![Span::raw("abcdefgh ij")], 3)),
            ["abc", "def", "gh", "ij"]
        );
    }
}
