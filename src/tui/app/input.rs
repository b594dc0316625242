//! Terminal events → messages: key presses only, resolved through the key table; unbound
//! keys go to the focused text field.

use crate::tui::state::Model;
use crate::tui::state::keymap;
use crate::tui::state::msg::Msg;
use ratatui::crossterm::event::Event;

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
