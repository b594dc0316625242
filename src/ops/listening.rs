//! The one wait for a browser's answer, shared by the sign-in ([`super::consent`]) and the
//! admin consent ([`super::admin_consent`]): a listener bound with a `state` of its own, and a
//! wait for whichever comes first — the redirect to the listener, an address pasted back by
//! the user, the deadline, or a cancel. Each flow judges the answers itself.

use super::paste::Pasted;
use super::{Error, Result};
use crate::model::{AzureApp, DEFAULT_LISTEN_PORT, Server};
use crate::services::oauth::diagnose;
use crate::services::oauth::listener::{Callback, Listener};
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Default)]
pub struct ConsentOptions {
    /// Listener port; else the stored setting; else [`DEFAULT_LISTEN_PORT`].
    pub listen_port: Option<u16>,
    /// Address to bind instead of loopback (public URL mode behind a proxy); else the setting.
    pub bind: Option<IpAddr>,
    /// Public base URL for the redirect (e.g. `https://demo.tasksuite.com`); else the setting.
    pub public_url: Option<String>,
    /// Let a port the user chose be replaced by a free one when it is busy. (The default port
    /// is always replaced; in public URL mode nothing is, the proxy forwards to one port.)
    pub allow_fallback: bool,
}

/// Who chose the listener port, for the message when it is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    /// Given for this sign-in (`--listen-port`).
    Flag,
    /// The stored setting.
    Setting,
    /// Public URL mode: the reverse proxy forwards to this port.
    PublicUrl,
}

/// A listener waiting for one flow's answer.
pub(crate) struct Listening {
    pub listener: Listener,
    /// What the request sends (`http://localhost:PORT/…`, or the public URL's).
    pub redirect_uri: String,
    /// What the portal must hold (no port for localhost).
    pub registered_redirect: String,
    /// This flow's own `state`: an answer belongs to it only with this exact value.
    pub state: String,
    /// For the message when nothing comes back in time.
    server: String,
    public_client: bool,
}

/// What ended a wait.
pub(crate) enum Heard<T> {
    /// The browser reached the listener.
    Browser(Callback),
    /// A pasted address the flow took (what it made of it).
    Pasted(T),
}

/// A pasted address that cannot be used: said and waited on, or the end of the flow.
pub(crate) enum PasteProblem {
    Retry(String),
    Fatal(Error),
}

impl Listening {
    /// Binds the listener for a new flow on `server` as the options and settings say, with a
    /// fresh `state`.
    pub(crate) async fn open(
        settings: &crate::model::Settings,
        opts: &ConsentOptions,
        server: &Server,
        app: &AzureApp,
    ) -> Result<Self> {
        let state = crate::services::oauth::new_state();
        let chosen = match (opts.listen_port, settings.listen_port) {
            (Some(p), _) => Some((p, PortChoice::Flag)),
            (None, Some(p)) => Some((p, PortChoice::Setting)),
            (None, None) => None,
        };
        let port = chosen.map_or(DEFAULT_LISTEN_PORT, |(p, _)| p);
        let bind = opts.bind.or(settings.listen_address);
        let public = opts.public_url.as_ref().or(settings.public_url.as_ref());
        // A port the user chose is never silently replaced, and behind a proxy no other port
        // would be reached at all.
        let exact = public.is_some() || (chosen.is_some() && !opts.allow_fallback);
        let bound = if exact {
            Listener::bind_exact(port, state.clone(), bind).await
        } else {
            Listener::bind(port, state.clone(), bind).await
        };
        let listener = bound.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                Error::PortBusy {
                    port,
                    chosen: match (public.is_some(), chosen) {
                        (true, _) => PortChoice::PublicUrl,
                        (false, Some((_, c))) => c,
                        (false, None) => PortChoice::Flag,
                    },
                    holder: crate::services::ports::holder(port),
                }
            } else {
                Error::Io(format!("cannot start the sign-in listener on port {port}: {e}"))
            }
        })?;
        // Behind a reverse proxy the browser comes back through the public URL, which forwards
        // /microsoft_outlook/confirm to this listener; state and PKCE still protect the code.
        let redirect_uri = match public {
            Some(base) => format!("{}{}", base.trim_end_matches('/'), crate::model::REDIRECT_PATH),
            None => listener.redirect_uri(),
        };
        let registered_redirect = match public {
            Some(_) => redirect_uri.clone(),
            None => crate::model::registered_redirect_uri(&crate::model::Settings::default()),
        };
        Ok(Self {
            listener,
            redirect_uri,
            registered_redirect,
            state,
            server: server.name.clone(),
            public_client: app.public_client,
        })
    }

    pub(crate) fn port(&self) -> u16 {
        self.listener.port()
    }

    /// Waits (at most `timeout`, or until `cancel`) for the browser's redirect or a pasted
    /// address that `take` accepts: `Ok(Some(_))` ends the wait, `Ok(None)` waits on (the flow
    /// said why through its own channel), an error ends the flow.
    pub(crate) async fn wait<T>(
        &mut self,
        timeout: Duration,
        cancel: &CancellationToken,
        mut pasted: Option<&mut mpsc::Receiver<String>>,
        mut take: impl FnMut(&str) -> Result<Option<T>>,
    ) -> Result<Heard<T>> {
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            let paste = async {
                match pasted.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cb = self.listener.next() => return Ok(Heard::Browser(cb.ok_or(Error::Cancelled)?)),
                text = paste => match text {
                    None => pasted = None,
                    Some(text) => {
                        if let Some(taken) = take(&text)? {
                            return Ok(Heard::Pasted(taken));
                        }
                    }
                },
                () = &mut deadline => {
                    return Err(Error::NoAnswer {
                        timeout,
                        registered: self.registered_redirect.clone(),
                        public_client: self.public_client,
                        server: self.server.clone(),
                    });
                }
                () = cancel.cancelled() => return Err(Error::Cancelled),
            }
        }
    }
}

/// A pasted answer belongs to this flow only with its exact `state`.
pub(crate) fn check_state(pasted: &Pasted, expected: &str) -> std::result::Result<(), PasteProblem> {
    match pasted.state() {
        None => Err(PasteProblem::Retry(
            "the address has no state=…; copy the whole address".into(),
        )),
        Some(s) if s != expected && expected.starts_with(s) => Err(PasteProblem::Retry(
            "the address looks cut off; paste the rest of it".into(),
        )),
        Some(s) if s != expected => Err(PasteProblem::Retry(
            "that address belongs to another sign-in attempt (state does not match); use the link shown now"
                .into(),
        )),
        Some(_) => Ok(()),
    }
}

/// The answer to the admin consent link sent to an admin (the Permissions step's, the setup
/// script's, the hints'), pasted: its reported tenant. That link carries no state (it
/// outlives any run), so its answer is taken as pasted, by the admin consent and by the
/// sign-in alike. It only records when consent was granted (the tenant is shown, never
/// trusted), and the sign-in that follows proves it.
pub(crate) fn link_answer(pasted: &Pasted) -> Option<String> {
    match pasted {
        Pasted::AdminConsented { tenant, state: None } => Some(tenant.clone()),
        _ => None,
    }
}

/// Microsoft redirected with an error that neither flow turns into a step of its own.
pub(crate) fn denied(error: &str, description: &str) -> Error {
    tracing::warn!(error, description, "sign-in: Microsoft redirected with an error");
    let codes = diagnose::codes_in_text(description);
    Error::Refused {
        error: error.to_string(),
        description: description.to_string(),
        hint: codes
            .iter()
            .find_map(|c| diagnose::aadsts_hint(*c))
            .map(str::to_string),
    }
}
