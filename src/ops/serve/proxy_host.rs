//! The IMAP proxy hosted by serve (`--proxy`, or the `proxy` setting): started with serve,
//! stopped with it (open sessions get the proxy's grace period), its sessions counted in the
//! metrics, and a login that the upstream server refused raised as a health finding of that
//! server until a later session of it logs in again.

use super::metrics::Metrics;
use crate::model::Settings;
use crate::model::health::{Finding, Fix, Health, Level, ShellWording};
use crate::ops::proxy::{self, Outcome, ProxyConfig, ProxyError, ProxyEvent};
use crate::store::Store;
use std::collections::HashMap;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running proxy.
pub struct Hosted {
    pub task: JoinHandle<Result<(), ProxyError>>,
    pub events: mpsc::Receiver<ProxyEvent>,
    pub stop: CancellationToken,
}

/// Starts the proxy with the store's proxy settings.
pub fn start(store: &Store, settings: &Settings, wording: ShellWording) -> Hosted {
    let mut cfg = ProxyConfig::from_settings(settings, None, None);
    cfg.wording = Some(wording);
    let (tx, events) = mpsc::channel(256);
    let stop = CancellationToken::new();
    let task = tokio::spawn(proxy::run(cfg, store.clone(), stop.clone(), tx));
    Hosted { task, events, stop }
}

/// Upstream refusals seen by the proxy, by server name: the cause and when.
#[derive(Debug, Default, Clone)]
pub struct Refusals {
    by_server: HashMap<String, String>,
}

impl Refusals {
    /// Counts and logs one proxy event; remembers refusals, forgets them on a good login.
    pub fn observe(&mut self, event: &ProxyEvent, metrics: &Metrics) {
        match event {
            ProxyEvent::Started {
                listen,
                tls_listen,
                files,
                ..
            } => {
                tracing::info!(%listen, tls_listen = ?tls_listen, sessions_fit = ?files.sessions, "serve: proxy listening; {}", files.describe());
            }
            ProxyEvent::Stopping { open } => tracing::info!(open, "serve: proxy stopping"),
            ProxyEvent::Session(r) => {
                let Some(server) = r.server.as_deref() else {
                    return;
                };
                match &r.outcome {
                    Outcome::Relayed { .. } => {
                        metrics.proxy_session(server, false);
                        self.by_server.remove(server);
                    }
                    Outcome::Upstream { cause, refused } => {
                        metrics.proxy_session(server, true);
                        if *refused {
                            self.by_server
                                .insert(server.to_string(), crate::sanitize::peer_text(cause));
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// `health` with the proxy's refusal of its server as a CRITICAL finding.
    pub fn apply(&self, health: &mut Health) {
        let Some(cause) = self.by_server.get(&health.server) else {
            return;
        };
        health.findings.push(Finding {
            level: Level::Critical,
            message: format!("the proxy's login upstream was refused: {cause}"),
            fix: Fix::Test {
                server: health.server.clone(),
            },
        });
        health.level = health.level.max(Level::Critical);
    }

    /// Servers renamed or removed are forgotten.
    pub fn retain(&mut self, names: &std::collections::HashSet<&str>) {
        self.by_server.retain(|n, _| names.contains(n.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::proxy::SessionReport;
    use std::time::Duration;

    fn session(outcome: Outcome) -> ProxyEvent {
        ProxyEvent::Session(SessionReport {
            server: Some("A".into()),
            client: "127.0.0.1:5000".parse().unwrap(),
            outcome,
            to_server: 0,
            to_client: 0,
            duration: Duration::ZERO,
        })
    }

    #[test]
    fn a_refused_upstream_login_is_critical_until_a_session_logs_in_again() {
        let metrics = Metrics::new().unwrap();
        let mut r = Refusals::default();
        r.observe(
            &session(Outcome::Upstream {
                cause: "NO AUTHENTICATE failed".into(),
                refused: true,
            }),
            &metrics,
        );
        let server: crate::model::Server = serde_json::from_value(serde_json::json!({
            "id": "0123456789abcdef0123456789abcdef", "name": "A", "auth": "basic",
            "host": "h.example.com", "port": 993, "ssl": true, "username": "a@contoso.com",
            "password": "pw", "state": "Confirmed",
            "last_test": {"at": "2026-11-28T12:00:00Z", "ok": true, "summary": "ok"}
        }))
        .unwrap();
        let at: jiff::Timestamp = "2026-11-28T13:00:00Z".parse().unwrap();
        let healthy = crate::model::health::assess(&server, None, None, at);
        assert_eq!(healthy.level, Level::Ok, "{healthy:?}");
        let mut h = healthy.clone();
        r.apply(&mut h);
        assert_eq!(h.level, Level::Critical);
        assert!(
            h.findings
                .iter()
                .any(|f| f.message.contains("NO AUTHENTICATE failed"))
        );
        r.observe(
            &session(Outcome::Relayed {
                ended: "closed".into(),
            }),
            &metrics,
        );
        let mut h = healthy.clone();
        r.apply(&mut h);
        assert_eq!(h, healthy);
        assert!(
            metrics
                .render()
                .contains("inbound_server_proxy_upstream_login_failures_total{server=\"A\"} 1")
        );
    }
}
