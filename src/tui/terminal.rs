//! Taking the terminal and giving it back on every exit path: normal, error, signal, panic.

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use std::io::{self, Stdout, stdout};

/// While alive, the terminal is in raw mode on the alternate screen; dropping restores it.
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    pub fn enter() -> io::Result<(Self, Terminal<CrosstermBackend<Stdout>>)> {
        let guard = Self { _private: () };
        enable_raw_mode()?;
        execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Best effort: each step is tried even if an earlier one failed.
pub fn restore() {
    if let Err(e) = disable_raw_mode() {
        tracing::warn!(error = %e, "could not leave raw mode");
    }
    // Mouse reporting off whatever the app last asked (a terminal left reporting clicks
    // would type escape sequences into the shell).
    if let Err(e) = execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    ) {
        tracing::warn!(error = %e, "could not leave the alternate screen");
    }
}

/// A panic anywhere (a spawned task included) restores the terminal, is logged, printed, and
/// ends the process: the UI must not keep running on a restored terminal.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!(%info, "panic");
        previous(info);
        std::process::exit(101);
    }));
}

/// Mouse reporting on (the review screen takes clicks and the wheel) or off (the terminal
/// selects text). Best effort: a terminal that cannot is used with the keys.
pub fn set_mouse(on: bool) {
    let result = if on {
        execute!(stdout(), EnableMouseCapture)
    } else {
        execute!(stdout(), DisableMouseCapture)
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, on, "could not change mouse reporting");
    }
}
