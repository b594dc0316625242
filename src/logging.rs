//! Logs go to a file, never to the terminal. async-imap logs every command at trace level,
//! including the XOAUTH2 line (a bearer token), so its level is capped whatever RUST_LOG says.
//!
//! Logging is best effort: a log that cannot be opened (immutable, owned by root, a directory,
//! a read-only mount, a full disk) never stops a command. We open the file ourselves rather
//! than through tracing-appender, whose `rolling::never` panics when the file cannot be
//! created, and the writer swallows write errors (a full disk mid-run).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Levels always set last, so they win over the same target in `RUST_LOG`.
pub const CAPS: [(&str, LevelFilter); 3] = [
    ("async_imap", LevelFilter::INFO),
    ("imap_proto", LevelFilter::INFO),
    ("reqwest", LevelFilter::INFO),
];

/// The log file's name inside the log directory.
pub const FILE_NAME: &str = "inbound.log";

/// The filter used by the app: `RUST_LOG` (else `INBOUND_LOG`, else `info`), then [`CAPS`].
/// `target=level` directives only: tracing-subscriber's `EnvFilter` would add span and field
/// matching, which nothing here uses, and a regex engine, about a tenth of the binary.
pub fn filter() -> Targets {
    let base = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("INBOUND_LOG"))
        .unwrap_or_else(|_| "info".to_string());
    filter_from(&base)
}

fn filter_from(directives: &str) -> Targets {
    let base = directives
        .parse::<Targets>()
        .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    base.with_targets(CAPS)
}

/// Where the log went, or why there is none.
#[derive(Debug, Clone)]
pub enum LogStatus {
    Writing(PathBuf),
    /// The log cannot be written; the command goes on without it.
    Unavailable {
        path: PathBuf,
        reason: String,
    },
}

impl LogStatus {
    /// One line for a person: the path, or what is wrong and what to do.
    pub fn describe(&self) -> String {
        match self {
            LogStatus::Writing(p) => p.display().to_string(),
            LogStatus::Unavailable { path, reason } => format!(
                "no log: {} cannot be written ({reason}); check its owner and mode, or the disk",
                path.display()
            ),
        }
    }

    pub fn warning(&self) -> Option<String> {
        matches!(self, LogStatus::Unavailable { .. }).then(|| self.describe())
    }
}

/// Starts logging to `<dir>/inbound.log` (dir 0700, file 0600). Writes are synchronous (few
/// and small), which spares short commands like `inbound token` a writer thread.
pub fn init(dir: &Path) -> LogStatus {
    let path = dir.join(FILE_NAME);
    let file = match open_log(dir, &path) {
        Ok(f) => f,
        Err(e) => {
            return LogStatus::Unavailable {
                path,
                reason: e.to_string(),
            };
        }
    };
    let writer = LogFile(Arc::new(file));
    // A second init in one process (tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        // The formatter's own default is INFO: everything goes through, `filter()` decides.
        .with_max_level(LevelFilter::TRACE)
        .finish()
        .with(filter())
        .try_init();
    LogStatus::Writing(path)
}

fn open_log(dir: &Path, path: &Path) -> io::Result<File> {
    crate::store::atomic::create_private_dir(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        // A FIFO or device planted as the log must not block or be written to.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// The log file as a tracing writer. Errors (disk full, file revoked) are dropped: losing a
/// log line must never fail or stall the command.
#[derive(Clone)]
struct LogFile(Arc<File>);

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = (&*self.0).write_all(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_win_over_rust_log() {
        let f = filter_from("trace,async_imap=trace,reqwest=debug");
        assert!(f.would_enable("inbound::ops", &tracing::Level::TRACE));
        assert!(!f.would_enable("async_imap", &tracing::Level::DEBUG));
        assert!(!f.would_enable("async_imap::client", &tracing::Level::TRACE));
        assert!(!f.would_enable("reqwest::connect", &tracing::Level::DEBUG));
        assert!(f.would_enable("async_imap", &tracing::Level::INFO));
        // Unparsable directives fall back to info.
        let f = filter_from("inbound=loud");
        assert!(f.would_enable("inbound", &tracing::Level::INFO));
        assert!(!f.would_enable("inbound", &tracing::Level::DEBUG));
    }

    #[test]
    fn a_directory_in_place_of_the_log_is_reported_not_fatal() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(FILE_NAME)).unwrap();
        let status = init(tmp.path());
        assert!(matches!(status, LogStatus::Unavailable { .. }), "{status:?}");
        assert!(status.describe().contains("cannot be written"));
    }

    #[test]
    fn log_file_and_dir_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("logs");
        let path = dir.join(FILE_NAME);
        open_log(&dir, &path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_log(&dir, &path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
