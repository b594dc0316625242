//! Process-wide signal dispositions that keep faults from killing us mid-write.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Catches SIGXFSZ for as long as the returned value lives (call inside the runtime). Its
/// default action ends the process in the middle of `write`, leaving a temporary file with
/// secrets behind; with a handler installed the write fails with EFBIG instead, and the
/// ordinary error path removes the temporary file and keeps the old one.
pub fn ignore_file_size_limit() -> Option<Signal> {
    signal(SignalKind::from_raw(libc::SIGXFSZ)).ok()
}
