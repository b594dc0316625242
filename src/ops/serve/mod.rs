//! `inbound serve`: the long-running process that keeps every server alive. It refreshes
//! tokens ahead of expiry through the same core as `inbound token`, runs Test & Confirm on
//! Confirmed servers on a schedule, watches the store for changes made by others, turns
//! health changes into notifications, and shows all of it to Prometheus, `/healthz`,
//! systemd and the app. It never starts a sign-in and never prompts.

pub mod alerts;
pub mod document;
mod engine;
pub mod healthz;
mod hosting;
pub mod metrics;
mod notifier;
pub mod proxy_host;
pub mod schedule;
pub mod status;
pub mod unit;

pub use engine::{Control, ServeError, run};

use crate::model::serve::ServeSettings;
use crate::services::notify::{NotifyError, Webhook, run_command};
use crate::store::Store;

/// `serve --test-notify`: sends a sample document through the configured command and
/// webhook; returns what each channel said. `server` is what the sample names in place of a
/// server (the face's words: the CLI names its own command).
pub async fn test_notify(
    store: &Store,
    flags: &ServeSettings,
    server: &str,
) -> Result<Vec<(String, Result<(), NotifyError>)>, crate::ops::Error> {
    let settings = store.load()?.settings.serve.overlaid(flags);
    let doc =
        document::Notification::sample(server, &store.dir().display().to_string(), jiff::Timestamp::now());
    let bytes = serde_json::to_vec(&doc).map_err(|e| crate::ops::Error::Io(e.to_string()))?;
    let mut out = Vec::new();
    if let Some(cmd) = &settings.notify_command {
        out.push((
            format!("command {cmd}"),
            run_command(cmd, &bytes, settings.notify_timeout()).await,
        ));
    }
    if let Some(url) = &settings.notify_url {
        let sent = match Webhook::new(url, settings.notify_timeout(), settings.notify_attempts()) {
            Ok(hook) => hook.post(&bytes).await.map(|_| ()),
            Err(e) => Err(e),
        };
        out.push((format!("webhook {url}"), sent));
    }
    Ok(out)
}
