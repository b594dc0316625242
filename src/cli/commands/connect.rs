//! `inbound connect`: sign-in through the listener (with paste-back), by device code, or after
//! an admin's consent.

use crate::cli::ConnectArgs;
use crate::cli::output;
use crate::exit;
use crate::model::quote::arg;
use crate::ops::Error;
use crate::ops::consent::{self, ConsentOptions};
use crate::services::browser::Situation;
use crate::store::Store;
use std::io::Write;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(super) async fn connect(store: &Store, a: ConnectArgs) -> Result<u8, Error> {
    // Before the browser: tokens a read-only store cannot keep would be lost after sign-in.
    store.check_writable()?;
    let cancel = CancellationToken::new();
    let ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    // One reader of stdin for the whole command: pastes go to the admin consent, then to the
    // sign-in (a second reader could swallow a line the first one had started reading).
    let (tx, mut pastes) = tokio::sync::mpsc::channel(4);
    if !a.device_code {
        tokio::spawn(read_pastes(tx));
    }
    if a.admin_consent {
        admin_consent(store, &a, cancel.clone(), &mut pastes).await?;
    }
    let connected = if a.device_code {
        consent::device_sign_in(
            store,
            &a.name,
            &cancel,
            |auth| {
                if a.json {
                    out!(
                        "{}",
                        output::line(&output::DeviceCodeJson {
                            verification_uri: &auth.verification_uri,
                            user_code: &auth.user_code,
                            expires_in: auth.expires_in,
                            interval: auth.interval,
                        })
                    );
                    let _ = std::io::stdout().flush();
                    return;
                }
                out!("{}", auth.verification_uri);
                let _ = std::io::stdout().flush();
                say!("\n    Code: {}\n", auth.user_code);
                say!(
                    "Open {} on any device, enter the code, and sign in as the mailbox (for a shared mailbox: as its delegate).",
                    auth.verification_uri
                );
                say!(
                    "Waiting (the code expires in {}) …",
                    crate::timefmt::span(auth.expires_in.try_into().unwrap_or(i64::MAX))
                );
            },
            |ev| {
                if let crate::services::oauth::device::PollEvent::SlowDown { interval } = ev {
                    say!(
                        "Microsoft asked to poll more slowly (every {} s).",
                        interval.as_secs()
                    );
                }
            },
        )
        .await?
    } else {
        connect_with_listener(store, &a, cancel, pastes).await?
    };
    let mismatch = connected.mismatch.as_ref().map(crate::cli::fix::mismatch);
    if a.json {
        out!(
            "{}",
            output::line(&output::ConnectedJson {
                server: &connected.server,
                account: connected.tokens.account.as_deref(),
                access_token_expires_at: connected.tokens.expires_at.to_string(),
                mismatch: mismatch.as_deref(),
            })
        );
        return Ok(exit::OK);
    }
    if let Some(m) = &mismatch {
        say!("Warning: {m}");
    }
    out!("{}", connected.summary());
    say!("Next: inbound test {}", arg(&connected.server));
    Ok(exit::OK)
}

fn consent_options(a: &ConnectArgs) -> Result<ConsentOptions, Error> {
    let public_url = a
        .public_url
        .as_deref()
        .map(crate::model::validate::public_url)
        .transpose()?;
    Ok(ConsentOptions {
        public_url,
        listen_port: a.listen_port,
        bind: None,
        allow_fallback: a.any_port,
    })
}

/// Opens `url` in a browser unless told not to or there is none; says how to reach the
/// listener over SSH.
async fn offer_link(a: &ConnectArgs, url: &str, port: u16) {
    let situation = Situation::from_env();
    if !a.no_browser && !a.paste {
        match situation.no_browser_reason() {
            None => {
                // Off the runtime: opening waits a moment to see the browser fail, while the
                // listener must keep accepting.
                let url = url.to_string();
                let opened = tokio::task::spawn_blocking(move || crate::services::browser::open(&url))
                    .await
                    .unwrap_or_else(|e| Err(crate::services::browser::BrowserError::Launcher(e.to_string())));
                if let Err(e) = opened {
                    say!("{e}; open the link yourself.");
                }
            }
            Some(reason) => say!("{reason} Open the link on your own computer."),
        }
    }
    if situation.ssh {
        say!(
            "Keep a tunnel open from your computer so its browser reaches this listener:\n  {}",
            situation.tunnel_command(port)
        );
    }
}

/// `connect --admin-consent`: the admin grants IMAP for the organization through the v2 admin
/// consent page (its URL is a line of stdout, like the sign-in URL after it).
async fn admin_consent(
    store: &Store,
    a: &ConnectArgs,
    cancel: CancellationToken,
    pastes: &mut tokio::sync::mpsc::Receiver<String>,
) -> Result<(), Error> {
    let pending = consent::begin_admin_consent(store, &a.name, &consent_options(a)?).await?;
    let timeout = match a.timeout {
        Some(secs) => Duration::from_secs(secs),
        None => store.load()?.settings.consent_timeout(),
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", pending.url);
        let _ = out.flush();
    }
    let port = pending.port();
    say!(
        "Admin consent: sign in with an admin account (Cloud Application Administrator, Application Administrator or Privileged Role Administrator) with the link above and accept for the organization (short link: http://localhost:{port}/start)."
    );
    offer_link(a, &pending.url, port).await;
    say!("Or paste the address the browser ended on (\"can't be reached\" is fine) and press Enter.");
    say!("Waiting for the admin consent answer on port {port} …");
    let granted = pending
        .wait_any(store, timeout, cancel, Some(pastes), |msg| {
            say!("Pasted address not used: {msg}")
        })
        .await?;
    if let Some(w) = &granted.warning {
        say!("Warning: {w}");
    }
    say!(
        "Admin consent granted for the organization ({}; tenant reported: {}). Now the sign-in:",
        crate::timefmt::local(granted.at),
        if granted.reported_tenant.is_empty() {
            "none"
        } else {
            &granted.reported_tenant
        }
    );
    Ok(())
}

async fn connect_with_listener(
    store: &Store,
    a: &ConnectArgs,
    cancel: CancellationToken,
    pastes: tokio::sync::mpsc::Receiver<String>,
) -> Result<consent::Connected, Error> {
    let opts = consent_options(a)?;
    let consent = consent::begin(store, &a.name, &opts).await?;
    let timeout = match a.timeout {
        Some(secs) => Duration::from_secs(secs),
        None => store.load()?.settings.consent_timeout(),
    };
    {
        // The URL is a line of stdout (the first one unless --admin-consent printed its own),
        // flushed, so a script can read it at once.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", consent.auth_url);
        let _ = out.flush();
    }
    let port = consent.port();
    if consent.fell_back() {
        let requested = a.listen_port.unwrap_or(crate::model::DEFAULT_LISTEN_PORT);
        say!(
            "Port {requested} is busy; listening on {port} instead (any port works with the registered URL)."
        );
    }
    say!(
        "Sign in as {} with the link above (short link: http://localhost:{port}/start).",
        consent.server.sign_in_account()
    );
    if let Some(d) = &consent.server.sign_in_as {
        say!("{}", consent::shared_mailbox_note(d, &consent.server.username));
    }
    offer_link(a, &consent.auth_url, port).await;
    say!("Or paste the address the browser ended on (\"can't be reached\" is fine) and press Enter.");
    say!("Waiting for Microsoft's answer on port {port} …");
    consent
        .wait_any(store, timeout, cancel, Some(pastes), |note| match note {
            consent::PasteNote::NotUsed(msg) => say!("Pasted address not used: {msg}"),
            consent::PasteNote::AdminConsentRecorded(g) => {
                say!(
                    "Admin consent recorded ({}; tenant reported: {}). Now sign in with the link above.",
                    crate::timefmt::local(g.at),
                    if g.reported_tenant.is_empty() {
                        "none"
                    } else {
                        &g.reported_tenant
                    }
                );
                if let Some(w) = &g.warning {
                    say!("Warning: {w}");
                }
            }
        })
        .await
}

/// Forwards what the user pastes on stdin, line by line and cumulatively (a URL wrapped by the
/// terminal arrives in pieces); an empty line starts over.
async fn read_pastes(tx: tokio::sync::mpsc::Sender<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    // Bounded like every read: a few pasted addresses, never an endless line.
    const MAX_PASTE: u64 = 1 << 20;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin().take(MAX_PASTE)).lines();
    let mut buffer = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            buffer.clear();
            continue;
        }
        // A new address starts over (after the admin consent's, the sign-in's follows).
        let start = line.trim_start();
        if start.starts_with("http://") || start.starts_with("https://") {
            buffer.clear();
        }
        buffer.push_str(&line);
        if tx.send(buffer.clone()).await.is_err() {
            break;
        }
    }
}
