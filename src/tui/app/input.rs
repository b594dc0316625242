//! Terminal events → messages: key presses resolved through the key table (unbound keys go
//! to the focused text field), and on the review screen the mouse.

use crate::tui::state::Model;
use crate::tui::state::keymap;
use crate::tui::state::msg::Msg;
use ratatui::crossterm::event::Event;

/// Like [`to_msg`], with the mouse: a click or the wheel in a terminal of `area` becomes what
/// it lands on (`ui::hit`).
pub fn to_msg_in(model: &Model, event: &Event, area: ratatui::layout::Rect) -> Option<Msg> {
    match event {
        Event::Mouse(ev) => crate::tui::ui::hit::at(model, area, ev),
        other => to_msg(model, other),
    }
}

pub fn to_msg(model: &Model, event: &Event) -> Option<Msg> {
    match event {
        Event::Key(key) if key.is_press() => match keymap::resolve(&model.contexts(), key) {
            Some(action) => Some(Msg::Action(action)),
            None if model.text_focused() => Some(Msg::Text(*key)),
            None => None,
        },
        Event::Paste(text) => Some(Msg::Paste(text.clone())),
        Event::Resize(..) => Some(Msg::Resize),
        _ => None,
    }
}
