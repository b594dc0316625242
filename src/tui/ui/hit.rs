//! Where a mouse event lands, from the same layout the render uses: a row of the list or
//! table, the details, or a key of the hint bar. Only the review screen takes the mouse (the
//! wizard leaves it to the terminal, so links and commands select as text).

use super::screens::{list, table};
use super::{ReviewLayout, frame_areas, review_layout, widgets};
use crate::tui::state::Model;
use crate::tui::state::msg::Msg;
use crate::tui::state::review::mouse::Pointer;
use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

/// The message for a mouse event in a terminal of `area`, if it lands on something.
pub fn at(model: &Model, area: Rect, ev: &MouseEvent) -> Option<Msg> {
    if !model.wants_mouse() {
        return None;
    }
    let pos = Position::new(ev.column, ev.row);
    let [_, body, _, hints] = frame_areas(model, area);
    let layout = review_layout(model, body);
    match ev.kind {
        MouseEventKind::Down(MouseButton::Left) if hints.contains(pos) => {
            let bindings = super::shown_hints(model);
            widgets::hints::placed(&bindings, hints.width)
                .into_iter()
                .find(|(_, cols)| cols.contains(&(pos.x - hints.x)))
                .map(|(b, _)| Msg::Action(b.action))
        }
        MouseEventKind::Down(MouseButton::Left) => match layout {
            ReviewLayout::Table { table: t, .. } if t.contains(pos) => {
                table::row_at(model, t, pos.y).map(|r| Msg::Mouse(Pointer::Row(r)))
            }
            ReviewLayout::TwoPane { list: l, .. } | ReviewLayout::ListOnly(l) if l.contains(pos) => {
                list::row_at(model, l, pos.y).map(|r| Msg::Mouse(Pointer::Row(r)))
            }
            _ => None,
        },
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let down = ev.kind == MouseEventKind::ScrollDown;
            let over_list = match layout {
                ReviewLayout::Table { table: l, .. }
                | ReviewLayout::TwoPane { list: l, .. }
                | ReviewLayout::ListOnly(l) => l.contains(pos),
                ReviewLayout::DetailsOnly(_) => false,
            };
            let over_details = match layout {
                ReviewLayout::Table { details: d, .. }
                | ReviewLayout::TwoPane { details: d, .. }
                | ReviewLayout::DetailsOnly(d) => d.contains(pos),
                ReviewLayout::ListOnly(_) => false,
            };
            if over_list {
                Some(Msg::Mouse(Pointer::WheelList { down }))
            } else if over_details {
                Some(Msg::Mouse(Pointer::WheelDetails { down }))
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::keymap::Action;
    use crate::tui::testing;
    use ratatui::crossterm::event::KeyModifiers;

    fn hit(m: &Model, area: Rect, ev: &MouseEvent) -> Option<String> {
        at(m, area, ev).map(|msg| format!("{msg:?}"))
    }

    fn want(msg: Msg) -> Option<String> {
        Some(format!("{msg:?}"))
    }

    fn click(x: u16, y: u16) -> MouseEvent {
        MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }
    }

    fn wheel(down: bool, x: u16, y: u16) -> MouseEvent {
        MouseEvent {
            kind: if down {
                MouseEventKind::ScrollDown
            } else {
                MouseEventKind::ScrollUp
            },
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }
    }

    #[test]
    fn a_click_on_the_list_at_80x24_finds_the_row_under_it() {
        let m = testing::model(testing::populated());
        let area = Rect::new(0, 0, 80, 24);
        // Title row 0, the frame's top at 1; each server takes two lines from row 2.
        assert_eq!(hit(&m, area, &click(5, 2)), want(Msg::Mouse(Pointer::Row(0))));
        assert_eq!(hit(&m, area, &click(5, 3)), want(Msg::Mouse(Pointer::Row(0))));
        assert_eq!(hit(&m, area, &click(5, 4)), want(Msg::Mouse(Pointer::Row(1))));
        assert_eq!(hit(&m, area, &click(5, 11)), want(Msg::Mouse(Pointer::Row(4))));
        assert_eq!(hit(&m, area, &click(5, 12)), None, "below the last server");
        assert_eq!(hit(&m, area, &click(5, 1)), None, "the frame");
        assert_eq!(hit(&m, area, &click(40, 4)), None, "the details");
    }

    #[test]
    fn a_click_on_the_table_at_140x40_skips_the_header() {
        let m = testing::model(testing::populated());
        let area = Rect::new(0, 0, 140, 40);
        // Title 0, frame top 1, header 2, first row 3.
        assert_eq!(hit(&m, area, &click(10, 2)), None);
        assert_eq!(hit(&m, area, &click(10, 3)), want(Msg::Mouse(Pointer::Row(0))));
        assert_eq!(hit(&m, area, &click(10, 5)), want(Msg::Mouse(Pointer::Row(2))));
    }

    #[test]
    fn the_wheel_scrolls_what_it_is_over() {
        let m = testing::model(testing::populated());
        let area = Rect::new(0, 0, 80, 24);
        assert_eq!(
            hit(&m, area, &wheel(true, 5, 5)),
            want(Msg::Mouse(Pointer::WheelList { down: true }))
        );
        assert_eq!(
            hit(&m, area, &wheel(false, 50, 5)),
            want(Msg::Mouse(Pointer::WheelDetails { down: false }))
        );
    }

    #[test]
    fn a_click_on_a_key_of_the_hint_bar_does_it() {
        let m = testing::model(testing::populated());
        let area = Rect::new(0, 0, 80, 24);
        // The bar reads " n new  e edit  c connect …" on the last row.
        assert_eq!(hit(&m, area, &click(1, 23)), want(Msg::Action(Action::New)));
        assert_eq!(
            hit(&m, area, &click(5, 23)),
            want(Msg::Action(Action::New)),
            "its words too"
        );
        assert_eq!(hit(&m, area, &click(8, 23)), want(Msg::Action(Action::Edit)));
        assert_eq!(hit(&m, area, &click(0, 23)), None, "the margin");
    }

    #[test]
    fn the_wizard_and_popups_leave_the_mouse_alone() {
        let mut m = testing::model(testing::populated());
        let area = Rect::new(0, 0, 80, 24);
        m.update(Msg::Action(Action::Help));
        assert_eq!(hit(&m, area, &click(5, 2)), None);
        m.update(Msg::Action(Action::CloseHelp));
        m.update(Msg::Action(Action::New));
        assert!(!m.wants_mouse());
        assert_eq!(hit(&m, area, &click(1, 23)), None);
    }
}
