//! The Exchange step of an app-only server: the Exchange Online PowerShell lines with the
//! real values, each under its one-line reason, and the keys that copy them and go on.

use crate::ops::exchange::{ExchangeSetup, PRINCIPAL_PLACEHOLDER, principal_where};
use crate::sanitize::peer_text;
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::Wizard;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::pinned;
use crate::tui::ui::widgets::text::{para, wrap};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let setup = match &w.exchange {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            Paragraph::new(para(&e.to_string(), width, 1, theme.err())).render(area, buf);
            return;
        }
        None => return,
    };
    let keys = |more: bool, back: bool| {
        let mut items = vec![
            (Action::Copy, "copies them all"),
            (Action::Open, "goes on to Test & Confirm"),
        ];
        if more {
            items.push((Action::ScrollDown, "more"));
        }
        if back {
            items.push((Action::ScrollUp, "back up"));
        }
        para(&model.keys_line(&items), width, 1, theme.dim())
    };
    pinned::render(lines(setup, theme, width), keys, w.scroll, area, buf);
}

fn lines(setup: &ExchangeSetup, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut l: Vec<Line<'static>> = Vec::new();
    l.extend(para(
        &format!("{} · app \"{}\"", setup.mailbox, setup.app),
        width,
        1,
        theme.dim(),
    ));
    let intro = if setup.only_mailbox_permission {
        format!(
            "Another server of \"{}\" passed Test & Confirm, so its service principal is registered: an Exchange admin only gives it this mailbox, in Exchange Online PowerShell:",
            setup.app
        )
    } else {
        "No one signs in. The app needs the application permission IMAP.AccessAsApp (API permissions → Office 365 Exchange Online → Application permissions) with admin consent; then an Exchange admin runs, once, in Exchange Online PowerShell:".to_string()
    };
    l.extend(para(&intro, width, 1, Style::new()));
    let mut noted = false;
    for (i, c) in setup.commands.iter().enumerate() {
        l.extend(numbered(i + 1, &c.why, width, theme.dim()));
        // The Object ID came with a token: peer text.
        l.extend(para(&peer_text(&c.line), width, 4, theme.accent()));
        if !noted && c.line.contains(PRINCIPAL_PLACEHOLDER) {
            noted = true;
            let note = format!(
                "{} Test & Confirm fetches the first token; this step shows the Object ID after it.",
                principal_where(&setup.app, &setup.client_id)
            );
            l.extend(para(&note, width, 4, theme.warn()));
        }
    }
    l
}

/// ` 1. reason` with the reason's further lines under its first word.
fn numbered(n: usize, text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width.saturating_sub(4))
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let lead = if i == 0 { format!(" {n}. ") } else { "    ".into() };
            Line::from(Span::styled(format!("{lead}{l}"), style))
        })
        .collect()
}
