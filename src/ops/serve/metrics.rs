//! The Prometheus metrics of serve: per server (labelled with its name) and for the process.
//! The `prometheus` crate writes the classic text format (`text/plain; version=0.0.4`), which
//! every Prometheus and `promtool check metrics` read; prometheus-client writes only
//! OpenMetrics, whose counter TYPE lines lack `_total` and so fail the classic lint.

use crate::model::health::{Health, Level};
use crate::model::{Server, TokenFile};
use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use std::collections::HashSet;
use std::sync::Mutex;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub struct Metrics {
    registry: Registry,
    health_level: IntGaugeVec,
    token_expiry: IntGaugeVec,
    credential_expiry: IntGaugeVec,
    last_test_ok: IntGaugeVec,
    refresh_failures: IntCounterVec,
    refreshes: IntCounterVec,
    proxy_sessions: IntCounterVec,
    proxy_upstream_failures: IntCounterVec,
    servers: IntGaugeVec,
    notifications: IntCounterVec,
    /// Server names currently labelled, so a removed server's series go away.
    known: Mutex<HashSet<String>>,
}

fn gauge_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntGaugeVec> {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let started = IntGauge::new(
            "inbound_serve_start_time_seconds",
            "When this serve process started, in seconds since the Unix epoch.",
        )?;
        registry.register(Box::new(started.clone()))?;
        started.set(jiff::Timestamp::now().as_second());
        Ok(Self {
            health_level: gauge_vec(
                &registry,
                "inbound_server_health_level",
                "Health of the server: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
                &["server"],
            )?,
            token_expiry: gauge_vec(
                &registry,
                "inbound_server_token_expiry_timestamp_seconds",
                "When the stored access token expires, in seconds since the Unix epoch.",
                &["server"],
            )?,
            credential_expiry: gauge_vec(
                &registry,
                "inbound_server_credential_expiry_timestamp_seconds",
                "When the app's client secret or certificate expires, in seconds since the Unix epoch.",
                &["server", "kind"],
            )?,
            last_test_ok: gauge_vec(
                &registry,
                "inbound_server_last_successful_test_timestamp_seconds",
                "When Test & Confirm last passed, in seconds since the Unix epoch.",
                &["server"],
            )?,
            refresh_failures: counter_vec(
                &registry,
                "inbound_server_refresh_failures_total",
                "Token refreshes by serve that failed.",
                &["server"],
            )?,
            refreshes: counter_vec(
                &registry,
                "inbound_server_refreshes_total",
                "Token refreshes by serve that succeeded.",
                &["server"],
            )?,
            proxy_sessions: counter_vec(
                &registry,
                "inbound_server_proxy_sessions_total",
                "IMAP proxy sessions logged in upstream for the server.",
                &["server"],
            )?,
            proxy_upstream_failures: counter_vec(
                &registry,
                "inbound_server_proxy_upstream_login_failures_total",
                "IMAP proxy logins upstream that failed or were refused.",
                &["server"],
            )?,
            servers: gauge_vec(
                &registry,
                "inbound_servers",
                "Servers in the store by health level.",
                &["level"],
            )?,
            notifications: counter_vec(
                &registry,
                "inbound_notifications_total",
                "Notifications by channel and outcome.",
                &["channel", "outcome"],
            )?,
            registry,
            known: Mutex::new(HashSet::new()),
        })
    }

    /// Sets every per-server gauge from the store as read; series of removed servers go.
    pub fn update(&self, servers: &[(&Server, Option<&TokenFile>, &Health)]) {
        let mut counts = [0i64; 4];
        let mut now_known = HashSet::new();
        for (server, file, health) in servers {
            let name = server.name.as_str();
            now_known.insert(name.to_string());
            counts[health.level as usize] += 1;
            self.health_level
                .with_label_values(&[name])
                .set(health.level as i64);
            match file.and_then(|f| f.tokens.as_ref()) {
                Some(t) => self
                    .token_expiry
                    .with_label_values(&[name])
                    .set(t.expires_at.as_second()),
                None => {
                    let _ = self.token_expiry.remove_label_values(&[name]);
                }
            }
            let kind = if health.certificate {
                "certificate"
            } else {
                "secret"
            };
            let other = if health.certificate {
                "secret"
            } else {
                "certificate"
            };
            let _ = self.credential_expiry.remove_label_values(&[name, other]);
            match health
                .secret_expires
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            {
                Some(z) => self
                    .credential_expiry
                    .with_label_values(&[name, kind])
                    .set(z.timestamp().as_second()),
                None => {
                    let _ = self.credential_expiry.remove_label_values(&[name, kind]);
                }
            }
            match server.last_test.as_ref().filter(|t| t.ok) {
                Some(t) => self.last_test_ok.with_label_values(&[name]).set(t.at.as_second()),
                None => {
                    let _ = self.last_test_ok.remove_label_values(&[name]);
                }
            }
            // Counters start at 0 for every server, so a rate() sees the first failure.
            self.refresh_failures.with_label_values(&[name]);
            self.refreshes.with_label_values(&[name]);
        }
        for (i, level) in [Level::Ok, Level::Warning, Level::Critical, Level::Unknown]
            .into_iter()
            .enumerate()
        {
            self.servers.with_label_values(&[level.label()]).set(counts[i]);
        }
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        for gone in known.difference(&now_known) {
            let g = [gone.as_str()];
            let _ = self.health_level.remove_label_values(&g);
            let _ = self.token_expiry.remove_label_values(&g);
            let _ = self.last_test_ok.remove_label_values(&g);
            let _ = self.refresh_failures.remove_label_values(&g);
            let _ = self.refreshes.remove_label_values(&g);
            let _ = self.proxy_sessions.remove_label_values(&g);
            let _ = self.proxy_upstream_failures.remove_label_values(&g);
            for kind in ["secret", "certificate"] {
                let _ = self.credential_expiry.remove_label_values(&[gone.as_str(), kind]);
            }
        }
        *known = now_known;
    }

    pub fn refreshed(&self, server: &str, ok: bool) {
        if ok {
            self.refreshes.with_label_values(&[server]).inc();
        } else {
            self.refresh_failures.with_label_values(&[server]).inc();
        }
    }

    /// A proxy session of `server`: logged in upstream, or the upstream login failed.
    pub fn proxy_session(&self, server: &str, upstream_failed: bool) {
        if upstream_failed {
            self.proxy_upstream_failures.with_label_values(&[server]).inc();
        } else {
            self.proxy_sessions.with_label_values(&[server]).inc();
        }
    }

    pub fn notified(&self, channel: &str, ok: bool) {
        let outcome = if ok { "sent" } else { "failed" };
        self.notifications.with_label_values(&[channel, outcome]).inc();
    }

    /// The classic text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "metrics could not be encoded");
        }
        out
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_are_in_the_classic_format() {
        let m = Metrics::new().unwrap();
        m.refreshed("Support inbox", false);
        m.notified("command", true);
        let text = m.render();
        assert!(
            text.contains("# TYPE inbound_server_refresh_failures_total counter"),
            "{text}"
        );
        assert!(text.contains("inbound_server_refresh_failures_total{server=\"Support inbox\"} 1"));
        assert!(text.contains("# TYPE inbound_serve_start_time_seconds gauge"));
        assert!(!text.contains("# EOF"), "not OpenMetrics");
    }
}
