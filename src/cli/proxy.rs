//! `inbound proxy` and `inbound proxy password`: flags, the start banner, signals, exit codes.

use super::{ProxyArgs, ProxyCommand, ProxyPasswordArgs};
use crate::exit;
use crate::ops::Error;
use crate::ops::proxy::password::{self, Change};
use crate::ops::proxy::{self, ProxyConfig, ProxyEvent};
use crate::services::imap::Timeouts;
use crate::store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(store: &Store, a: ProxyArgs) -> Result<u8, Error> {
    if let Some(ProxyCommand::Password(p)) = a.command {
        return set_password(store, &p);
    }
    let config = store.load()?;
    let mut cfg = ProxyConfig::from_settings(&config.settings, a.listen, a.tls.then_some(true));
    cfg.wording = Some(super::fix::WORDING);
    if let Some(addr) = a.tls_listen {
        cfg.tls_listen = Some(addr);
    }
    if let Some(n) = a.max_connections {
        cfg.max_connections = n as usize;
    }
    if let Some(s) = a.grace {
        cfg.grace = Duration::from_secs(s);
    }
    if let Some(s) = a.preauth_timeout {
        cfg.preauth_timeout = Duration::from_secs(s.max(1));
    }
    if let Some(s) = a.idle_timeout {
        cfg.idle_timeout = Duration::from_secs(s.max(1));
    }
    if let Some(s) = a.upstream_timeout {
        let t = Duration::from_secs(s.max(1));
        cfg.upstream_timeouts = Timeouts {
            connect: t,
            tls: t,
            command: t,
            authenticate: t,
        };
    }
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = term => {},
        }
        stop.cancel();
    });
    let max_connections = cfg.max_connections;
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let names: Vec<(String, String, bool)> = {
        let file = store.read_proxy()?;
        config
            .servers
            .iter()
            .map(|s| (s.name.clone(), s.username.clone(), password::is_set(&file, &s.id)))
            .collect()
    };
    let printer = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            match event {
                ProxyEvent::Started {
                    listen,
                    tls_listen,
                    certificate,
                    files,
                } => {
                    banner(listen, tls_listen, certificate.as_ref(), &names);
                    say!("inbound proxy: {}", files.describe());
                    if let Some(short) = files.shortfall(max_connections) {
                        say!("inbound proxy: warning: {short}");
                    }
                }
                ProxyEvent::Session(r) => say!(
                    "inbound proxy: {} from {}: {} ({} B up, {} B down, {} ms)",
                    r.server.as_deref().unwrap_or("-"),
                    r.client,
                    r.outcome,
                    r.to_server,
                    r.to_client,
                    r.duration.as_millis()
                ),
                ProxyEvent::Stopping { open } => {
                    say!("inbound proxy: stopping; {open} open session(s) may finish");
                }
            }
        }
    });
    let result = proxy::run(cfg, store.clone(), shutdown, tx).await;
    let _ = printer.await;
    match result {
        Ok(()) => Ok(exit::OK),
        Err(e) => {
            say!("inbound: proxy: {e}");
            if let Some(h) = hint(&e) {
                say!("  → {h}");
            }
            Ok(match e {
                proxy::ProxyError::NotLoopback { .. } => exit::USAGE,
                proxy::ProxyError::Store(_) => exit::STORE,
                _ => exit::FAILED,
            })
        }
    }
}

fn banner(
    listen: std::net::SocketAddr,
    tls_listen: Option<std::net::SocketAddr>,
    certificate: Option<&proxy::CertificateInfo>,
    servers: &[(String, String, bool)],
) {
    say!(
        "inbound proxy: plain IMAP on {listen}{}",
        if tls_listen.is_some() {
            " (STARTTLS offered)"
        } else {
            ""
        }
    );
    if let Some(t) = tls_listen {
        say!("inbound proxy: implicit TLS on {t}");
    }
    if let Some(c) = certificate {
        say!(
            "inbound proxy: certificate{}: CA file {} · SHA-256 {}",
            if c.made_now { " made now" } else { "" },
            c.ca_file.display(),
            c.sha256
        );
    }
    say!("Mail program settings (the user is the server's Name; the password is its proxy password):");
    let (host, port, security) = match tls_listen {
        Some(t) => (t.ip(), t.port(), "SSL/TLS, trusting the CA file above"),
        None => (
            listen.ip(),
            listen.port(),
            "none (plain IMAP: this machine only); never STARTTLS",
        ),
    };
    let host = if host.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        host.to_string()
    };
    say!("  host {host} · port {port} · encryption {security}");
    let mut any = false;
    for (name, username, set) in servers {
        if *set {
            any = true;
            say!("  user \"{name}\" (mailbox {username})");
        }
    }
    if !any {
        say!("  no server has a proxy password yet: inbound proxy password NAME");
    }
}

fn set_password(store: &Store, p: &ProxyPasswordArgs) -> Result<u8, Error> {
    let change = if p.remove {
        Change::Remove
    } else if p.rotate {
        Change::Rotate
    } else {
        Change::New
    };
    match password::change(store, &p.name, change)? {
        Some(pw) => {
            let config = store.load()?;
            let client = proxy::client_settings(&config.settings, &p.name);
            out!("{}", pw.expose());
            say!(
                "inbound: the proxy password of \"{}\" is above; it is shown only this once (stored as a hash).",
                p.name
            );
            say!(
                "  mail program: host {} · port {} · encryption {} · user \"{}\" · this password",
                client.host,
                client.port,
                client.security.client_setting(),
                client.user
            );
            say!("  then run: inbound proxy");
        }
        None => say!("inbound: \"{}\" has no proxy password now.", p.name),
    }
    Ok(exit::OK)
}

/// What to do about a proxy that cannot start, with the flags and settings that do it.
pub(super) fn hint(e: &proxy::ProxyError) -> Option<String> {
    match e {
        proxy::ProxyError::Bind { .. } => Some(
            "another program (another inbound proxy?) listens there: stop it, or choose another address with --listen ADDR:PORT or inbound settings --proxy-listen".into(),
        ),
        proxy::ProxyError::NotLoopback { .. } => Some(
            "keep --listen on 127.0.0.1, or add --tls so that passwords cross the network only encrypted".into(),
        ),
        _ => e.hint(),
    }
}
