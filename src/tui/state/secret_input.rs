//! A text field that holds a secret (a client secret, a password, a setup code, an address
//! carrying an authorization code). One type, so that no such field can end up in `Debug`
//! output or the log: its `Debug` shows only the length.

use crate::secret::Secret;
use ratatui::crossterm::event::{Event, KeyEvent};
use tui_input::backend::crossterm::EventHandler;
use tui_input::{Input, InputRequest};

#[derive(Clone, Default)]
pub struct SecretInput(Input);

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretInput").field("len", &self.len()).finish()
    }
}

impl SecretInput {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Input::new(value.into()))
    }

    /// The text, for handing to the core (wrap it in a [`Secret`] there) and for the screen's
    /// reveal toggle.
    pub fn value(&self) -> &str {
        self.0.value()
    }

    /// The trimmed text as a [`Secret`].
    pub fn secret(&self) -> Secret {
        Secret::new(self.0.value().trim())
    }

    pub fn is_empty(&self) -> bool {
        self.0.value().is_empty()
    }

    /// Characters typed (what a mask of dots shows).
    pub fn len(&self) -> usize {
        self.0.value().chars().count()
    }

    pub fn visual_cursor(&self) -> usize {
        self.0.visual_cursor()
    }

    pub fn visual_scroll(&self, width: usize) -> usize {
        self.0.visual_scroll(width)
    }

    pub fn key(&mut self, key: KeyEvent) {
        self.0.handle_event(&Event::Key(key));
    }

    pub fn handle(&mut self, req: InputRequest) {
        self.0.handle(req);
    }

    /// A paste into a one-line field: control characters (line breaks) are dropped.
    pub fn paste(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            self.0.handle(InputRequest::InsertChar(c));
        }
    }

    /// A paste that keeps its line breaks (as `\n`), for text whose reader rejoins lines
    /// itself (a setup code wrapped by the terminal).
    pub fn paste_lines(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        for c in text.chars().filter(|c| *c == '\n' || !c.is_control()) {
            self.0.handle(InputRequest::InsertChar(c));
        }
    }

    pub fn clear(&mut self) {
        self.0 = Input::default();
    }
}

/// What a widget reads from a text field, plain or secret.
pub trait FieldText {
    fn text(&self) -> &str;
    fn cursor(&self) -> usize;
    fn scroll(&self, width: usize) -> usize;
}

impl FieldText for Input {
    fn text(&self) -> &str {
        self.value()
    }
    fn cursor(&self) -> usize {
        self.visual_cursor()
    }
    fn scroll(&self, width: usize) -> usize {
        self.visual_scroll(width)
    }
}

impl FieldText for SecretInput {
    fn text(&self) -> &str {
        self.value()
    }
    fn cursor(&self) -> usize {
        self.visual_cursor()
    }
    fn scroll(&self, width: usize) -> usize {
        self.visual_scroll(width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_length_only() {
        let mut s = SecretInput::new("abc8Q~hidden");
        s.paste("\nmore");
        let d = format!("{s:?}");
        assert!(!d.contains("hidden") && !d.contains("more"), "{d}");
        assert!(d.contains("16"), "{d}");
        assert_eq!(s.value(), "abc8Q~hiddenmore");
    }

    #[test]
    fn paste_lines_keeps_line_breaks() {
        let mut s = SecretInput::default();
        s.paste_lines("a\r\nb\rc\u{7}");
        assert_eq!(s.value(), "a\nb\nc");
    }
}
