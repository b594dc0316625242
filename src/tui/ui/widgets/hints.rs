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
    // The way to every other key is never the one dropped: room for help is kept first.
    let help = bindings.iter().find(|b| b.action == Action::Help);
    let reserved = help.map_or(0, |b| item(b).2);
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1 + reserved;
    for b in bindings.iter().filter(|b| b.action != Action::Help) {
        let (key, desc, cols) = item(b);
        if used + cols > width as usize {
            break;
        }
        used += cols;
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {desc}  ")));
    }
    if let Some(b) = help {
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
            assert!(
                super::super::text::cols(text.trim_end()) <= width as usize,
                "{width}: {text}"
            );
        }
    }
}
