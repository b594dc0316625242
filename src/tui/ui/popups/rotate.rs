//! The new-client-secret form: Secret Value (masked) and its expiry, errors under each field.

use crate::tui::state::field::TextField;
use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::state::rotate::{RotateField, Rotation};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::field::row;
use crate::tui::ui::widgets::text::para;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

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
    for (field, label, placeholder) in [
        (
            RotateField::Secret,
            "Secret Value",
            "the Value column, e.g. abc8Q~…",
        ),
        (
            RotateField::Expires,
            "Expires",
            "YYYY-MM-DD, as the portal shows it",
        ),
    ] {
        let focused = r.fields.focus == field;
        let input = r.fields.get(field);
        let masked = input.is_some_and(TextField::is_secret) && !(focused && r.fields.reveal);
        let (line, x) = row(
            (label, LABEL + 1),
            input,
            focused,
            masked,
            placeholder,
            value_w,
            theme,
        );
        let error = r.fields.errors.get(&field);
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
