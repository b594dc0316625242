//! Popups drawn over the screen.

pub mod confirm;
pub mod help;
pub mod rotate;
pub mod settings;

use ratatui::layout::{Constraint, Rect};

/// A centred rectangle of at most `w`×`h`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    area.centered(
        Constraint::Length(w.min(area.width)),
        Constraint::Length(h.min(area.height)),
    )
}
