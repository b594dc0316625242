//! The one field engine. Every text field of the app is a [`TextField`] (the server form and
//! the guide's fields, the settings and new-secret popups, the setup-code and paste-back
//! fields, the import path, the list's find); a form's fields, the error under each, which
//! one has the keys and whether its secret is shown are a [`Fields`]. The shape of ratatui's
//! `input-form` example and gitui's `TextInputComponent`; tui-input does the editing keys.

use crate::secret::Secret;
use ratatui::crossterm::event::{Event, KeyEvent};
use std::collections::BTreeMap;
use tui_input::backend::crossterm::EventHandler;
use tui_input::{Input, InputRequest};

/// One line of text. A secret one (a client secret, a password) is masked on screen and its
/// `Debug` shows only its length, so that no such field can end up in the log.
#[derive(Clone, Default)]
pub struct TextField {
    input: Input,
    secret: bool,
}

impl std::fmt::Debug for TextField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.secret {
            f.debug_struct("SecretField").field("len", &self.len()).finish()
        } else {
            self.value().fmt(f)
        }
    }
}

/// Two fields are equal when they hold the same text the same way (the cursor aside).
impl PartialEq for TextField {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret && self.value() == other.value()
    }
}

impl Eq for TextField {}

impl TextField {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            input: Input::new(value.into()),
            secret: false,
        }
    }

    /// A field that holds a secret: masked, and never in `Debug`.
    pub fn masked(value: impl Into<String>) -> Self {
        Self {
            secret: true,
            ..Self::new(value)
        }
    }

    pub fn is_secret(&self) -> bool {
        self.secret
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// The trimmed text as a [`Secret`], for handing to the core.
    pub fn secret(&self) -> Secret {
        Secret::new(self.value().trim())
    }

    pub fn is_empty(&self) -> bool {
        self.value().is_empty()
    }

    /// Characters typed (what a mask of dots shows).
    pub fn len(&self) -> usize {
        self.value().chars().count()
    }

    /// Replaces the text (the cursor goes to its end); a secret field stays secret.
    pub fn set(&mut self, value: impl Into<String>) {
        self.input = Input::new(value.into());
    }

    pub fn clear(&mut self) {
        self.set(String::new());
    }

    /// A key typed into the field; true when the text changed.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        self.input.handle_event(&Event::Key(key)).is_some_and(|c| c.value)
    }

    /// ← (`delta` < 0) or → in the field.
    pub fn move_cursor(&mut self, delta: isize) {
        self.input.handle(if delta < 0 {
            InputRequest::GoToPrevChar
        } else {
            InputRequest::GoToNextChar
        });
    }

    /// A paste into a one-line field: control characters (line breaks) are dropped.
    pub fn paste(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            self.input.handle(InputRequest::InsertChar(c));
        }
    }

    /// A paste that replaces the text: control characters dropped, the ends trimmed (an
    /// address copied with its line break).
    pub fn set_pasted(&mut self, text: &str) {
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        self.set(clean.trim());
    }

    /// A paste that keeps its line breaks (as `\n`), for text whose reader rejoins lines
    /// itself (a setup code wrapped by the terminal).
    pub fn paste_lines(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        for c in text.chars().filter(|c| *c == '\n' || !c.is_control()) {
            self.input.handle(InputRequest::InsertChar(c));
        }
    }

    /// The cursor's column in the text.
    pub fn visual_cursor(&self) -> usize {
        self.input.visual_cursor()
    }

    /// How far the text is scrolled to keep the cursor in `width` columns.
    pub fn visual_scroll(&self, width: usize) -> usize {
        self.input.visual_scroll(width)
    }
}

/// A field that always holds a secret (its `Default` is masked too): the setup code, the
/// address carrying an authorization code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretField(TextField);

impl Default for SecretField {
    fn default() -> Self {
        Self(TextField::masked(""))
    }
}

impl std::ops::Deref for SecretField {
    type Target = TextField;
    fn deref(&self) -> &TextField {
        &self.0
    }
}

impl std::ops::DerefMut for SecretField {
    fn deref_mut(&mut self) -> &mut TextField {
        &mut self.0
    }
}

/// `at` moved `delta` places round `order` (wrapping); an `at` not in `order` counts as its
/// first. Where `order` is empty, `at` stays.
pub fn ring<F: Clone + PartialEq>(order: &[F], at: F, delta: isize) -> F {
    let i = order.iter().position(|f| *f == at).unwrap_or(0);
    let n = order.len() as isize;
    let next = (i as isize + delta).rem_euclid(n.max(1)) as usize;
    order.get(next).cloned().unwrap_or(at)
}

/// A form's text fields by id, the error under each, the field with the keys (a form may
/// also hold choices, so the focus is any id) and whether the focused secret is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fields<F: Ord + Copy> {
    inputs: BTreeMap<F, TextField>,
    pub focus: F,
    pub errors: BTreeMap<F, String>,
    /// The focused secret is shown in clear (masked again on leaving the field).
    pub reveal: bool,
}

impl<F: Ord + Copy> Fields<F> {
    pub fn new(focus: F, inputs: impl IntoIterator<Item = (F, TextField)>) -> Self {
        Self {
            inputs: inputs.into_iter().collect(),
            focus,
            errors: BTreeMap::new(),
            reveal: false,
        }
    }

    pub fn get(&self, f: F) -> Option<&TextField> {
        self.inputs.get(&f)
    }

    pub fn value(&self, f: F) -> &str {
        self.inputs.get(&f).map_or("", TextField::value)
    }

    /// Replaces the text of `f` (a secret field stays secret).
    pub fn set(&mut self, f: F, value: &str) {
        self.inputs.entry(f).or_default().set(value);
    }

    /// True when the focused field takes typed text.
    pub fn focus_is_text(&self) -> bool {
        self.inputs.contains_key(&self.focus)
    }

    /// Types `key` into `f`; true when its text changed.
    pub fn key_into(&mut self, f: F, key: KeyEvent) -> bool {
        self.inputs.get_mut(&f).is_some_and(|i| i.key(key))
    }

    /// Types `key` into the focused field.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        self.key_into(self.focus, key)
    }

    /// Pastes `text` into `f` (line breaks dropped).
    pub fn paste_into(&mut self, f: F, text: &str) {
        if let Some(i) = self.inputs.get_mut(&f) {
            i.paste(text);
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.paste_into(self.focus, text);
    }

    /// ←/→ in the focused field.
    pub fn move_cursor(&mut self, delta: isize) {
        if let Some(i) = self.inputs.get_mut(&self.focus) {
            i.move_cursor(delta);
        }
    }

    /// The error under `f` becomes `error` (`None` clears it).
    pub fn mark(&mut self, f: F, error: Option<String>) {
        match error {
            Some(e) => self.errors.insert(f, e),
            None => self.errors.remove(&f),
        };
    }

    /// Leaving `f`: its check's answer goes under it, and secrets are masked again.
    pub fn leave(&mut self, f: F, error: Option<String>) {
        self.reveal = false;
        self.mark(f, error);
    }

    /// Moves the focus `delta` places round `order` (the fields that take it now).
    pub fn step(&mut self, order: &[F], delta: isize) {
        self.focus = ring(order, self.focus, delta);
    }

    /// Errors replace the old ones (the first for a field wins); the first field of `order`
    /// with one gets the focus, masked.
    pub fn show_errors(&mut self, errors: impl IntoIterator<Item = (F, String)>, order: &[F]) {
        self.errors.clear();
        for (f, e) in errors {
            self.errors.entry(f).or_insert(e);
        }
        if let Some(first) = order.iter().find(|f| self.errors.contains_key(f)) {
            self.focus = *first;
        }
        self.reveal = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn a_secret_shows_its_length_only() {
        let mut s = TextField::masked("abc8Q~hidden");
        s.paste("\nmore");
        let d = format!("{s:?}");
        assert!(!d.contains("hidden") && !d.contains("more"), "{d}");
        assert!(d.contains("16"), "{d}");
        assert_eq!(s.value(), "abc8Q~hiddenmore");
        let d = format!("{:?}", SecretField::default());
        assert!(d.contains("SecretField"), "{d}");
    }

    #[test]
    fn paste_lines_keeps_line_breaks() {
        let mut s = SecretField::default();
        s.paste_lines("a\r\nb\rc\u{7}");
        assert_eq!(s.value(), "a\nb\nc");
    }

    #[test]
    fn the_ring_wraps_both_ways() {
        let order = [1, 2, 3];
        assert_eq!(ring(&order, 3, 1), 1);
        assert_eq!(ring(&order, 1, -1), 3);
        assert_eq!(ring(&order, 9, 1), 2, "an unknown focus counts as the first");
        assert_eq!(ring(&[] as &[i32], 5, 1), 5);
    }

    #[test]
    fn keys_go_to_the_focused_field_and_errors_take_the_focus() {
        let mut f = Fields::new(1, [(1, TextField::new("")), (2, TextField::masked(""))]);
        assert!(f.key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)));
        f.step(&[1, 2], 1);
        f.paste("y\n");
        assert_eq!((f.value(1), f.value(2)), ("x", "y"));
        f.reveal = true;
        f.show_errors([(2, "bad".to_string()), (2, "later".to_string())], &[1, 2]);
        assert_eq!(
            (f.focus, f.errors.get(&2).map(String::as_str), f.reveal),
            (2, Some("bad"), false)
        );
        f.focus = 3;
        assert!(!f.focus_is_text());
    }
}
