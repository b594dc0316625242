//! The new-client-secret form: Secret Value (masked) and its expiry, errors under each field.

use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::state::rotate::{RotateField, Rotation};
use crate::tui::state::secret_input::FieldText;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::para;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub(super) const LABEL: usize = 15;

pub fn render(r: &Rotation, theme: &Theme, area: Rect, f: &mut Frame) {
    let width: u16 = 70.min(area.width);
    let inner_w = width.saturating_sub(2) as usize;
    let value_w = inner_w.saturating_sub(LABEL + 1).max(4);
    let mut lines: Vec<Line<'static>> = Vec::new();
    lines.extend(para(
        &format!(
            "New client secret for app \"{}\" (used by: {})",
            r.app,
            r.users.join(", ")
        ),
        inner_w,
        1,
        theme.bold(),
    ));
    lines.extend(para(
        "Portal: App registrations → the app → Certificates & secrets → New client secret. Copy its Value (not the Secret ID) and its Expires date.",
        inner_w,
        1,
        theme.dim(),
    ));
    if let Some(g) = &r.general {
        lines.extend(para(&format!("✖ {g}"), inner_w, 1, theme.err()));
    }
    lines.push(Line::default());
    let mut cursor = None;
    for (field, label, input, error, placeholder) in [
        (
            RotateField::Secret,
            "Secret Value",
            &r.secret as &dyn FieldText,
            &r.secret_error,
            "the Value column, e.g. abc8Q~…",
        ),
        (
            RotateField::Expires,
            "Expires",
            &r.expires,
            &r.expires_error,
            "YYYY-MM-DD, as the portal shows it",
        ),
    ] {
        let focused = r.focus == field;
        let masked = field == RotateField::Secret && !(focused && r.reveal);
        let (line, x) = field_line(label, input, focused, masked, placeholder, value_w, theme);
        if focused {
            cursor = Some((x, lines.len()));
        }
        lines.push(line);
        if let Some(e) = error {
            lines.extend(para(&format!("✖ {e}"), inner_w, LABEL + 1, theme.err()));
        }
    }
    lines.push(Line::default());
    let action = if r.save_run.is_some() {
        "Saving…".to_string()
    } else {
        let saves = format!(
            "saves and refreshes the token of {}",
            match r.users.len() {
                1 => "its server".to_string(),
                n => format!("all {n} servers"),
            }
        );
        keymap::keys_line(
            &[Ctx::Rotate],
            &[
                (Action::Submit, &saves),
                (Action::Back, "cancels"),
                (Action::Reveal, "shows the secret"),
            ],
        )
    };
    lines.extend(para(&action, inner_w, 1, theme.dim()));
    super::form_frame(" New client secret ", lines, cursor, width, theme, area, f);
}

pub(super) fn field_line(
    label: &str,
    input: &dyn FieldText,
    focused: bool,
    masked: bool,
    placeholder: &str,
    value_w: usize,
    theme: &Theme,
) -> (Line<'static>, usize) {
    let marker = if focused { "▸" } else { " " };
    let label_style = if focused { theme.accent() } else { theme.label() };
    let mut spans = vec![Span::styled(
        format!("{marker}{label:<w$}", w = LABEL),
        label_style,
    )];
    let value = input.text();
    let x;
    if value.is_empty() {
        spans.push(Span::styled(placeholder.to_string(), theme.dim()));
        x = LABEL + 1;
    } else if masked {
        let n = value.chars().count().min(value_w);
        spans.push(Span::styled("•".repeat(n), theme.field(focused)));
        x = LABEL + 1 + n;
    } else {
        let scroll = input.scroll(value_w);
        let shown: String = value.chars().skip(scroll).take(value_w).collect();
        spans.push(Span::styled(shown, theme.field(focused)));
        x = LABEL + 1 + input.cursor().saturating_sub(scroll);
    }
    (Line::from(spans), x)
}
