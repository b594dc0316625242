//! Semantic styles. Only the 16 ANSI colours; with NO_COLOR, no colour at all (glyphs and
//! words carry the meaning, modifiers remain).

use crate::model::ServerState;
use crate::model::health::{Level, TokenHealth};
use crate::tui::state::Tone;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(color: bool) -> Self {
        Self { color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn err(&self) -> Style {
        self.fg(Color::Red)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn bold(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn label(&self) -> Style {
        self.dim()
    }
    pub fn border(&self, focused: bool) -> Style {
        if focused { self.accent() } else { self.dim() }
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    /// A focused form value.
    pub fn field(&self, focused: bool) -> Style {
        if focused {
            self.accent().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::new()
        }
    }
    pub fn link(&self) -> Style {
        self.fg(Color::Blue).add_modifier(Modifier::UNDERLINED)
    }
    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn tone(&self, tone: Tone) -> Style {
        match tone {
            Tone::Info => Style::new(),
            Tone::Ok => self.ok(),
            Tone::Warn => self.warn(),
            Tone::Error => self.err(),
        }
    }

    pub fn state(&self, s: ServerState) -> Style {
        match s {
            ServerState::Confirmed => self.ok(),
            ServerState::Draft => self.warn(),
        }
    }

    pub fn token(&self, t: TokenHealth) -> Style {
        match t {
            TokenHealth::Valid { .. } => self.ok(),
            TokenHealth::Refreshable => self.warn(),
            TokenHealth::NotApplicable | TokenHealth::None => self.dim(),
            _ => self.err(),
        }
    }

    /// The list's state badge: green only for a Confirmed server whose health is OK (a
    /// refused refresh or a failed test turns it red, whatever the stored state says).
    pub fn badge(&self, s: ServerState, l: Level) -> Style {
        match (s, l) {
            (_, Level::Critical | Level::Unknown) => self.err(),
            (ServerState::Confirmed, Level::Ok) => self.ok(),
            _ => self.warn(),
        }
    }

    pub fn level(&self, l: Level) -> Style {
        match l {
            Level::Ok => self.ok(),
            Level::Warning => self.warn(),
            Level::Critical | Level::Unknown => self.err(),
        }
    }
}

/// The glyph of a server state (colour is never the only signal).
pub fn state_glyph(s: ServerState) -> &'static str {
    s.glyph()
}

/// The glyph of a health level: the meaning without colour.
pub fn level_glyph(l: Level) -> &'static str {
    l.glyph()
}
