//! The hint bar: key + description from the key table; items that do not fit are dropped.

use crate::tui::state::keymap::KeyBinding;
use crate::tui::ui::theme::Theme;
use ratatui::text::{Line, Span};

pub fn hint_line(bindings: &[&KeyBinding], theme: &Theme, width: u16) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1usize;
    for b in bindings {
        let key = b.short_label();
        let item = super::text::cols(&key) + 1 + b.desc.len() + 2;
        let desc = short_desc(b.desc);
        let item = item.min(super::text::cols(&key) + 1 + desc.len() + 2);
        if used + item > width as usize {
            break;
        }
        used += item;
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {desc}  ")));
    }
    Line::from(spans)
}

/// The hint bar uses the words before any parenthesis.
fn short_desc(desc: &str) -> &str {
    desc.split(" (").next().unwrap_or(desc).trim()
}
