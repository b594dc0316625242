//! Wizard steps 1–3: what to do in the Azure portal.

use crate::model::registered_redirect_uri;
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::state::wizard::guide::admin_consent_url;
use crate::tui::state::wizard::{Step, Wizard};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::{bullet, chunks, para};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, f: &mut Frame) {
    let width = area.width as usize;
    let plain = Style::new();
    let mut l: Vec<Line<'static>> = vec![Line::default()];
    let url = |l: &mut Vec<Line<'static>>, url: &str| {
        for c in chunks(url, width.saturating_sub(2)) {
            l.push(Line::from(Span::styled(format!("  {c}"), theme.link())));
        }
    };
    let mut cursor = None;
    match w.step {
        Step::Register => {
            l.extend(para(
                "In portal.azure.com open Microsoft Entra ID → App registrations → New registration.",
                width,
                0,
                plain,
            ));
            l.extend(bullet(
                "Name: anything you will recognise, e.g. \"inbound mail\".",
                width,
                plain,
            ));
            l.extend(bullet("Supported account types: \"Accounts in this organizational directory only (Single tenant)\".", width, plain));
            l.extend(bullet("Redirect URI: platform Web, and exactly:", width, plain));
            url(&mut l, &registered_redirect_uri(&model.data.config.settings));
            l.extend(bullet("Register. On Overview note the Application (client) ID and the Directory (tenant) ID: the form asks for them.", width, plain));
            l.push(Line::default());
            l.extend(para(
                &model.keys_line(&[(Action::Copy, "copies the redirect URL"), (Action::Open, "next")]),
                width,
                0,
                theme.dim(),
            ));
        }
        Step::Secret => {
            l.extend(para(
                "Certificates & secrets → Client secrets → New client secret.",
                width,
                0,
                plain,
            ));
            l.extend(para("Copy the Value column right away (it is shown only once) — not the Secret ID. A Secret ID looks like a GUID and Microsoft refuses it (AADSTS7000215).", width, 0, plain));
            l.extend(para(
                "Note when the secret expires: inbound warns 30 days ahead.",
                width,
                0,
                plain,
            ));
            l.push(Line::default());
            let label = "Secret expires  ";
            let value = w.expires.value().to_string();
            let shown = if value.is_empty() {
                Span::styled("YYYY-MM-DD (optional)", theme.dim())
            } else {
                Span::styled(value, theme.field(true))
            };
            cursor = Some((label.len() + w.expires.visual_cursor(), l.len()));
            l.push(Line::from(vec![Span::styled(label, theme.label()), shown]));
            if let Some(e) = &w.expires_error {
                l.extend(para(&format!("✖ {e}"), width, 2, theme.err()));
            }
        }
        _ => {
            l.extend(para("API permissions → Add a permission:", width, 0, plain));
            l.extend(bullet("APIs my organization uses → Office 365 Exchange Online (or Microsoft Graph) → Delegated permissions → IMAP.AccessAsUser.All", width, plain));
            l.extend(bullet("Microsoft Graph → Delegated → offline_access (keeps the sign-in alive; openid, email, profile too)", width, plain));
            l.extend(para(
                "Then \"Grant admin consent\", or send an admin this link:",
                width,
                0,
                plain,
            ));
            match admin_consent_url(&w.form) {
                Some(u) => url(&mut l, &u),
                None => {
                    l.extend(para(
                        "(the link appears here once the form has the client ID and tenant; back from the form comes here)",
                        width,
                        2,
                        theme.dim(),
                    ));
                }
            }
            l.push(Line::default());
            l.extend(para(
                &model.keys_line(&[
                    (Action::Copy, "copies the admin consent link"),
                    (Action::Open, "next"),
                ]),
                width,
                0,
                theme.dim(),
            ));
        }
    }
    f.render_widget(Paragraph::new(l), area);
    if let Some((x, y)) = cursor
        && let (Ok(x), Ok(y)) = (u16::try_from(x), u16::try_from(y))
        && y < area.height
        && model.popup.is_none()
    {
        f.set_cursor_position(Position::new(
            area.x + x.min(area.width.saturating_sub(1)),
            area.y + y,
        ));
    }
}
