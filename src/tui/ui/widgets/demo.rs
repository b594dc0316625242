//! A line that only `inbound demo` shows, marked like its header.

use crate::tui::ui::theme::Theme;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

pub fn line(text: &str, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::raw(" "),
        Span::styled("DEMO", theme.warn().add_modifier(Modifier::REVERSED)),
        Span::raw(format!(" {text}")),
    ])
}
