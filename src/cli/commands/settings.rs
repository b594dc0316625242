//! `inbound settings`: show or change the global settings.

use crate::cli::SettingsArgs;
use crate::cli::output;
use crate::exit;
use crate::ops::Error;
use crate::store::Store;

pub(super) fn settings(store: &Store, a: SettingsArgs) -> Result<u8, Error> {
    use crate::ops::settings::{SettingsPatch, TIMEOUT_RANGE, update_settings};
    let public_url = a
        .public_url
        .as_deref()
        .map(crate::model::validate::public_url)
        .transpose()?;
    if let Some(t) = a.timeout
        && !TIMEOUT_RANGE.contains(&t)
    {
        return Err(Error::from(crate::model::validate::FieldError::new(
            crate::model::validate::Field::Timeout,
            format!(
                "give seconds from {} to {}",
                TIMEOUT_RANGE.start(),
                TIMEOUT_RANGE.end()
            ),
        )));
    }
    if !a.changes_something() {
        // Only shown: read without the write lock, so a read-only store shows its settings.
        let settings = store.load()?.settings;
        print_settings(&settings, a.json);
        return Ok(exit::OK);
    }
    let patch = SettingsPatch {
        listen_port: a.listen_port.map(Some),
        public_url: if a.no_public_url {
            Some(None)
        } else {
            public_url.map(Some)
        },
        listen_address: if a.no_public_url {
            Some(None)
        } else {
            a.listen_address.map(Some)
        },
        consent_timeout_secs: a.timeout.map(Some),
        proxy_listen: a.proxy_listen.map(Some),
        proxy_tls: if a.no_proxy_tls {
            Some(None)
        } else {
            a.proxy_tls.then_some(Some(true))
        },
        proxy_tls_listen: a.proxy_tls_listen.map(Some),
        proxy_max_connections: a.proxy_max_connections.map(Some),
        serve: a.serve_patch(),
    };
    let settings = update_settings(store, &patch)?;
    print_settings(&settings, a.json);
    Ok(exit::OK)
}

fn print_settings(settings: &crate::model::Settings, json: bool) {
    if json {
        out!("{}", output::pretty(settings));
    } else {
        let port = settings.listen_port.unwrap_or(crate::model::DEFAULT_LISTEN_PORT);
        out!("listen port     {port}");
        out!(
            "listen address  {}",
            settings
                .listen_address
                .map_or_else(|| "127.0.0.1 and ::1 (loopback)".to_string(), |a| a.to_string())
        );
        out!(
            "public URL      {}",
            settings.public_url.as_deref().unwrap_or("(none: local redirect)")
        );
        out!(
            "redirect URL    {}  (register under Authentication → Web)",
            crate::model::registered_redirect_uri(settings)
        );
        out!("sign-in waits   {} s", settings.consent_timeout().as_secs());
        out!(
            "proxy           {}{}, at most {} connections",
            settings.proxy_listen(),
            if settings.proxy_tls == Some(true) {
                format!(" (STARTTLS) and {} (TLS)", settings.proxy_tls_listen())
            } else {
                " (plain IMAP, loopback)".to_string()
            },
            settings.proxy_max_connections()
        );
        let serve = &settings.serve;
        out!(
            "serve           proxy {} · metrics {} · tests every {} s",
            if serve.proxy == Some(true) { "on" } else { "off" },
            serve.metrics.map_or_else(|| "off".to_string(), |a| a.to_string()),
            serve.test_every().as_secs()
        );
        out!(
            "serve notifies  {}",
            match (&serve.notify_command, &serve.notify_url) {
                (None, None) => "nobody (set --notify-command or --notify-url)".to_string(),
                (Some(c), None) => format!("command {c}"),
                (None, Some(u)) => format!("webhook {u}"),
                (Some(c), Some(u)) => format!("command {c} · webhook {u}"),
            }
        );
    }
}
