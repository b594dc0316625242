//! Wizard step 6: the green "Outlook token is valid" pane.

use crate::timefmt::{in_zone, relative};
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::Wizard;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::{para, row};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

const LABEL: usize = 14;

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let mut l: Vec<Line<'static>> = vec![Line::default()];
    let Some(t) = &w.token else {
        Paragraph::new(para("No token yet: connect first.", width, 0, theme.dim())).render(area, buf);
        return;
    };
    let account = t
        .tokens
        .account
        .clone()
        .unwrap_or_else(|| "(not reported by the provider)".into());
    let account_style = if t.mismatch.is_some() {
        theme.warn()
    } else {
        theme.ok()
    };
    l.extend(row(
        "Signed in as",
        theme.label(),
        vec![Span::styled(account, account_style)],
        LABEL,
        width,
    ));
    l.extend(row(
        "Username",
        theme.label(),
        vec![Span::raw(t.username.clone())],
        LABEL,
        width,
    ));
    if let Some(m) = &t.mismatch {
        l.extend(para(
            &format!("⚠ {}", crate::tui::ui::fix::mismatch(model, m)),
            width,
            2,
            theme.warn(),
        ));
    }
    // The scopes whole (a scope wider than the column goes on below, never cut).
    let scopes = if t.tokens.scope.is_empty() {
        Span::styled("(not reported)", theme.dim())
    } else {
        Span::raw(t.tokens.scope.clone())
    };
    l.extend(row("Scopes", theme.label(), vec![scopes], LABEL, width));
    // Entra never echoes offline_access in the scope; the refresh token is the proof of it.
    if !t.tokens.scope.split_whitespace().any(|s| s == "offline_access") {
        let held = match t.tokens.refresh_token {
            Some(_) => Span::styled("offline_access ✔ (refresh token held)", theme.ok()),
            None => Span::styled("offline_access ✖ (no refresh token)", theme.warn()),
        };
        l.extend(row("", theme.label(), vec![held], LABEL, width));
    }
    l.extend(row(
        "Valid until",
        theme.label(),
        vec![Span::styled(
            format!(
                "{} ({})",
                in_zone(t.tokens.expires_at, &model.tz),
                relative(t.tokens.expires_at, model.now)
            ),
            theme.ok(),
        )],
        LABEL,
        width,
    ));
    let note = para(
        "Refreshed automatically ahead of expiry.",
        width,
        LABEL,
        theme.dim(),
    );
    let keys = para(
        &model.keys_line(&[
            (Action::Test, "runs Test & Confirm"),
            (Action::Connect, "re-connects (e.g. with another account)"),
        ]),
        width,
        0,
        Style::new(),
    );
    // A mismatch warning at 80×24 leaves no room for everything: the keys stay whole, the
    // blank line and the note about refreshing give way first.
    let room = usize::from(area.height);
    if l.len() + note.len() + 1 + keys.len() <= room {
        l.extend(note);
        l.push(Line::default());
    } else if l.len() + 1 + keys.len() <= room {
        l.push(Line::default());
    }
    l.extend(keys);
    Paragraph::new(l).render(area, buf);
}
