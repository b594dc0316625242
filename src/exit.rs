//! Process exit codes (also listed in `inbound --help`), one set for the CLI and the app.

pub const OK: u8 = 0;
pub const FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const NOT_FOUND: u8 = 3;
pub const STORE: u8 = 4;
pub const NEEDS_YOU: u8 = 5;
pub const INTERRUPTED: u8 = 130;

/// The shell's convention for a process ended by a signal: 128 + its number.
pub fn for_signal(name: &str) -> u8 {
    match name {
        "SIGHUP" => 129,
        "SIGQUIT" => 131,
        "SIGTERM" => 143,
        _ => INTERRUPTED,
    }
}
