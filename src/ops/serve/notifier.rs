//! Sends notifications in the order they were raised, off serve's main loop: a dead webhook
//! retrying for a minute delays the next notification, never a refresh.

use super::document::Notification;
use super::metrics::Metrics;
use crate::model::serve::ServeSettings;
use crate::services::notify::{Webhook, run_command};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Where notifications go (from the settings in force when each is sent).
#[derive(Debug, Clone, Default)]
pub struct Channels {
    pub command: Option<String>,
    pub webhook: Option<Webhook>,
    pub timeout: std::time::Duration,
}

impl Channels {
    pub fn from_settings(s: &ServeSettings) -> Self {
        let webhook = s.notify_url.as_deref().and_then(|url| {
            Webhook::new(url, s.notify_timeout(), s.notify_attempts())
                .map_err(|e| tracing::warn!(error = %e, "webhook disabled"))
                .ok()
        });
        Self {
            command: s.notify_command.clone(),
            webhook,
            timeout: s.notify_timeout(),
        }
    }
}

pub enum Job {
    Send(Box<Notification>),
    Channels(Channels),
}

/// Starts the sender; it ends when every sender of its channel is dropped.
pub fn start(
    channels: Channels,
    metrics: Arc<Metrics>,
) -> (mpsc::UnboundedSender<Job>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    let handle = tokio::spawn(async move {
        let mut channels = channels;
        while let Some(job) = rx.recv().await {
            let n = match job {
                Job::Channels(c) => {
                    channels = c;
                    continue;
                }
                Job::Send(n) => n,
            };
            let bytes = match serde_json::to_vec(&n) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "notification not encoded");
                    continue;
                }
            };
            if channels.command.is_none() && channels.webhook.is_none() {
                tracing::info!(server = %n.server, level = n.level.label(), "no notify command or URL set: {}", n.text);
            }
            if let Some(cmd) = &channels.command {
                match run_command(cmd, &bytes, channels.timeout).await {
                    Ok(()) => {
                        metrics.notified("command", true);
                        tracing::info!(server = %n.server, level = n.level.label(), "notify command ran: {}", n.text);
                    }
                    Err(e) => {
                        metrics.notified("command", false);
                        tracing::warn!(server = %n.server, error = %e, "notify command failed");
                    }
                }
            }
            if let Some(hook) = &channels.webhook {
                match hook.post(&bytes).await {
                    Ok(attempts) => {
                        metrics.notified("webhook", true);
                        tracing::info!(server = %n.server, level = n.level.label(), attempts, "webhook notified");
                    }
                    Err(e) => {
                        metrics.notified("webhook", false);
                        tracing::warn!(server = %n.server, error = %e, "webhook notification lost");
                    }
                }
            }
        }
    });
    (tx, handle)
}
