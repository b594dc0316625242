//! Global settings (listener port and address, public URL, sign-in timeout, the proxy's and
//! serve's): validated and written in one place for the CLI's `settings`, `serve --save` and
//! the app's settings popup.

use super::{Error, Result};
use crate::model::Settings;
use crate::model::serve::{ServePatch, ServeSettings};
use crate::model::validate::{self, FieldError};
use crate::store::Store;
use std::net::IpAddr;

/// Sign-in timeouts we accept: long enough to type a password, short enough that a forgotten
/// listener goes away.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 30..=3600;

/// Changes; `None` leaves a setting alone, `Some(None)` returns it to its default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    pub listen_port: Option<Option<u16>>,
    pub public_url: Option<Option<String>>,
    pub listen_address: Option<Option<IpAddr>>,
    pub consent_timeout_secs: Option<Option<u64>>,
    pub proxy_listen: Option<Option<std::net::SocketAddr>>,
    pub proxy_tls: Option<Option<bool>>,
    pub proxy_tls_listen: Option<Option<std::net::SocketAddr>>,
    pub proxy_max_connections: Option<Option<u32>>,
    /// `inbound serve`'s settings.
    pub serve: crate::model::serve::ServePatch,
}

/// The settings as typed in a form: every field, empty meaning "the default".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsText {
    pub listen_port: String,
    pub public_url: String,
    pub listen_address: String,
    pub consent_timeout_secs: String,
    pub proxy_listen: String,
    /// `yes`/`no` (empty: no).
    pub proxy_tls: String,
    pub proxy_max_connections: String,
    /// `yes`/`no` (empty: no): serve runs the proxy.
    pub serve_proxy: String,
    /// ADDRESS:PORT of serve's /metrics and /healthz (empty: none).
    pub metrics: String,
    pub notify_command: String,
    pub notify_url: String,
    /// Seconds between scheduled Test & Confirm runs (empty: the default).
    pub test_every_secs: String,
}

impl SettingsText {
    /// The current settings, as a form shows them.
    pub fn of(s: &Settings) -> Self {
        Self {
            listen_port: s.listen_port.map(|p| p.to_string()).unwrap_or_default(),
            public_url: s.public_url.clone().unwrap_or_default(),
            listen_address: s.listen_address.map(|a| a.to_string()).unwrap_or_default(),
            consent_timeout_secs: s.consent_timeout_secs.map(|t| t.to_string()).unwrap_or_default(),
            proxy_listen: s.proxy_listen.map(|a| a.to_string()).unwrap_or_default(),
            proxy_tls: yes_no(s.proxy_tls),
            proxy_max_connections: s.proxy_max_connections.map(|n| n.to_string()).unwrap_or_default(),
            serve_proxy: yes_no(s.serve.proxy),
            metrics: s.serve.metrics.map(|a| a.to_string()).unwrap_or_default(),
            notify_command: s.serve.notify_command.clone().unwrap_or_default(),
            notify_url: s.serve.notify_url.clone().unwrap_or_default(),
            test_every_secs: s.serve.test_every_secs.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    /// Checks every field, collecting all errors.
    pub fn parse(&self) -> Result<SettingsPatch, Vec<FieldError>> {
        let mut errors = Vec::new();
        let blank = |s: &str| s.trim().is_empty();
        let listen_port = if blank(&self.listen_port) {
            None
        } else {
            validate::port(&self.listen_port)
                .map_err(|_| {
                    errors.push(FieldError::new(
                        crate::model::validate::Field::ListenPort,
                        format!(
                            "enter a port from 1 to 65535, or leave it empty for {}",
                            crate::model::DEFAULT_LISTEN_PORT
                        ),
                    ))
                })
                .ok()
        };
        let public_url = if blank(&self.public_url) {
            None
        } else {
            validate::public_url(&self.public_url)
                .map_err(|e| errors.push(e))
                .ok()
        };
        let listen_address = if blank(&self.listen_address) {
            None
        } else {
            self.listen_address
                .trim()
                .parse::<IpAddr>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        crate::model::validate::Field::ListenAddress,
                        "enter an IP address, e.g. 127.0.0.1, or leave it empty for loopback",
                    ))
                })
                .ok()
        };
        let consent_timeout_secs = if blank(&self.consent_timeout_secs) {
            None
        } else {
            match self.consent_timeout_secs.trim().parse::<u64>() {
                Ok(t) if TIMEOUT_RANGE.contains(&t) => Some(t),
                _ => {
                    errors.push(FieldError::new(
                        crate::model::validate::Field::Timeout,
                        format!(
                            "enter seconds from {} to {}, or leave it empty for {}",
                            TIMEOUT_RANGE.start(),
                            TIMEOUT_RANGE.end(),
                            super::consent::DEFAULT_TIMEOUT.as_secs()
                        ),
                    ));
                    None
                }
            }
        };
        let proxy_listen = if blank(&self.proxy_listen) {
            None
        } else {
            self.proxy_listen
                .trim()
                .parse::<std::net::SocketAddr>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        crate::model::validate::Field::ProxyListen,
                        "enter ADDRESS:PORT, e.g. 127.0.0.1:1143, or leave it empty for that",
                    ))
                })
                .ok()
        };
        let proxy_tls = parse_yes_no(
            &self.proxy_tls,
            crate::model::validate::Field::ProxyTls,
            &mut errors,
        );
        let proxy_max_connections = if blank(&self.proxy_max_connections) {
            None
        } else {
            match self.proxy_max_connections.trim().parse::<u32>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        crate::model::validate::Field::ProxyMaxConnections,
                        format!(
                            "enter a number from 1 up, or leave it empty for {}",
                            crate::model::DEFAULT_PROXY_MAX_CONNECTIONS
                        ),
                    ));
                    None
                }
            }
        };
        let serve = self.parse_serve(&mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(SettingsPatch {
            listen_port: Some(listen_port),
            public_url: Some(public_url),
            listen_address: Some(listen_address),
            consent_timeout_secs: Some(consent_timeout_secs),
            proxy_listen: Some(proxy_listen),
            proxy_tls: Some(proxy_tls),
            // Not in the form: left as stored.
            proxy_tls_listen: None,
            proxy_max_connections: Some(proxy_max_connections),
            serve,
        })
    }

    /// serve's fields of the form: parsed here, checked by the core's one check of serve's
    /// settings. Fields not in the form are left as stored.
    fn parse_serve(&self, errors: &mut Vec<FieldError>) -> ServePatch {
        use crate::model::validate::Field;
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let proxy = parse_yes_no(&self.serve_proxy, Field::ServeProxy, errors);
        let metrics = text(&self.metrics).and_then(|m| {
            m.parse::<std::net::SocketAddr>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        Field::Metrics,
                        "enter ADDRESS:PORT, e.g. 127.0.0.1:9464, or leave it empty for none",
                    ))
                })
                .ok()
        });
        let test_every_secs = text(&self.test_every_secs).and_then(|t| {
            t.parse::<u64>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        Field::TestEvery,
                        format!(
                            "enter seconds, or leave it empty for {}",
                            crate::model::serve::DEFAULT_TEST_EVERY_SECS
                        ),
                    ))
                })
                .ok()
        });
        let values = ServeSettings {
            proxy,
            metrics,
            notify_command: text(&self.notify_command),
            notify_url: text(&self.notify_url),
            test_every_secs,
            ..ServeSettings::default()
        };
        if let Err(e) = values.check() {
            errors.push(e);
        }
        ServePatch {
            proxy: Some(values.proxy),
            metrics: Some(values.metrics),
            notify_command: Some(values.notify_command),
            notify_url: Some(values.notify_url),
            test_every_secs: Some(values.test_every_secs),
            ..ServePatch::default()
        }
    }
}

fn yes_no(v: Option<bool>) -> String {
    match v {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

fn parse_yes_no(
    text: &str,
    field: crate::model::validate::Field,
    errors: &mut Vec<FieldError>,
) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => None,
        "yes" | "y" | "on" | "true" => Some(true),
        "no" | "n" | "off" | "false" => Some(false),
        _ => {
            errors.push(FieldError::new(field, "enter yes or no (empty: no)"));
            None
        }
    }
}

/// Applies `patch` in one store transaction; returns the settings now in force.
pub fn update_settings(store: &Store, patch: &SettingsPatch) -> Result<Settings> {
    // Port 0 means "any free port" to the kernel: as a setting, a redirect URL nobody can
    // register. (The form's text is refused by `validate::port` too.)
    if patch.listen_port == Some(Some(0)) {
        return Err(Error::from(FieldError::new(
            crate::model::validate::Field::ListenPort,
            format!(
                "0 is not a port to listen on: give one from 1 to 65535 (default {})",
                crate::model::DEFAULT_LISTEN_PORT
            ),
        )));
    }
    store.update(|c| {
        let s = &mut c.settings;
        if let Some(v) = patch.listen_port {
            s.listen_port = v;
        }
        if let Some(v) = &patch.public_url {
            s.public_url = v.clone();
        }
        if let Some(v) = patch.listen_address {
            s.listen_address = v;
        }
        if let Some(v) = patch.consent_timeout_secs {
            s.consent_timeout_secs = v;
        }
        if let Some(v) = patch.proxy_listen {
            s.proxy_listen = v;
        }
        if let Some(v) = patch.proxy_tls {
            s.proxy_tls = v;
        }
        if let Some(v) = patch.proxy_tls_listen {
            s.proxy_tls_listen = v;
        }
        if let Some(v) = patch.proxy_max_connections {
            s.proxy_max_connections = v;
        }
        patch.serve.apply(&mut s.serve);
        s.serve.check()?;
        // The proxy takes passwords: beyond loopback only with TLS (then LOGIN waits for
        // STARTTLS on the plain port).
        if s.proxy_tls != Some(true) && s.proxy_listen.is_some_and(|a| !a.ip().is_loopback()) {
            return Err(Error::from(FieldError::new(
                crate::model::validate::Field::ProxyListen,
                "an address beyond loopback needs the proxy's TLS on (passwords would cross the network in clear text)",
            )));
        }
        // A listen address without a public URL would expose the listener for nothing.
        if s.public_url.is_none() && s.listen_address.is_some_and(|a| !a.is_loopback()) {
            return Err(Error::from(FieldError::new(
                crate::model::validate::Field::ListenAddress,
                "a non-loopback address is only for public URL mode: set the public URL too, or leave it empty",
            )));
        }
        Ok::<_, Error>(c.settings.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_error_is_reported_and_blank_means_default() {
        let bad = SettingsText {
            listen_port: "70000".into(),
            public_url: "http://x.example.com".into(),
            listen_address: "nope".into(),
            consent_timeout_secs: "5".into(),
            proxy_listen: "1143".into(),
            proxy_tls: "maybe".into(),
            proxy_max_connections: "0".into(),
            serve_proxy: "sometimes".into(),
            metrics: "9464".into(),
            notify_command: " ".into(),
            notify_url: "ftp://hooks.example.com".into(),
            test_every_secs: "often".into(),
        };
        let errors = bad.parse().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.label()).collect();
        assert_eq!(
            fields,
            [
                "Listen port",
                "Public URL",
                "Listen address",
                "Sign-in timeout",
                "Proxy address",
                "Proxy TLS",
                "Proxy connections",
                "Proxy in serve",
                "Metrics address",
                "Test every",
                // The core's check of serve's settings says one thing at a time.
                "Notify URL",
            ]
        );
        let patch = SettingsText::default().parse().unwrap();
        assert_eq!(patch.listen_port, Some(None));
        assert_eq!(patch.consent_timeout_secs, Some(None));
    }

    #[test]
    fn port_zero_is_refused_and_nothing_written() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let patch = SettingsPatch {
            listen_port: Some(Some(0)),
            ..SettingsPatch::default()
        };
        let err = update_settings(&store, &patch).unwrap_err().to_string();
        assert!(err.contains("1 to 65535"), "{err}");
        assert!(!store.config_path().exists());
    }

    #[test]
    fn settings_round_trip_through_the_store() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(Some(tmp.path().join("s"))).unwrap();
        let text = SettingsText {
            listen_port: "18765".into(),
            public_url: "https://mail.example.com".into(),
            listen_address: "127.0.0.1".into(),
            consent_timeout_secs: "600".into(),
            proxy_listen: "127.0.0.1:2143".into(),
            proxy_tls: "yes".into(),
            proxy_max_connections: "100".into(),
            serve_proxy: "yes".into(),
            metrics: "127.0.0.1:9464".into(),
            notify_command: "logger -t inbound".into(),
            notify_url: "https://hooks.example.com/x".into(),
            test_every_secs: "3600".into(),
        };
        let s = update_settings(&store, &text.parse().unwrap()).unwrap();
        assert_eq!(s.serve.proxy, Some(true));
        assert_eq!(s.serve.test_every_secs, Some(3600));
        assert_eq!(SettingsText::of(&s), text);
        assert_eq!(s.proxy_tls_listen().to_string(), "127.0.0.1:1993");
        // The proxy beyond loopback without TLS: refused.
        let exposed = SettingsText {
            proxy_listen: "0.0.0.0:1143".into(),
            proxy_tls: "no".into(),
            ..SettingsText::of(&s)
        };
        assert!(update_settings(&store, &exposed.parse().unwrap()).is_err());
        let open = SettingsText {
            listen_address: "0.0.0.0".into(),
            ..SettingsText::default()
        };
        assert!(
            update_settings(&store, &open.parse().unwrap()).is_err(),
            "no public URL"
        );
    }
}
