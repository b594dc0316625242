//! Logs go to a file, never to the terminal. async-imap logs every command at trace level,
//! including the XOAUTH2 line (a bearer token), so its level is capped whatever RUST_LOG says.

use std::path::Path;
use tracing_subscriber::EnvFilter;

/// Directives always appended last, so they win over `RUST_LOG`.
pub const CAPS: [&str; 3] = ["async_imap=info", "imap_proto=info", "reqwest=info"];

/// The filter used by the app: `RUST_LOG` (else `INBOUND_LOG`, else `info`), then [`CAPS`].
pub fn filter() -> EnvFilter {
    let base = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("INBOUND_LOG"))
        .unwrap_or_else(|_| "info".to_string());
    let mut f = EnvFilter::try_new(&base).unwrap_or_else(|_| EnvFilter::new("info"));
    for cap in CAPS {
        if let Ok(d) = cap.parse() {
            f = f.add_directive(d);
        }
    }
    f
}

/// Starts logging to `<dir>/inbound.log`. Logging is best effort: when the directory cannot
/// be created we run without a log. Writes are synchronous (few and small), which spares
/// short commands like `inbound token` a writer thread; the returned value is kept for API
/// stability and may be dropped.
pub fn init(dir: &Path) -> Option<LogGuard> {
    crate::store::atomic::create_private_dir(dir).ok()?;
    let appender = tracing_appender::rolling::never(dir, "inbound.log");
    tracing_subscriber::fmt()
        .with_writer(appender)
        .with_ansi(false)
        .with_env_filter(filter())
        .try_init()
        .ok()?;
    Some(LogGuard {
        path: dir.join("inbound.log"),
    })
}

/// Where the log is written.
#[derive(Debug, Clone)]
pub struct LogGuard {
    pub path: std::path::PathBuf,
}
