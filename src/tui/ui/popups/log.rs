//! The message log popup: every status line of the session with its time, long ones wrapped
//! whole (the status bar cuts them with "…"), the newest at the bottom, scrollable.

use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::state::{Model, Tone};
use crate::tui::ui::theme::Theme;
use crate::tui::ui::widgets::text::wrap;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

/// "14:02:11 ✔ " before each line; wrapped lines are indented under the text.
const LEAD: usize = 11;

fn glyph(tone: Tone) -> &'static str {
    match tone {
        Tone::Info => "·",
        Tone::Ok => "✔",
        Tone::Warn => "⚠",
        Tone::Error => "✖",
    }
}

/// The log's lines wrapped to `width` columns, oldest first.
pub fn lines(model: &Model, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for l in &model.log {
        let time = l.at.to_zoned(model.tz.clone()).strftime("%H:%M:%S").to_string();
        for (i, part) in wrap(&l.text, width.saturating_sub(LEAD)).into_iter().enumerate() {
            let lead = if i == 0 {
                vec![
                    Span::styled(format!("{time} "), theme.dim()),
                    Span::styled(format!("{} ", glyph(l.tone)), theme.tone(l.tone)),
                ]
            } else {
                vec![Span::raw(" ".repeat(LEAD))]
            };
            let mut spans = lead;
            spans.push(Span::styled(part, theme.tone(l.tone)));
            out.push(Line::from(spans));
        }
    }
    out
}

pub fn render(model: &Model, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = area.width.saturating_sub(4).clamp(20, 110);
    let inner_w = usize::from(width.saturating_sub(2));
    let mut all = lines(model, theme, inner_w);
    if all.is_empty() {
        all.push(Line::from(Span::styled(
            "Nothing was said yet in this session.",
            theme.dim(),
        )));
    }
    // As tall as the lines need, at most the terminal less a margin.
    let needed = u16::try_from(all.len() + 2).unwrap_or(u16::MAX);
    let height = needed.min(area.height.saturating_sub(2)).max(3);
    let rect = super::centered(area, width, height);
    let visible = usize::from(height.saturating_sub(2));
    // Scrolled up from the newest line, never past the oldest.
    let max_up = all.len().saturating_sub(visible);
    let up = usize::from(model.log_scroll).min(max_up);
    let start = all.len().saturating_sub(visible + up);
    let shown: Vec<Line<'static>> = all.into_iter().skip(start).take(visible).collect();
    let more = match (up < max_up, up > 0) {
        (true, true) => " · ↑↓ older / newer",
        (true, false) => " · ↑ older",
        (false, true) => " · ↓ newer",
        (false, false) => "",
    };
    let close = keymap::keys_line(&[Ctx::Log], &[(Action::Back, "closes")]);
    let count = match model.log.len() {
        1 => "1 message".to_string(),
        n => format!("{n} messages"),
    };
    Clear.render(rect, buf);
    Paragraph::new(shown)
        .block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(theme.accent())
                .title(format!(" Messages · {count}{more} · {close} ")),
        )
        .render(rect, buf);
}
