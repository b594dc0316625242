//! The settings of `inbound serve`, stored in `config.json` under `settings.serve`. Every
//! interval is a setting (and a flag of `serve`), so operators and tests can shorten them.

use super::validate::{self, Field, FieldError};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// Scheduled Test & Confirm of every Confirmed server: every 6 hours.
pub const DEFAULT_TEST_EVERY_SECS: u64 = 6 * 3600;
/// Tests running at once: a test is mostly waiting on the network, a few keep a wave short
/// without a burst of logins at Microsoft.
pub const DEFAULT_TEST_JOBS: usize = 4;
/// Token refreshes running at once in a wave: a wave of this many takes about as long as one
/// refresh (measured in BENCHMARKS.md; 64 made a wave of 1,000 sixteen round trips long).
pub const DEFAULT_REFRESH_JOBS: usize = 512;
/// After a failed refresh, try again this much later (the core's own back-off may add more).
pub const DEFAULT_RETRY_SECS: u64 = 60;
/// A level must hold this long before it is announced (no alerts for flapping).
pub const DEFAULT_FLAP_SECS: u64 = 120;
/// While CRITICAL, say so again this often.
pub const DEFAULT_REMIND_SECS: u64 = 24 * 3600;
/// The notify command and each webhook attempt get this long.
pub const DEFAULT_NOTIFY_TIMEOUT_SECS: u64 = 10;
/// Webhook attempts at most (the first one included).
pub const DEFAULT_NOTIFY_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServeSettings {
    /// Refresh this long before the access token expires (at least the core's own margin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_lead_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_every_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_jobs: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_jobs: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flap_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<SocketAddr>,
    /// Run the IMAP proxy inside serve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<bool>,
}

/// Runs macro `$m` over the names of every serve setting (one list for all the code that
/// goes field by field).
macro_rules! each_field {
    ($m:ident) => {
        $m!(
            refresh_lead_secs,
            retry_secs,
            test_every_secs,
            test_jobs,
            refresh_jobs,
            flap_secs,
            remind_secs,
            notify_command,
            notify_url,
            notify_timeout_secs,
            notify_attempts,
            metrics,
            proxy
        )
    };
}

impl ServeSettings {
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// `self` with every field that `over` sets replaced (flags over stored settings).
    pub fn overlaid(&self, over: &ServeSettings) -> ServeSettings {
        macro_rules! pick {
            ($($f:ident),*) => { ServeSettings { $($f: over.$f.clone().or_else(|| self.$f.clone()),)* } };
        }
        each_field!(pick)
    }

    /// Checks the values: the one check of `serve`'s flags, `serve --save`, `inbound settings`
    /// and the app's settings form. (A metrics address beyond loopback is refused when serve
    /// starts, unless its own flag allows it.)
    pub fn check(&self) -> Result<(), FieldError> {
        if let Some(url) = &self.notify_url {
            validate::plain_text(Field::NotifyUrl, url)?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(FieldError::new(
                    Field::NotifyUrl,
                    format!("give an http:// or https:// URL, not {url:?}"),
                ));
            }
        }
        if let Some(cmd) = &self.notify_command {
            validate::plain_text(Field::NotifyCommand, cmd)?;
            if cmd.trim().is_empty() {
                return Err(FieldError::new(
                    Field::NotifyCommand,
                    "give a command (it runs with sh -c), or leave it out",
                ));
            }
        }
        if self.test_every_secs == Some(0) {
            return Err(FieldError::new(
                Field::TestEvery,
                format!("give seconds from 1 up (default {DEFAULT_TEST_EVERY_SECS})"),
            ));
        }
        Ok(())
    }

    pub fn refresh_lead(&self) -> Duration {
        Duration::from_secs(self.refresh_lead_secs.unwrap_or(0))
    }
    pub fn retry(&self) -> Duration {
        Duration::from_secs(self.retry_secs.unwrap_or(DEFAULT_RETRY_SECS).max(1))
    }
    pub fn test_every(&self) -> Duration {
        Duration::from_secs(self.test_every_secs.unwrap_or(DEFAULT_TEST_EVERY_SECS).max(1))
    }
    pub fn test_jobs(&self) -> usize {
        self.test_jobs.unwrap_or(DEFAULT_TEST_JOBS).max(1)
    }
    pub fn refresh_jobs(&self) -> usize {
        self.refresh_jobs.unwrap_or(DEFAULT_REFRESH_JOBS).max(1)
    }
    pub fn flap(&self) -> Duration {
        Duration::from_secs(self.flap_secs.unwrap_or(DEFAULT_FLAP_SECS))
    }
    pub fn remind(&self) -> Duration {
        Duration::from_secs(self.remind_secs.unwrap_or(DEFAULT_REMIND_SECS).max(1))
    }
    pub fn notify_attempts(&self) -> u32 {
        self.notify_attempts.unwrap_or(DEFAULT_NOTIFY_ATTEMPTS).max(1)
    }
    pub fn notify_timeout(&self) -> Duration {
        Duration::from_secs(
            self.notify_timeout_secs
                .unwrap_or(DEFAULT_NOTIFY_TIMEOUT_SECS)
                .max(1),
        )
    }
}

/// A change to serve's settings: `None` leaves a field alone, `Some(None)` returns it to its
/// default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServePatch {
    pub refresh_lead_secs: Option<Option<u64>>,
    pub retry_secs: Option<Option<u64>>,
    pub test_every_secs: Option<Option<u64>>,
    pub test_jobs: Option<Option<usize>>,
    pub refresh_jobs: Option<Option<usize>>,
    pub flap_secs: Option<Option<u64>>,
    pub remind_secs: Option<Option<u64>>,
    pub notify_command: Option<Option<String>>,
    pub notify_url: Option<Option<String>>,
    pub notify_timeout_secs: Option<Option<u64>>,
    pub notify_attempts: Option<Option<u32>>,
    pub metrics: Option<Option<SocketAddr>>,
    pub proxy: Option<Option<bool>>,
}

impl ServePatch {
    /// Sets every field that `given` sets (flags on a command line), leaves the others.
    pub fn setting(given: &ServeSettings) -> Self {
        macro_rules! set {
            ($($f:ident),*) => { ServePatch { $($f: given.$f.clone().map(Some),)* } };
        }
        each_field!(set)
    }

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    pub fn apply(&self, to: &mut ServeSettings) {
        macro_rules! apply {
            ($($f:ident),*) => {{ $(if let Some(v) = &self.$f { to.$f = v.clone(); })* }};
        }
        each_field!(apply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_sets_and_clears_and_check_refuses_what_serve_cannot_use() {
        let mut s = ServeSettings {
            notify_url: Some("https://hooks.example.com/x".into()),
            retry_secs: Some(5),
            ..Default::default()
        };
        let patch = ServePatch {
            notify_url: Some(None),
            proxy: Some(Some(true)),
            ..ServePatch::setting(&ServeSettings {
                test_every_secs: Some(60),
                ..Default::default()
            })
        };
        patch.apply(&mut s);
        assert_eq!(s.notify_url, None);
        assert_eq!(s.proxy, Some(true));
        assert_eq!(s.test_every_secs, Some(60));
        assert_eq!(s.retry_secs, Some(5), "left alone");
        assert!(s.check().is_ok());
        for (bad, field) in [
            (
                ServeSettings {
                    notify_url: Some("ftp://x".into()),
                    ..Default::default()
                },
                Field::NotifyUrl,
            ),
            (
                ServeSettings {
                    notify_command: Some("  ".into()),
                    ..Default::default()
                },
                Field::NotifyCommand,
            ),
            (
                ServeSettings {
                    notify_command: Some("echo \u{1b}[2J".into()),
                    ..Default::default()
                },
                Field::NotifyCommand,
            ),
            (
                ServeSettings {
                    test_every_secs: Some(0),
                    ..Default::default()
                },
                Field::TestEvery,
            ),
        ] {
            assert_eq!(bad.check().unwrap_err().field, field, "{bad:?}");
        }
    }

    #[test]
    fn flags_win_over_stored_settings_field_by_field() {
        let stored = ServeSettings {
            retry_secs: Some(5),
            notify_url: Some("http://127.0.0.1:1/".into()),
            ..Default::default()
        };
        let flags = ServeSettings {
            retry_secs: Some(7),
            ..Default::default()
        };
        let s = stored.overlaid(&flags);
        assert_eq!(s.retry_secs, Some(7));
        assert_eq!(s.notify_url.as_deref(), Some("http://127.0.0.1:1/"));
        assert_eq!(s.test_every(), Duration::from_secs(DEFAULT_TEST_EVERY_SECS));
        assert!(ServeSettings::default().is_default());
    }
}
