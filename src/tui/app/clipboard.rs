//! Copy through the terminal: OSC 52, wrapped for the multiplexer in between when there is one
//! (tmux: DCS passthrough with every inner ESC doubled; GNU screen: DCS, in short pieces
//! because screen limits the length of one string).

use base64::Engine as _;
use std::io::Write;

const ESC: char = '\x1b';
/// String terminator (ESC \).
const ST: &str = "\x1b\\";
/// GNU screen drops DCS strings longer than its buffer; the usual remedy is pieces of 76.
const SCREEN_CHUNK: usize = 76;

/// The terminal multiplexer between us and the real terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mux {
    None,
    Tmux,
    Screen,
}

impl Mux {
    /// `TMUX` set → tmux; else `STY` set → GNU screen (read through `var`, for tests).
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |k: &str| var(k).is_some_and(|v| !v.is_empty());
        if set("TMUX") {
            Mux::Tmux
        } else if set("STY") {
            Mux::Screen
        } else {
            Mux::None
        }
    }
}

/// Wraps an escape sequence so the multiplexer hands it to the outer terminal.
pub fn passthrough(seq: &str, mux: Mux) -> String {
    match mux {
        Mux::None => seq.to_string(),
        Mux::Tmux => {
            let doubled: String = seq
                .chars()
                .flat_map(|c| {
                    let twice = c == ESC;
                    std::iter::once(c).chain(twice.then_some(ESC))
                })
                .collect();
            format!("\x1bPtmux;{doubled}{ST}")
        }
        Mux::Screen => {
            // `seq` is ASCII (escape codes and base64), so byte chunks are char boundaries.
            let pieces: Vec<&str> = seq
                .as_bytes()
                .chunks(SCREEN_CHUNK)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            format!("\x1bP{}{ST}", pieces.join("\x1b\\\x1bP"))
        }
    }
}

/// The escape sequence that asks the terminal to put `text` on the clipboard (BEL-terminated,
/// so it nests inside a DCS, whose own terminator is ST).
pub fn osc52(text: &str, mux: Mux) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    passthrough(&format!("\x1b]52;c;{b64}\x07"), mux)
}

// What a copy answers is the app state's vocabulary (it words the result); the runtime
// only makes the copy.
pub use crate::tui::state::copied::{CopyError, Route};

/// How long tmux may take to take the buffer.
const TMUX_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// True inside tmux, whose defaults (`set-clipboard external`, no passthrough) drop an
/// application's OSC 52: copies go through [`tmux_load_buffer`] there instead.
pub fn in_tmux() -> bool {
    Mux::detect(|k| std::env::var(k).ok()) == Mux::Tmux
}

/// Copies `text` by OSC 52 (wrapped for GNU screen), written to the terminal between frames.
pub fn send(text: &str) -> std::io::Result<Route> {
    let mux = Mux::detect(|k| std::env::var(k).ok());
    let mut out = std::io::stdout();
    out.write_all(osc52(text, mux).as_bytes())?;
    out.flush()?;
    Ok(Route::Osc52)
}

/// Puts `text` into tmux's paste buffer (`-w` also hands it to the outer terminal's
/// clipboard). Blocking, at most [`TMUX_DEADLINE`]: run it off the UI task.
pub fn tmux_load_buffer(text: &str) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("tmux")
        .args(["load-buffer", "-w", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes())?;
    }
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return if status.success() {
                Ok(())
            } else {
                Err(std::io::Error::other(format!(
                    "tmux load-buffer exited with {status}"
                )))
            };
        }
        if started.elapsed() > TMUX_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("tmux did not answer"));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::ui::widgets::link::{osc8_close, osc8_open};

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn detects_the_multiplexer() {
        assert_eq!(Mux::detect(env(&[])), Mux::None);
        assert_eq!(
            Mux::detect(env(&[("TMUX", "/tmp/tmux-0/default,1,0")])),
            Mux::Tmux
        );
        assert_eq!(Mux::detect(env(&[("STY", "1234.pts-0.host")])), Mux::Screen);
        // tmux inside screen: the inner one (tmux) is the one we talk to.
        assert_eq!(
            Mux::detect(env(&[("STY", "1.x"), ("TMUX", "/tmp/t,1,0")])),
            Mux::Tmux
        );
        assert_eq!(Mux::detect(env(&[("TMUX", "")])), Mux::None);
    }

    #[test]
    fn osc52_plain_tmux_and_screen() {
        assert_eq!(osc52("hi", Mux::None), "\x1b]52;c;aGk=\x07");
        assert_eq!(osc52("hi", Mux::Tmux), "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\");
        assert_eq!(osc52("hi", Mux::Screen), "\x1bP\x1b]52;c;aGk=\x07\x1b\\");
    }

    #[test]
    fn screen_gets_short_pieces() {
        let url = format!("https://login.example/authorize?{}", "x".repeat(300));
        let seq = osc52(&url, Mux::Screen);
        assert!(seq.starts_with("\x1bP\x1b]52;c;") && seq.ends_with("\x07\x1b\\"));
        let pieces: Vec<&str> = seq
            .trim_start_matches("\x1bP")
            .trim_end_matches("\x1b\\")
            .split("\x1b\\\x1bP")
            .collect();
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| p.len() <= SCREEN_CHUNK));
        assert_eq!(pieces.concat(), osc52(&url, Mux::None));
    }

    #[test]
    fn osc8_bytes_plain_and_through_multiplexers() {
        let open = osc8_open("https://x.example/a?b=1");
        assert_eq!(open, "\x1b]8;;https://x.example/a?b=1\x1b\\");
        assert_eq!(osc8_close(), "\x1b]8;;\x1b\\");
        assert_eq!(
            passthrough(&open, Mux::Tmux),
            "\x1bPtmux;\x1b\x1b]8;;https://x.example/a?b=1\x1b\x1b\\\x1b\\"
        );
        assert_eq!(
            passthrough(osc8_close(), Mux::Screen),
            "\x1bP\x1b]8;;\x1b\\\x1b\\"
        );
        // Control characters in a URL cannot end the sequence early.
        assert_eq!(
            osc8_open("https://x/\x1b]0;pwned\x07"),
            "\x1b]8;;https://x/]0;pwned\x1b\\"
        );
    }
}
