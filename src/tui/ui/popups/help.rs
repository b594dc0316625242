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
        Ctx::Guide | Ctx::GuideText => "wizard",
        Ctx::Form => "server form",
        Ctx::Connect => "sign-in",
        Ctx::ConnectIdle => "sign-in (not waiting)",
        Ctx::ConnectPaste => "sign-in, paste field",
        Ctx::Device => "sign-in, device code",
        Ctx::DemoConnect => "sign-in, demo",
        Ctx::Rotate => "new client secret",
        Ctx::Settings => "settings",
        Ctx::Token => "token",
        Ctx::Test => "Test & Confirm",
        Ctx::Global => "everywhere",
        Ctx::Help => "help",
        Ctx::Confirm => "question",
    }
}

pub fn render(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let ctx = model.screen_ctx();
    let mut lines = Vec::new();
    let ctxs = match ctx {
        Ctx::ConnectIdle => vec![Ctx::ConnectIdle, Ctx::Global],
        Ctx::Connect | Ctx::ConnectPaste | Ctx::Device => {
            let demo = model.env.demo.is_some().then_some(Ctx::DemoConnect);
            demo.into_iter()
                .chain([Ctx::Connect, Ctx::ConnectPaste, Ctx::Device, Ctx::Global])
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
    let rect = super::centered(area, 66, 22);
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((model.help_scroll, 0))
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(theme.accent())
                .title(" Help · Esc closes "),
        )
        .render(rect, buf);
}
