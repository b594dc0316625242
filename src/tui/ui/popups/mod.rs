//! Popups drawn over the screen.

pub mod bulk;
pub mod confirm;
pub mod help;
pub mod import;
pub mod log;
pub mod rotate;
pub mod settings;

use crate::tui::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// A centred rectangle of at most `w`×`h`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    area.centered(
        Constraint::Length(w.min(area.width)),
        Constraint::Length(h.min(area.height)),
    )
}

/// A form popup: `lines` in a titled frame as tall as they need, centred, with the text
/// cursor at `cursor` (column, line inside the frame) when it is visible.
pub fn form_frame(
    title: &str,
    lines: Vec<Line<'static>>,
    cursor: Option<(usize, usize)>,
    width: u16,
    theme: &Theme,
    area: Rect,
    f: &mut Frame,
) {
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let rect = centered(area, width, height);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::new()
                .borders(Borders::ALL)
                .border_style(theme.accent())
                .title(title.to_string()),
        ),
        rect,
    );
    if let Some((x, y)) = cursor
        && let (Ok(x), Ok(y)) = (u16::try_from(x), u16::try_from(y))
        && y + 2 < rect.height
    {
        f.set_cursor_position(Position::new(
            (rect.x + 1 + x).min(rect.right().saturating_sub(2)),
            rect.y + 1 + y,
        ));
    }
}
