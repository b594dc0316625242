//! The hint bar: key + description from the key table; items that do not fit are dropped.

use crate::tui::state::keymap::{Action, KeyBinding};
use crate::tui::ui::theme::Theme;
use ratatui::text::{Line, Span};

pub fn hint_line(bindings: &[&KeyBinding], theme: &Theme, width: u16) -> Line<'static> {
    let item = |b: &KeyBinding| {
        let key = b.short_label();
        let desc = short_desc(b.desc);
        let cols = super::text::cols(&key) + 1 + super::text::cols(desc) + 2;
        (key, desc, cols)
    };
    // The way to every other key, and the keys that finish or leave a screen, are never the
    // ones dropped: room for them is kept first; the rest fill what is left, in order.
    let essential = |b: &KeyBinding| matches!(b.action, Action::Help | Action::Submit | Action::Back);
    let help = bindings.iter().find(|b| b.action == Action::Help);
    let reserved: usize = bindings.iter().filter(|b| essential(b)).map(|b| item(b).2).sum();
    let mut used = 1 + reserved;
    let mut shown = Vec::new();
    let mut full = false;
    for b in bindings.iter().filter(|b| b.action != Action::Help) {
        if essential(b) {
            shown.push(*b);
            continue;
        }
        let cols = item(b).2;
        if full || used + cols > width as usize {
            full = true;
            continue;
        }
        used += cols;
        shown.push(*b);
    }
    let mut spans = vec![Span::raw(" ")];
    for b in shown.into_iter().chain(help.copied()) {
        let (key, desc, _) = item(b);
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {desc}  ")));
    }
    Line::from(spans)
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
            let back = keymap::key_for(&[Ctx::Connect], Action::Back).unwrap_or_default();
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
