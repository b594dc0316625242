//! tmux for the end-to-end walks: one server on its own socket, an 80×24 shell, keys, and
//! polling the pane for text with a deadline.

use std::time::{Duration, Instant};
use tokio::process::Command;

pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn required() -> bool {
    std::env::var("INBOUND_REQUIRE_DOVECOT").is_ok_and(|v| v == "1")
}

pub fn have(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg(if tool == "tmux" { "-V" } else { "--version" })
        .output()
        .is_ok_and(|o| o.status.success())
}

/// True when tmux is here; otherwise says what is skipped (and fails when tests are required).
pub fn tmux_or_skip(what: &str) -> bool {
    tools_or_skip(&["tmux"], what)
}

/// True when every one of `tools` is here; otherwise says what is skipped (and fails when
/// tests are required).
pub fn tools_or_skip(tools: &[&str], what: &str) -> bool {
    for tool in tools {
        if !have(tool) {
            assert!(
                !required(),
                "{tool} is not installed, but INBOUND_REQUIRE_DOVECOT=1"
            );
            eprintln!("{tool} not installed; skipping {what}");
            return false;
        }
    }
    true
}

/// `env -u …`: what a command typed into the pane is prefixed with so that it sees no display
/// and no SSH session, whatever the machine running the tests has.
pub const NO_DISPLAY: &str = "env -u DISPLAY -u WAYLAND_DISPLAY -u SSH_CONNECTION -u SSH_CLIENT -u SSH_TTY";

/// One tmux server on its own socket, killed on drop.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// A tmux server for one test, its socket named after `label`, this process and a count,
    /// so no two tests of the suite share one.
    pub fn new(label: &str) -> Tmux {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Tmux {
            socket: format!("inbound-{label}-{}-{n}", std::process::id()),
        }
    }

    /// An 80×24 session running a plain shell with a recognisable prompt, once the prompt
    /// shows; returns the shell's pid (what it starts runs as its child).
    pub async fn start_shell(&self) -> String {
        let pid = self
            .run(&[
                "new-session",
                "-d",
                "-P",
                "-F",
                "#{pane_pid}",
                "-s",
                "walk",
                "-x",
                "80",
                "-y",
                "24",
                "env",
                "PS1=shell$ ",
                "sh",
            ])
            .await
            .trim()
            .to_string();
        self.wait_for("shell$", &String::new).await;
        pid
    }

    pub async fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .await
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub async fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "walk"];
        args.extend_from_slice(keys);
        self.run(&args).await;
    }

    /// Types text literally.
    pub async fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "walk", "-l", text]).await;
    }

    pub async fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "walk"]).await
    }

    /// Resizes the window and waits until the app has redrawn at the new width (a box border
    /// `columns` wide on screen), so the next key is read after the resize, never racing it.
    pub async fn resize_and_wait(&self, columns: u16, rows: u16, context: &dyn Fn() -> String) {
        let (x, y) = (columns.to_string(), rows.to_string());
        self.run(&["resize-window", "-t", "walk", "-x", &x, "-y", &y])
            .await;
        let start = Instant::now();
        loop {
            let screen = self.screen().await;
            let redrawn = screen.lines().any(|l| {
                let l = l.trim_end();
                l.starts_with('┌') && l.ends_with('┐') && l.chars().count() == usize::from(columns)
            });
            if redrawn {
                return;
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "the app did not redraw at {columns} columns within {DEADLINE:?}. Screen:\n{screen}\n{}",
                    context()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls the pane until `needle` shows, within [`DEADLINE`].
    pub async fn wait_for(&self, needle: &str, context: &dyn Fn() -> String) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen().await;
            if screen.contains(needle) {
                return screen;
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "{needle:?} did not appear within {DEADLINE:?}. Screen:\n{screen}\n{}",
                    context()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
