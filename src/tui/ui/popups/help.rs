//! The help popup: every key of the current context, from the key table, and the log path.

use crate::tui::state::Model;
use crate::tui::state::keymap::{self, Ctx};
use crate::tui::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

fn ctx_name(ctx: Ctx) -> &'static str {
    match ctx {
        Ctx::Review => "server list",
        Ctx::Guide | Ctx::GuideChoose | Ctx::GuideRegister | Ctx::GuideText => "wizard",
        Ctx::Script => "setup script",
        Ctx::GuideApps => "wizard, an app I already have",
        Ctx::ScriptCode => "setup script, code field",
        Ctx::Form => "server form",
        Ctx::Connect { waiting: true } => "sign-in",
        Ctx::Connect { waiting: false } => "sign-in (not waiting)",
        Ctx::ConnectPaste => "sign-in, paste field",
        Ctx::Device => "sign-in, device code",
        Ctx::AdminConsent => "admin consent",
        Ctx::AdminWaiting => "admin consent, waiting",
        Ctx::DemoConnect => "sign-in, demo",
        Ctx::Rotate => "new client secret",
        Ctx::Settings => "settings",
        Ctx::Token => "token",
        Ctx::Exchange => "Exchange commands",
        Ctx::Test { .. } => "Test & Confirm",
        Ctx::Global => "everywhere",
        Ctx::Help => "help",
        Ctx::Confirm => "question",
        Ctx::Filter => "server list, find field",
        Ctx::Bulk => "many servers at once",
        Ctx::BulkDone => "many servers at once, done",
        Ctx::Log => "messages",
        Ctx::Import => "import from a file",
    }
}

pub fn render(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    // Over a dialog, help is about the dialog's keys.
    let ctx = match model.covered {
        Some(crate::tui::state::Popup::Rotate(_)) => Ctx::Rotate,
        Some(crate::tui::state::Popup::Settings(_)) => Ctx::Settings,
        _ => model.screen_ctx(),
    };
    let mut lines = Vec::new();
    let ctxs = match ctx {
        Ctx::Connect { waiting: false } => vec![ctx, Ctx::Global],
        Ctx::Connect { waiting: true } | Ctx::ConnectPaste | Ctx::Device => {
            let demo = model.env.demo.is_some().then_some(Ctx::DemoConnect);
            demo.into_iter()
                .chain([
                    Ctx::Connect { waiting: true },
                    Ctx::ConnectPaste,
                    Ctx::Device,
                    Ctx::Global,
                ])
                .collect()
        }
        c => vec![c, Ctx::Global],
    };
    for c in ctxs {
        lines.push(Line::from(Span::styled(
            format!("Keys: {}", ctx_name(c)),
            theme.bold(),
        )));
        for b in keymap::bindings(&[c]) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", b.label()), theme.key()),
                Span::raw(b.desc),
            ]));
        }
        lines.push(Line::default());
    }
    if ctx == Ctx::Review {
        lines.push(Line::from(
            "Mouse: a click selects a server or does a key of the bottom bar; the wheel scrolls. Hold Shift to select text.",
        ));
    }
    if ctx.is_text() {
        lines.push(Line::from(
            "In text fields every printable key is typed; F1 opens help.",
        ));
    }
    lines.push(Line::from(vec![
        Span::styled("Log file  ", theme.label()),
        Span::raw(model.env.log_path.clone()),
    ]));
    lines.push(Line::from(Span::styled(
        "Everything here is also a command: inbound --help",
        theme.dim(),
    )));
    // As large as the terminal allows (a margin of 2), at most what the text needs; the title
    // says when there is more below or above and how to scroll.
    let width = area.width.saturating_sub(4).clamp(20, 100);
    let inner = usize::from(width.saturating_sub(2));
    let rows: usize = lines
        .iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            crate::tui::ui::widgets::text::wrap(&text, inner).len()
        })
        .sum();
    let needed = u16::try_from(rows).unwrap_or(u16::MAX);
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    let height = needed.saturating_add(2).min(area.height.saturating_sub(2)).max(3);
    let rect = super::centered(area, width, height);
    let visible = height.saturating_sub(2);
    let max_scroll = needed.saturating_sub(visible);
    let scroll = model.help_scroll.min(max_scroll);
    let more = match (scroll > 0, scroll < max_scroll) {
        (false, false) => String::new(),
        (false, true) => " · ↓ more below".into(),
        (true, true) => " · ↑↓ scroll".into(),
        (true, false) => " · ↑ more above".into(),
    };
    Clear.render(rect, buf);
    para.scroll((scroll, 0))
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(theme.accent())
                .title(format!(
                    " Help · {}{more} ",
                    keymap::keys_line(&[Ctx::Help], &[(keymap::Action::CloseHelp, "closes")])
                )),
        )
        .render(rect, buf);
}
