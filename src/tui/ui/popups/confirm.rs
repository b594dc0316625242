//! Yes/no questions.

use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

fn ask(
    title: &str,
    body: Vec<Line<'static>>,
    yes: &str,
    no: &str,
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let mut lines = body;
    lines.push(Line::default());
    let key = |a: Action| {
        keymap::bindings(&[Ctx::Confirm])
            .into_iter()
            .find(|b| b.action == a)
            .map(|b| b.label())
            .unwrap_or_else(|| keymap::key_or_mark(&[Ctx::Confirm], a))
    };
    lines.push(Line::from(vec![
        Span::styled(key(Action::Yes), theme.key()),
        Span::raw(format!(" {yes}    ")),
        Span::styled(key(Action::No), theme.key()),
        Span::raw(format!(" {no}")),
    ]));
    // Lines wrap inside the frame (54 columns): count the rows they take.
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(54).max(1)).sum();
    let rect = super::centered(
        area,
        56,
        u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(4),
    );
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(theme.warn())
                .title(format!(" {title} ")),
        )
        .render(rect, buf);
}

/// `app` is the server's Azure app and `others` how many other servers use it: the words say
/// what really happens to it.
pub fn delete(name: &str, app: Option<&str>, others: usize, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let app_line = match (app, others) {
        (None, _) => None,
        (Some(a), 0) => Some(format!("App \"{a}\" stays; no other server uses it.")),
        (Some(a), 1) => Some(format!("App \"{a}\" stays; 1 other server uses it.")),
        (Some(a), n) => Some(format!("App \"{a}\" stays; {n} other servers use it.")),
    };
    let mut body = vec![
        Line::from(vec![
            Span::raw("Delete "),
            Span::styled(format!("\"{name}\""), theme.bold()),
            Span::raw("?"),
        ]),
        Line::from("Its settings and tokens are removed."),
    ];
    body.extend(app_line.map(Line::from));
    ask("Delete server", body, "delete", "keep", theme, area, buf);
}

/// `running`: whether work still runs now (it may have finished since the question).
pub fn quit(running: bool, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let body = if running {
        vec![
            Line::from("Work is still running (saving, sign-in or test)."),
            Line::from("Quitting stops it; nothing stored is lost."),
        ]
    } else {
        vec![
            Line::from("The work that was running has finished."),
            Line::from("Nothing is lost by quitting now."),
        ]
    };
    ask("Quit inbound?", body, "quit", "stay", theme, area, buf);
}

/// Microsoft could not check a new secret: save it anyway, or keep the old one?
pub fn unchecked(app: &str, why: &str, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let body = vec![
        Line::from(vec![
            Span::raw("Microsoft could not check the new secret of "),
            Span::styled(format!("\"{app}\""), theme.bold()),
            Span::raw(":"),
        ]),
        Line::from(crate::sanitize::peer_text(why)),
        Line::from(
            "The old secret stays until you choose. Save the new one unchecked? A mistyped one stops every server of the app.",
        ),
    ];
    ask(
        "Save unchecked?",
        body,
        "save unchecked",
        "keep the old one",
        theme,
        area,
        buf,
    );
}
