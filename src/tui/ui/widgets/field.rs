//! A text field as a row of a form: `▸Label   value`, masked or scrolled to the cursor. Every
//! form draws its fields with it (the server form's rows add choices and notes around it).

use crate::tui::state::field::TextField;
use crate::tui::ui::theme::Theme;
use ratatui::text::{Line, Span};

/// `▸Label   value`, masked or scrolled to the cursor; returns the line and the cursor column.
pub fn row(
    (label, label_w): (&str, usize),
    input: Option<&TextField>,
    focused: bool,
    masked: bool,
    placeholder: &str,
    value_w: usize,
    theme: &Theme,
) -> (Line<'static>, usize) {
    let marker = if focused { "▸" } else { " " };
    let label_style = if focused { theme.accent() } else { theme.label() };
    let mut spans = vec![Span::styled(
        format!("{marker}{label:<w$}", w = label_w - 1),
        label_style,
    )];
    let value = input.map_or("", TextField::value);
    let x = if value.is_empty() {
        spans.push(Span::styled(placeholder.to_string(), theme.dim()));
        label_w
    } else if masked {
        let n = value.chars().count().min(value_w);
        spans.push(Span::styled("•".repeat(n), theme.field(focused)));
        label_w + n
    } else {
        // An unfocused value shows its start.
        let scroll = if focused {
            input.map_or(0, |i| i.visual_scroll(value_w))
        } else {
            0
        };
        let shown: String = value.chars().skip(scroll).take(value_w).collect();
        spans.push(Span::styled(shown, theme.field(focused)));
        label_w + input.map_or(0, TextField::visual_cursor).saturating_sub(scroll)
    };
    (Line::from(spans), x)
}
