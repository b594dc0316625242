//! The mouse on the review screen: a click selects a row, the wheel moves through the list or
//! scrolls the details. (Where a click lands is the render's business: `ui::hit`.)

use crate::tui::state::{Model, Screen};

/// Rows the wheel moves the selection, lines it scrolls the details.
const WHEEL_ROWS: isize = 3;
const WHEEL_LINES: i32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pointer {
    /// A click on a row of the list (an index into the rows shown).
    Row(usize),
    WheelList {
        down: bool,
    },
    WheelDetails {
        down: bool,
    },
}

impl Model {
    /// True while the app takes mouse events: the review screen with no popup. Elsewhere the
    /// terminal keeps the mouse, so a sign-in link or a command selects as text.
    pub fn wants_mouse(&self) -> bool {
        matches!(self.screen, Screen::Review) && self.popup.is_none()
    }

    pub(crate) fn on_pointer(&mut self, pointer: Pointer) {
        if !self.wants_mouse() {
            return;
        }
        match pointer {
            Pointer::Row(row) => self.select_row(row),
            Pointer::WheelList { down } => self.move_rows(if down { WHEEL_ROWS } else { -WHEEL_ROWS }),
            Pointer::WheelDetails { down } => {
                self.scroll_details(if down { WHEEL_LINES } else { -WHEEL_LINES })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pointer;
    use crate::tui::state::keymap::Action;
    use crate::tui::state::msg::Msg;
    use crate::tui::testing;

    fn selected(m: &crate::tui::state::Model) -> Option<&str> {
        m.selected_server().map(|s| s.name.as_str())
    }

    #[test]
    fn a_click_selects_and_the_wheel_moves_or_scrolls() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Mouse(Pointer::Row(2)));
        assert_eq!(m.position(), Some(2));
        let third = selected(&m).map(str::to_string);
        m.update(Msg::Mouse(Pointer::WheelDetails { down: true }));
        assert_eq!(m.details_scroll, 3);
        assert_eq!(
            selected(&m).map(str::to_string),
            third,
            "the details scroll, the selection stays"
        );
        m.update(Msg::Mouse(Pointer::WheelList { down: false }));
        assert_eq!(m.position(), Some(0));
        assert_eq!(m.details_scroll, 0, "another server's details start at the top");
        m.update(Msg::Mouse(Pointer::WheelList { down: true }));
        m.update(Msg::Mouse(Pointer::WheelList { down: true }));
        assert_eq!(m.position(), Some(4), "never past the last row");
        m.update(Msg::Mouse(Pointer::Row(99)));
        assert_eq!(m.position(), Some(4));
    }

    #[test]
    fn a_click_under_a_popup_changes_nothing() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::Help));
        m.update(Msg::Mouse(Pointer::Row(3)));
        assert_eq!(m.position(), Some(0));
    }
}
