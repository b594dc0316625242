//! Terminal echo for reading a secret someone pastes (a setup code) without showing it.

use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};

/// Turns echo off on standard input while alive, and back on when dropped. On a stream that is
/// not a terminal it does nothing.
pub struct EchoOff {
    saved: Option<Termios>,
}

impl EchoOff {
    pub fn new() -> Self {
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).ok();
        if let Some(t) = &saved {
            let mut quiet = t.clone();
            // Keep ECHONL so the Enter that ends the paste still moves to a new line.
            quiet.local_modes.remove(LocalModes::ECHO);
            quiet.local_modes.insert(LocalModes::ECHONL);
            if tcsetattr(&stdin, OptionalActions::Now, &quiet).is_err() {
                return Self { saved: None };
            }
        }
        Self { saved }
    }
}

impl Default for EchoOff {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, t);
        }
    }
}
