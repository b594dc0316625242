//! The list's find field, its position line ("21/300", "3 of 300 match") and the answer when
//! nothing matches; shared by the narrow list and the wide table.

use crate::textwidth::{cols, truncate};
use crate::tui::state::Model;
use crate::tui::state::keymap::Action;
use crate::tui::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The two columns before a server's name: "▶" where the selection is, "*" when marked.
pub fn marker(model: &Model, selected: bool, name: &str) -> &'static str {
    match (selected, model.marks.contains(name)) {
        (true, true) => "▶*",
        (true, false) => "▶ ",
        (false, true) => " *",
        (false, false) => "  ",
    }
}

/// " 21/300 ", or " 1/3 · 3 of 300 match " under a find (the count alone where the position
/// does not fit in `width`).
pub fn position_label(model: &Model, width: usize) -> String {
    let view = &model.view;
    let total = model.servers().len();
    let shown = view.shown.len();
    let pos = model
        .position()
        .map_or_else(|| "–".to_string(), |p| (p + 1).to_string());
    let marked = match model.marks.len() {
        0 => String::new(),
        n => format!("{n} marked · "),
    };
    if !view.narrowed() {
        let full = format!(" {marked}{pos}/{total} ");
        return if cols(&full) <= width {
            full
        } else {
            format!(" {pos}/{total} ")
        };
    }
    let count = format!("{shown} of {total} match");
    let full = format!(" {pos}/{shown} · {count} ");
    if shown > 0 && cols(&full) <= width {
        full
    } else {
        format!(" {count} ")
    }
}

/// Two rows: "/ query▏" (the field; the bar while it has the keys) and the toggle's note.
pub fn find_row(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let view = &model.view;
    let width = area.width as usize;
    let cursor = if view.typing { "▏" } else { "" };
    let query = view.query.value();
    // The end of a long query is what was just typed: keep it in view.
    let room = width.saturating_sub(3 + cols(cursor));
    let shown = if cols(query) > room {
        let tail: String = query.chars().rev().collect();
        let tail: String = truncate(&tail, room).chars().rev().collect();
        tail
    } else {
        query.to_string()
    };
    let key = model.key(Action::Find).unwrap_or_else(|| "/".into());
    let mut lines = vec![Line::from(vec![
        Span::styled(format!(" {key} "), theme.key()),
        Span::raw(format!("{shown}{cursor}")),
    ])];
    if view.attention_only && area.height < 2 {
        lines[0].push_span(Span::styled("  ⚠ needs attention only", theme.warn()));
    } else if view.attention_only {
        lines.push(Line::from(Span::styled(
            truncate(" ⚠ needs attention only", width),
            theme.warn(),
        )));
    } else if view.typing {
        lines.push(Line::from(Span::styled(
            truncate(" name · mailbox · host · app", width),
            theme.dim(),
        )));
    }
    Paragraph::new(lines).render(area, buf);
}

/// What the list says when the find matches nothing.
pub fn no_match(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width as usize;
    let mut lines = vec![Line::from(Span::styled(
        truncate(" No server matches.", width),
        theme.dim(),
    ))];
    if let Some(back) = model.key(Action::Back) {
        lines.push(Line::from(vec![
            Span::raw(" "),
            Span::styled(back, theme.key()),
            Span::raw(truncate(
                " shows them all.",
                width.saturating_sub(1 + cols("Esc")),
            )),
        ]));
    }
    Paragraph::new(lines).render(area, buf);
}

/// The details pane when the find matches nothing.
pub fn no_match_pane(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    use ratatui::widgets::{Block, Borders};
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border(false))
        .title(" No match ");
    let inner = block.inner(area);
    block.render(area, buf);
    no_match(model, theme, inner, buf);
}
