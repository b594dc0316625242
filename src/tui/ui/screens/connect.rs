//! Wizard step 5: the sign-in link, shown whole across the full width, the listener's port
//! and a countdown.

use crate::tui::state::Model;
use crate::tui::state::connect::{BrowserNote, Connect};
use crate::tui::state::wizard::Wizard;
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::link;
use crate::tui::ui::widgets::text::{para, spinner};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

pub fn render(model: &Model, w: &Wizard, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let plain = Style::new();
    let mut top: Vec<Line<'static>> = Vec::new();
    let mut bottom: Vec<Line<'static>> = Vec::new();
    let mut url: Option<&str> = None;
    match &w.connect {
        Connect::Idle => {
            top.extend(para(
                "Sign in with the mailbox's Microsoft account and accept the permissions.",
                width,
                1,
                plain,
            ));
            top.extend(para("Enter starts the sign-in · Esc back", width, 1, theme.dim()));
        }
        Connect::Cancelled => {
            top.extend(para(
                "Sign-in cancelled; the listener's port is free again.",
                width,
                1,
                plain,
            ));
            top.extend(para("Enter tries again · Esc back", width, 1, theme.dim()));
        }
        Connect::Starting { .. } => {
            top.push(Line::from(format!(
                " {} starting the sign-in listener…",
                spinner(model.frame)
            )));
        }
        Connect::Failed(f) => {
            top.extend(para(&format!("✖ {}", f.message), width, 1, theme.err()));
            if let Some(h) = &f.hint {
                top.extend(para(&format!("→ {h}"), width, 1, plain));
            }
            top.push(Line::default());
            top.extend(para(
                "Enter or c tries again · Esc back (to the form)",
                width,
                1,
                theme.dim(),
            ));
        }
        Connect::Waiting {
            url: u,
            port,
            deadline,
            browser,
            paste_note,
            ..
        } => {
            url = Some(u);
            let account = model
                .wizard()
                .and_then(|w| w.server.as_deref())
                .and_then(|n| model.data.config.server(n))
                .map(|s| s.username.clone())
                .unwrap_or_default();
            let head = match browser {
                BrowserNote::Opening => "Opening your browser…".to_string(),
                BrowserNote::Opened => "Your browser should show Microsoft's sign-in.".to_string(),
                BrowserNote::Failed(e) => format!("The browser did not open ({e})."),
                BrowserNote::NotHere(reason) => (*reason).to_string(),
            };
            top.extend(para(&head, width, 1, plain));
            top.extend(para(
                &format!("Sign in as {account} and accept. The link (y copies it, o opens it):"),
                width,
                1,
                plain,
            ));
            let situation = &model.env.situation;
            if situation.ssh {
                bottom.extend(para(
                    &format!(
                        "From your own computer, keep a tunnel open (short link http://localhost:{port}/start):"
                    ),
                    width,
                    1,
                    plain,
                ));
                bottom.push(Line::from(Span::styled(
                    format!("    {}", situation.tunnel_command(*port)),
                    theme.accent(),
                )));
            }
            bottom.extend(para(
                "Or paste the address your browser ended on (\"can't be reached\" is fine).",
                width,
                1,
                theme.dim(),
            ));
            if let Some(n) = paste_note {
                bottom.extend(para(n, width, 1, theme.warn()));
            }
            let left = deadline.duration_since(model.now).as_secs().max(0);
            bottom.push(Line::from(vec![
                Span::styled(format!(" {} ", spinner(model.frame)), theme.accent()),
                Span::raw(format!(
                    "waiting for Microsoft · listener 127.0.0.1:{port} · {}:{:02} left",
                    left / 60,
                    left % 60
                )),
            ]));
        }
    }
    let top_h = u16::try_from(top.len()).unwrap_or(u16::MAX).min(area.height);
    let top_area = Rect {
        height: top_h,
        ..area
    };
    Paragraph::new(top).render(top_area, buf);
    let mut y = area.y + top_h;
    if let Some(u) = url {
        let h = link::height(u, area.width).min(area.bottom().saturating_sub(y));
        link::render(
            u,
            Rect { y, height: h, ..area },
            buf,
            theme.link(),
            model.env.hyperlinks,
        );
        y += h;
    }
    let rest = Rect {
        y,
        height: area.bottom().saturating_sub(y),
        ..area
    };
    Paragraph::new(bottom).render(rest, buf);
}
