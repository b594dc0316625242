//! systemd's notify protocol for `Type=notify`: READY=1, STATUS=, WATCHDOG=1, STOPPING=1,
//! RELOADING=1. The `sd-notify` crate does the datagram (and the abstract-socket `@` names);
//! without NOTIFY_SOCKET every call is a no-op, so serve runs the same outside systemd.

use sd_notify::NotifyState;
use std::time::Duration;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!(error = %e, "cannot tell systemd (NOTIFY_SOCKET)");
    }
}

/// Serving: the unit is started.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// One line for `systemctl status`.
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// Still alive (the watchdog timer restarts).
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// Settings are being read again (SIGHUP); followed by [`ready`].
pub fn reloading() {
    let mut states = vec![NotifyState::Reloading];
    // systemd 253+ wants the monotonic time with RELOADING=1.
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    send(&states);
}

pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// How often to ping the watchdog: half its timeout, when systemd set one for this process.
/// Read by hand: sd-notify's `watchdog_enabled` also demands WATCHDOG_PID, which libsystemd's
/// `sd_watchdog_enabled` treats as optional (only a PID that is not ours disables it).
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim().parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2).max(Duration::from_millis(100)))
}
