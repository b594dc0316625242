//! The hint bar: key + description from the key table; items that do not fit are dropped.

use crate::tui::state::keymap::{Action, KeyBinding};
use crate::tui::ui::theme::Theme;
use ratatui::text::{Line, Span};

pub fn hint_line(bindings: &[&KeyBinding], theme: &Theme, width: u16) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (b, _) in placed(bindings, width) {
        spans.push(Span::styled(b.short_label(), theme.key()));
        spans.push(Span::raw(format!(" {}  ", b.short.unwrap_or(b.desc))));
    }
    Line::from(spans)
}

/// The bindings the bar shows, each with the columns its item takes (key, description and
/// the gap after), in order from column 1: what a click on the bar finds.
pub fn placed<'a>(bindings: &[&'a KeyBinding], width: u16) -> Vec<(&'a KeyBinding, std::ops::Range<u16>)> {
    let cols_of = |b: &KeyBinding| {
        super::text::cols(&b.short_label()) + 1 + super::text::cols(b.short.unwrap_or(b.desc)) + 2
    };
    // The way to every other key, and the keys that finish or leave a screen, are never the
    // ones dropped: room for them is kept first; the rest fill what is left, in order.
    let essential = |b: &KeyBinding| matches!(b.action, Action::Help | Action::Submit | Action::Back);
    let help = bindings.iter().copied().find(|b| b.action == Action::Help);
    let reserved: usize = bindings
        .iter()
        .copied()
        .filter(|b| essential(b))
        .map(cols_of)
        .sum();
    let mut used = 1 + reserved;
    let mut shown = Vec::new();
    let mut full = false;
    for b in bindings.iter().copied().filter(|b| b.action != Action::Help) {
        if essential(b) {
            shown.push(b);
            continue;
        }
        let cols = cols_of(b);
        if full || used + cols > width as usize {
            full = true;
            continue;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::keymap::{self, Ctx};

    #[test]
    fn help_is_kept_when_the_bar_is_narrow() {
        let theme = Theme::new(false);
        for width in [30u16, 45, 60, 80] {
            let bindings = keymap::hints(&[Ctx::Connect { waiting: true }, Ctx::Global]);
            let line = hint_line(&bindings, &theme, width);
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            assert!(text.contains("? help"), "{width}: {text}");
            let back = keymap::key_for(&[Ctx::Connect { waiting: true }], Action::Back).unwrap_or_default();
            assert!(text.contains(&back), "{width}: {text}");
            assert!(
                super::super::text::cols(text.trim_end()) <= width as usize,
                "{width}: {text}"
            );
        }
    }

    #[test]
    fn save_and_back_are_kept_at_60_columns() {
        let theme = Theme::new(false);
        let bindings = keymap::hints(&[Ctx::Form, Ctx::Global]);
        let line = hint_line(&bindings, &theme, 60);
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        let key = |a| keymap::key_for(&[Ctx::Form], a).unwrap_or_default();
        let (save, back) = (key(Action::Submit), key(Action::Back));
        assert!(
            text.contains(&format!("{save} save")) && text.contains(&format!("{back} back")),
            "{text}"
        );
        assert!(super::super::text::cols(text.trim_end()) <= 60, "{text}");
    }
}
