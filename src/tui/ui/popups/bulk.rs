//! The batch popup: each server's progress (the stage under way, its elapsed time against its
//! time-out), then the summary and what to do about the failures.

use crate::textwidth::{cols, pad, truncate};
use crate::tui::state::Model;
use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::state::review::bulk::{Bulk, RowState, stage_timeout};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::wrap;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

fn row_line(
    model: &Model,
    theme: &Theme,
    name: &str,
    state: &RowState,
    name_w: usize,
    width: usize,
) -> Line<'static> {
    let spin = SPINNER[(model.frame % 4) as usize];
    let (glyph, style, text) = match state {
        RowState::Waiting => ("·", theme.dim(), "waiting".to_string()),
        RowState::Running { stage, since } => {
            let secs = model.now.duration_since(*since).as_secs().max(0);
            let text = match stage {
                Some(s) => format!(
                    "{}… {secs} s (time-out {} s)",
                    s.label(),
                    stage_timeout(*s).as_secs()
                ),
                None => format!("under way… {secs} s"),
            };
            (spin, theme.accent(), text)
        }
        RowState::Passed(t) => ("✔", theme.ok(), t.clone()),
        RowState::Failed { message, .. } => ("✖", theme.err(), message.clone()),
        RowState::Skipped { why, .. } => ("–", theme.dim(), format!("skipped: {why}")),
        RowState::Cancelled => ("–", theme.dim(), "not started (stopped)".to_string()),
    };
    let name = pad(&truncate(name, name_w), name_w);
    let rest = width.saturating_sub(name_w + 4);
    Line::from(vec![
        Span::styled(format!(" {glyph} "), style),
        Span::raw(format!("{name} ")),
        Span::styled(truncate(&text, rest), style),
    ])
}

pub fn render(model: &Model, bulk: &Bulk, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let w = area.width.saturating_sub(4).clamp(20, 110);
    // As tall as the rows need (summary, two more lines, a blank, the rows), within the screen.
    let want = u16::try_from(bulk.rows.len() + 6).unwrap_or(u16::MAX);
    let h = want.min(area.height.saturating_sub(2)).max(6);
    let rect = super::centered(area, w, h);
    Clear.render(rect, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(format!(" {} ", bulk.title()));
    let inner = block.inner(rect);
    block.render(rect, buf);
    let width = inner.width as usize;
    // The summary first and wrapped whole: it is what the batch comes down to.
    let mut lines: Vec<Line> = wrap(&bulk.summary(model.now), width.saturating_sub(1))
        .into_iter()
        .map(|l| Line::from(Span::styled(format!(" {l}"), theme.bold())))
        .collect();
    let need = bulk.need_sign_in();
    if !bulk.running() && !need.is_empty() {
        let key = keymap::key_or_mark(&[Ctx::BulkDone], Action::Connect);
        let text = format!(
            "{} need a sign-in: {} — {key} signs them in, one by one.",
            need.len(),
            need.join(", ")
        );
        lines.extend(
            wrap(&text, width.saturating_sub(1))
                .into_iter()
                .map(|l| Line::from(format!(" {l}"))),
        );
    }
    if bulk.cancelling && bulk.running() {
        lines.push(Line::from(Span::styled(
            " Stopping: the servers under way finish.",
            theme.warn(),
        )));
    }
    lines.push(Line::default());
    let name_w = bulk
        .rows
        .iter()
        .map(|(n, _)| cols(n))
        .max()
        .unwrap_or(0)
        .min(width / 3)
        .max(4);
    let room = (inner.height as usize).saturating_sub(lines.len());
    let first = usize::from(bulk.scroll).min(bulk.rows.len().saturating_sub(room));
    for (name, state) in bulk.rows.iter().skip(first).take(room) {
        lines.push(row_line(model, theme, name, state, name_w, width));
    }
    Paragraph::new(lines).render(inner, buf);
}
