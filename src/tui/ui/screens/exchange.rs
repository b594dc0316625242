//! The Exchange step of an app-only server: the Exchange Online PowerShell lines with the
//! real values, each under its one-line reason, and the keys that copy them and go on.

use crate::ops::exchange::principal_where;
use crate::sanitize::peer_text;
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::Wizard;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::para;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let setup = match &w.exchange {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            Paragraph::new(para(e, width, 1, theme.err())).render(area, buf);
            return;
        }
        None => return,
    };
    let mut l: Vec<Line<'static>> = Vec::new();
    l.extend(para(
        &format!(
            "{} · app \"{}\" · tenant {}",
            setup.mailbox, setup.app, setup.tenant
        ),
        width,
        1,
        theme.dim(),
    ));
    let intro = if setup.only_mailbox_permission {
        format!(
            "The app's service principal is already registered (another server of \"{}\" passed Test & Confirm): an Exchange admin only gives it this mailbox.",
            setup.app
        )
    } else {
        "No one signs in: an Exchange admin runs these once in Exchange Online PowerShell. The app also needs the application permission IMAP.AccessAsApp, with admin consent (step 3).".to_string()
    };
    l.extend(para(&intro, width, 1, Style::new()));
    for (i, c) in setup.commands.iter().enumerate() {
        l.extend(para(&format!("{}. {}", i + 1, c.why), width, 1, theme.dim()));
        // The Object ID came with a token: peer text.
        l.extend(para(&peer_text(&c.line), width, 4, theme.accent()));
    }
    if setup.principal_id.is_none() {
        let note = format!(
            "{} Test & Confirm fetches the first token; this step shows the Object ID after it.",
            principal_where(&setup.app, &setup.client_id)
        );
        l.extend(para(&note, width, 1, theme.warn()));
    }
    l.extend(para(
        &model.keys_line(&[
            (Action::Copy, "copies them all (one block for PowerShell)"),
            (Action::Open, "goes on to Test & Confirm"),
            (Action::Back, "back"),
        ]),
        width,
        1,
        theme.dim(),
    ));
    Paragraph::new(l).render(area, buf);
}
