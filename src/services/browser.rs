//! Deciding whether a browser can be opened here, and opening it.
//!
//! `webbrowser::open` returning Ok does not mean a browser opened (GUI browsers are spawned
//! in the background), and on a machine without a display it may run a text browser in our
//! terminal. So we open only when a display exists and always show the URL as well.

use std::time::Duration;

/// What we know about where we run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    pub ssh: bool,
    pub display: bool,
    /// `user@host` for an `ssh -L` line, when known.
    pub ssh_target: Option<String>,
}

impl Situation {
    /// Reads the environment through `var` (injectable for tests).
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |k: &str| var(k).is_some_and(|v| !v.is_empty());
        let ssh = set("SSH_CONNECTION") || set("SSH_TTY") || set("SSH_CLIENT");
        let display = if cfg!(target_os = "linux") {
            set("DISPLAY") || set("WAYLAND_DISPLAY")
        } else {
            true
        };
        let host = var("SSH_CONNECTION")
            .and_then(|c| c.split_whitespace().nth(2).map(str::to_string))
            .or_else(|| var("HOSTNAME"));
        let user = var("USER").or_else(|| var("LOGNAME"));
        let ssh_target = match (user, host) {
            (Some(u), Some(h)) if ssh => Some(format!(
                "{u}@{}",
                if h.contains(':') { format!("[{h}]") } else { h }
            )),
            (None, Some(h)) if ssh => Some(h),
            _ => None,
        };
        Self {
            ssh,
            display,
            ssh_target,
        }
    }

    pub fn from_env() -> Self {
        Self::detect(|k| std::env::var(k).ok())
    }

    /// Why no browser will be opened, in one line; `None` when one can be.
    pub fn no_browser_reason(&self) -> Option<&'static str> {
        match (self.ssh, self.display) {
            (true, false) => Some("No browser here (SSH session, no display)."),
            (false, false) => Some("No browser here (no display)."),
            (true, true) => Some("SSH session: a browser would open on the remote machine, not yours."),
            (false, true) => None,
        }
    }

    /// The `ssh -N -L` line for a tunnel to the listener's port.
    pub fn tunnel_command(&self, port: u16) -> String {
        format!(
            "ssh -N -L {port}:localhost:{port} {}",
            self.ssh_target.as_deref().unwrap_or("USER@THIS-HOST")
        )
    }
}

/// Browsers that run in the terminal (webbrowser runs them in the foreground on our TTY).
const TEXT_BROWSERS: [&str; 7] = [
    "lynx",
    "w3m",
    "links",
    "links2",
    "elinks",
    "browsh",
    "www-browser",
];

/// True when `$BROWSER` (a `:`-separated list) names a text-mode browser.
pub fn is_text_browser(browser_var: Option<&str>) -> bool {
    browser_var.is_some_and(|b| {
        b.split(':').any(|cmd| {
            let prog = cmd.split_whitespace().next().unwrap_or("");
            TEXT_BROWSERS.contains(&prog.rsplit('/').next().unwrap_or(""))
        })
    })
}

/// Why no browser opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    #[error("$BROWSER is a text-mode browser, which would take over this terminal; not opened")]
    TextMode,
    #[error("$BROWSER is empty")]
    Empty,
    #[error("$BROWSER ({program}) could not be started: {reason}")]
    NotStarted { program: String, reason: String },
    #[error("$BROWSER ({program}) failed ({status})")]
    Failed { program: String, status: String },
    #[error("could not open a browser: {0}")]
    Launcher(String),
}

/// Opens `url` in the default browser (caller checked [`Situation::no_browser_reason`]).
/// Refuses a text-mode `$BROWSER`, which would take over the terminal.
pub fn open(url: &str) -> Result<(), BrowserError> {
    if is_text_browser(std::env::var("BROWSER").ok().as_deref()) {
        return Err(BrowserError::TextMode);
    }
    if let Some(cmd) = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty()) {
        return open_with(&cmd, url, Duration::from_millis(1500));
    }
    webbrowser::open(url).map_err(|e| BrowserError::Launcher(e.to_string()))
}

/// Runs `$BROWSER` (the first entry of a `:`-separated list; `%s` is the URL, else the URL is
/// the last argument) and waits `grace` for it to fail. A browser that exits non-zero at once
/// (`/bin/false`, a missing display) did not open; one still running, or done with 0, did.
/// webbrowser's own `Ok` cannot say this: it does not wait.
pub fn open_with(browser: &str, url: &str, grace: Duration) -> Result<(), BrowserError> {
    let first = browser.split(':').next().unwrap_or("").trim();
    let mut words = first.split_whitespace();
    let program = words.next().ok_or(BrowserError::Empty)?;
    let mut args: Vec<String> = words.map(|w| w.replace("%s", url)).collect();
    if !first.contains("%s") {
        args.push(url.to_string());
    }
    let mut child = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| BrowserError::NotStarted {
            program: program.into(),
            reason: e.to_string(),
        })?;
    let started = std::time::Instant::now();
    while started.elapsed() < grace {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(BrowserError::Failed {
                    program: program.into(),
                    status: status.to_string(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                return Err(BrowserError::Failed {
                    program: program.into(),
                    status: e.to_string(),
                });
            }
        }
    }
    // Still running: a browser window (or its launcher) is up. It is left to run.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_that_fails_at_once_did_not_open() {
        let e = open_with("/bin/false", "http://x", Duration::from_secs(5))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/bin/false") && e.contains("failed"), "{e}");
        assert!(open_with("/bin/true", "http://x", Duration::from_secs(5)).is_ok());
        assert!(open_with("/nonexistent/browser", "http://x", Duration::from_secs(1)).is_err());
        // Still running after the grace time: taken as opened.
        assert!(open_with("sleep 5 %s", "1", Duration::from_millis(50)).is_ok());
    }
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn ssh_without_display() {
        let s = Situation::detect(env(&[
            ("SSH_CONNECTION", "203.0.113.5 51234 192.0.2.10 22"),
            ("USER", "admin"),
        ]));
        assert!(s.ssh && !s.display);
        assert_eq!(
            s.no_browser_reason(),
            Some("No browser here (SSH session, no display).")
        );
        assert_eq!(
            s.tunnel_command(8400),
            "ssh -N -L 8400:localhost:8400 admin@192.0.2.10"
        );
    }

    #[test]
    fn text_browsers_are_recognised() {
        assert!(is_text_browser(Some("/usr/bin/w3m:firefox")));
        assert!(is_text_browser(Some("lynx -accept_all_cookies %s")));
        assert!(!is_text_browser(Some("firefox")));
        assert!(!is_text_browser(None));
    }

    #[test]
    fn desktop() {
        let s = Situation::detect(env(&[("DISPLAY", ":0")]));
        assert_eq!(s.no_browser_reason(), None);
    }
}
