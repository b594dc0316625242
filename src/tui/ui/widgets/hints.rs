//! The hint bar: key + description from the key table; items that do not fit are dropped.

use crate::tui::state::keymap::{Action, KeyBinding};
use crate::tui::ui::theme::Theme;
use ratatui::text::{Line, Span};

pub fn hint_line(bindings: &[&KeyBinding], theme: &Theme, width: u16) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (b, _) in placed(bindings, width) {
        spans.push(Span::styled(b.short_label(), theme.key()));
        spans.push(Span::raw(format!(" {}  ", short_desc(b.desc))));
    }
    Line::from(spans)
}

/// The bindings the bar shows, each with the columns its item takes (key, description and
/// the gap after), in order from column 1: what a click on the bar finds.
pub fn placed<'a>(bindings: &[&'a KeyBinding], width: u16) -> Vec<(&'a KeyBinding, std::ops::Range<u16>)> {
    let cols_of =
        |b: &KeyBinding| super::text::cols(&b.short_label()) + 1 + super::text::cols(short_desc(b.desc)) + 2;
    // The way to every other key is never the one dropped: room for help is kept first.
    let help = bindings.iter().copied().find(|b| b.action == Action::Help);
    let reserved = help.map_or(0, cols_of);
    let mut shown = Vec::new();
    let mut used = 1 + reserved;
    for b in bindings.iter().copied().filter(|b| b.action != Action::Help) {
        let cols = cols_of(b);
        if used + cols > width as usize {
            break;
        }
        used += cols;
        shown.push(b);
    }
    shown.extend(help);
    let mut x: u16 = 1;
    shown
        .into_iter()
        .map(|b| {
            let end = x.saturating_add(u16::try_from(cols_of(b)).unwrap_or(u16::MAX));
            let item = (b, x..end);
            x = end;
            item
        })
        .collect()
}

/// The hint bar uses the words before any parenthesis.
fn short_desc(desc: &str) -> &str {
    desc.split(" (").next().unwrap_or(desc).trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::keymap::{self, Ctx};

    #[test]
    fn help_is_kept_when_the_bar_is_narrow() {
        let theme = Theme::new(false);
        for width in [30u16, 45, 60, 80] {
            let bindings = keymap::hints(&[Ctx::Connect, Ctx::Global]);
            let line = hint_line(&bindings, &theme, width);
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            assert!(text.contains("? help"), "{width}: {text}");
            assert!(
                super::super::text::cols(text.trim_end()) <= width as usize,
                "{width}: {text}"
            );
        }
    }
}
