//! The session's message log: every status line said since the app started, kept whole so
//! a long one cut by the status bar can be read in the log popup.

use super::keymap::Action;
use super::{Model, Popup, Tone};
use jiff::Timestamp;

/// The oldest lines go beyond this many (a session that ran for days stays small).
pub const KEEP: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: Timestamp,
    pub tone: Tone,
    pub text: String,
}

/// Lines the log moves per page key.
const PAGE: u16 = 10;

impl Model {
    /// Keeps a status line in the log (the same line said again in a row is kept once).
    pub(crate) fn log_status(&mut self, tone: Tone, text: &str) {
        if self.log.last().is_some_and(|l| l.tone == tone && l.text == text) {
            return;
        }
        if self.log.len() >= KEEP {
            self.log.remove(0);
        }
        self.log.push(LogLine {
            at: self.now,
            tone,
            text: text.to_string(),
        });
    }

    /// Opens the log at its newest line.
    pub(crate) fn open_log(&mut self) {
        self.popup = Some(Popup::Log);
        self.log_scroll = 0;
    }

    /// Keys in the log popup. `log_scroll` counts lines up from the newest; the render
    /// stops it at the oldest.
    pub(crate) fn log_action(&mut self, action: Action) {
        let s = &mut self.log_scroll;
        match action {
            Action::Up => *s = s.saturating_add(1),
            Action::Down => *s = s.saturating_sub(1),
            Action::PageUp => *s = s.saturating_add(PAGE),
            Action::PageDown => *s = s.saturating_sub(PAGE),
            Action::First => *s = u16::MAX,
            Action::Last => *s = 0,
            Action::Back | Action::Messages => self.popup = None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tui::state::keymap::Action;
    use crate::tui::state::msg::Msg;
    use crate::tui::state::{Popup, Tone};
    use crate::tui::testing;

    #[test]
    fn every_status_line_is_kept_in_order_and_a_repeat_once() {
        let mut m = testing::model(testing::populated());
        m.say(Tone::Info, "first");
        m.say(Tone::Warn, "second");
        m.say(Tone::Warn, "second");
        m.say(Tone::Ok, "third");
        let texts: Vec<&str> = m.log.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["first", "second", "third"]);
        assert_eq!(m.log[1].tone, Tone::Warn);
        assert_eq!(m.log[0].at, m.now);
    }

    #[test]
    fn the_log_keeps_the_newest_lines() {
        let mut m = testing::model(testing::empty());
        for i in 0..super::KEEP + 5 {
            m.say(Tone::Info, format!("line {i}"));
        }
        assert_eq!(m.log.len(), super::KEEP);
        assert_eq!(m.log[0].text, "line 5");
    }

    #[test]
    fn the_popup_opens_at_the_newest_scrolls_and_closes() {
        let mut m = testing::model(testing::populated());
        m.say(Tone::Info, "something");
        m.update(Msg::Action(Action::Messages));
        assert_eq!(m.popup, Some(Popup::Log));
        assert_eq!(m.log_scroll, 0);
        m.update(Msg::Action(Action::Up));
        m.update(Msg::Action(Action::PageUp));
        assert_eq!(m.log_scroll, 11);
        m.update(Msg::Action(Action::Last));
        assert_eq!(m.log_scroll, 0);
        m.update(Msg::Action(Action::Down));
        assert_eq!(m.log_scroll, 0, "never below the newest");
        // Keys of the list do nothing under it.
        m.update(Msg::Action(Action::Delete));
        assert_eq!(m.popup, Some(Popup::Log));
        m.update(Msg::Action(Action::Back));
        assert_eq!(m.popup, None);
    }
}
