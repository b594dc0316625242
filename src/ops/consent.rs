//! Browser consent through the embedded listener: bind, build the URL, wait for Microsoft's
//! redirect, redeem the code once, store the tokens, then answer the browser. The wait itself
//! is the one [`Listening`] session the admin consent uses too.

pub use super::admin_consent::{AdminConsent, AdminConsentNeeded, AdminGranted, begin_admin_consent};
pub use super::listening::{ConsentOptions, PortChoice};
use super::listening::{Heard, Listening, PasteProblem, check_state, denied, link_answer};
use super::paste::{self, Pasted};
use super::{Error, Result, tokens};
use crate::model::health::Mismatch;
use crate::model::{AzureApp, Flow, Server, TokenSet};
use crate::services::oauth::listener::{Callback, Outcome};
use crate::services::oauth::{self, AuthRequest, OAuthError, device, diagnose, idtoken};
use crate::store::Store;
use jiff::Timestamp;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const DEFAULT_TIMEOUT: Duration = crate::model::DEFAULT_CONSENT_TIMEOUT;

/// A sign-in waiting for the browser.
pub struct Consent {
    pub server: Server,
    pub app: AzureApp,
    pub auth_url: String,
    listening: Listening,
    request: Option<AuthRequest>,
}

impl std::fmt::Debug for Consent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consent")
            .field("server", &self.server.name)
            .field("auth_url", &self.auth_url)
            .finish_non_exhaustive()
    }
}

/// The result of a completed sign-in.
#[derive(Debug, Clone, PartialEq)]
pub struct Connected {
    pub server: String,
    pub username: String,
    pub tokens: TokenSet,
    /// Set when the signed-in account is not the configured Username.
    pub mismatch: Option<Mismatch>,
}

impl Connected {
    /// "Outlook token is valid" line for people.
    pub fn summary(&self) -> String {
        let account = self.tokens.account.as_deref().unwrap_or("(account not reported)");
        format!(
            "Outlook token is valid: signed in as {account}, access token valid until {}",
            crate::timefmt::local(self.tokens.expires_at)
        )
    }
}

/// Binds the listener and prepares the authorization URL.
pub async fn begin(store: &Store, name: &str, opts: &ConsentOptions) -> Result<Consent> {
    let config = store.load()?;
    let (server, app) = super::signin_target(&config, name)?;
    if !crate::services::oauth::credential::has_credential(&app) && !app.public_client {
        return Err(Error::NoCredential {
            app: app.name.clone(),
        });
    }
    let listening = Listening::open(&config.settings, opts, &server, &app).await?;
    // A shared mailbox is opened by its delegate: the hint names who signs in.
    let request = oauth::authorization_request(
        &app,
        &listening.redirect_uri,
        server.sign_in_account(),
        listening.state.clone(),
    )
    .map_err(|e| Error::OAuth {
        server: name.into(),
        source: e,
    })?;
    let auth_url = request.url.clone();
    listening.listener.set_start_target(&auth_url);
    Ok(Consent {
        server,
        app,
        auth_url,
        listening,
        request: Some(request),
    })
}

impl Consent {
    pub fn port(&self) -> u16 {
        self.listening.port()
    }

    /// The port asked for was busy and another one is listening instead.
    pub fn fell_back(&self) -> bool {
        self.listening.listener.fell_back()
    }

    /// Waits for the redirect (at most `timeout`, or until `cancel`), redeems the code, stores
    /// the tokens and answers the browser.
    pub async fn wait(
        self,
        store: &Store,
        timeout: Duration,
        cancel: CancellationToken,
    ) -> Result<Connected> {
        self.wait_any(store, timeout, cancel, None, |_| {}).await
    }

    /// Like [`Consent::wait`], but also accepts addresses pasted by the user (paste-back);
    /// whichever arrives first wins. A paste that cannot be used is reported through `noted`
    /// and the wait goes on; so is the answer to the admin consent link sent to an admin,
    /// which is recorded on the app (the sign-in then proves it).
    pub async fn wait_any(
        mut self,
        store: &Store,
        timeout: Duration,
        cancel: CancellationToken,
        mut pasted: Option<mpsc::Receiver<String>>,
        mut noted: impl FnMut(PasteNote),
    ) -> Result<Connected> {
        let expected = self.listening.state.clone();
        let (server, app) = (&self.server, &self.app);
        let registered = self.listening.registered_redirect.clone();
        let heard = self
            .listening
            .wait(timeout, &cancel, pasted.as_mut(), |text| {
                match check_pasted(text, &expected, server, app, &registered) {
                    Ok(SignInPaste::Code(code)) => Ok(Some(code)),
                    Ok(SignInPaste::AdminAnswer(tenant)) => {
                        noted(PasteNote::AdminConsentRecorded(super::admin_consent::granted(
                            store, app, tenant,
                        )?));
                        Ok(None)
                    }
                    Err(PasteProblem::Fatal(e)) => Err(e),
                    Err(PasteProblem::Retry(msg)) => {
                        noted(PasteNote::NotUsed(msg));
                        Ok(None)
                    }
                }
            })
            .await?;
        match heard {
            Heard::Pasted(code) => {
                self.listening.listener.close();
                self.redeem(store, &code).await
            }
            Heard::Browser(Callback::Denied { error, description }) => {
                self.listening.listener.shutdown().await;
                Err(refused(
                    &self.server,
                    &self.app,
                    &registered,
                    &error,
                    &description,
                ))
            }
            Heard::Browser(Callback::AdminConsented { .. }) => {
                // An admin consent answer with this sign-in's state cannot come from
                // Microsoft (each flow has its own state): refuse it.
                self.listening.listener.shutdown().await;
                Err(Error::WrongAnswer {
                    server: self.server.name.clone(),
                    expected: super::Flow::SignIn,
                })
            }
            Heard::Browser(Callback::Code { code, reply }) => {
                let result = self.redeem(store, &code).await;
                let _ = reply.send(match &result {
                    Ok(c) => Outcome::Success(format!(
                        "{}.\n{}You can close this tab and return to the terminal.",
                        c.summary(),
                        c.mismatch
                            .as_ref()
                            .map(|m| format!("Warning: {}\n", m.words()))
                            .unwrap_or_default()
                    )),
                    Err(e) => Outcome::Failure(format!("{e}\n{}", e.hint().unwrap_or_default())),
                });
                self.listening.listener.shutdown().await;
                result
            }
        }
    }

    /// Redeems a code (from the listener or pasted by the user) exactly once.
    pub async fn redeem(&mut self, store: &Store, code: &str) -> Result<Connected> {
        let request = self.request.take().ok_or_else(|| Error::SignInUsed {
            server: self.server.name.clone(),
        })?;
        let grant = oauth::exchange_code(&self.app, request, code)
            .await
            .map_err(|e| {
                // The message carries the AADSTS code and Microsoft's trace/correlation IDs.
                tracing::warn!(server = %self.server.name, error = %e, "sign-in: code redemption failed");
                match &e {
                    OAuthError::Microsoft(ms) if diagnose::needs_admin_consent(&ms.codes()) => {
                        AdminConsentNeeded::error(
                            &self.server,
                            &self.app,
                            &self.listening.registered_redirect,
                            &ms.short_description(),
                        )
                    }
                    _ => Error::OAuth {
                        server: self.server.name.clone(),
                        source: e,
                    },
                }
            })?;
        let tokens = grant.into_token_set(Timestamp::now(), Flow::AuthorizationCode, None);
        finish(store, &self.server, tokens)
    }
}

/// Validates a pasted address against this sign-in (its `state`).
fn check_pasted(
    text: &str,
    expected: &str,
    server: &Server,
    app: &AzureApp,
    registered: &str,
) -> std::result::Result<SignInPaste, PasteProblem> {
    let pasted = paste::parse(text).map_err(PasteProblem::Retry)?;
    if let Some(tenant) = link_answer(&pasted) {
        return Ok(SignInPaste::AdminAnswer(tenant));
    }
    check_state(&pasted, expected)?;
    match pasted {
        Pasted::Code { code, .. } => Ok(SignInPaste::Code(code)),
        Pasted::AdminConsented { .. } => Err(PasteProblem::Retry(
            "that is the admin consent's answer; paste the address the sign-in ended on".into(),
        )),
        Pasted::Error {
            error, description, ..
        } => Err(PasteProblem::Fatal(refused(
            server,
            app,
            registered,
            &error,
            &description,
        ))),
    }
}

/// Stores a fresh sign-in and checks the account.
pub fn finish(store: &Store, server: &Server, tokens: TokenSet) -> Result<Connected> {
    tokens::store_consent(store, server, tokens.clone())?;
    tracing::info!(
        server = %server.name,
        flow = ?tokens.flow,
        account = tokens.account.as_deref().unwrap_or("?"),
        expires = %tokens.expires_at,
        "signed in, tokens stored"
    );
    let mismatch = tokens
        .account
        .as_deref()
        .filter(|a| !idtoken::same_account(a, server.sign_in_account()))
        .map(|a| mismatch_of(a, server));
    Ok(Connected {
        server: server.name.clone(),
        username: server.username.clone(),
        tokens,
        mismatch,
    })
}

/// What became of a paste the sign-in did not end with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasteNote {
    /// Not usable (cut off, another attempt's, not an answer): why, and the wait goes on.
    NotUsed(String),
    /// The answer to the admin consent link sent to an admin: recorded; the sign-in goes on.
    AdminConsentRecorded(AdminGranted),
}

/// A pasted address the sign-in can use.
enum SignInPaste {
    Code(String),
    /// The admin consent link's answer (no state): the tenant it reported.
    AdminAnswer(String),
}

/// Device-code sign-in for a server; `on_code` gets the user code and URL to show.
pub async fn device_sign_in(
    store: &Store,
    name: &str,
    cancel: &CancellationToken,
    on_code: impl FnOnce(&device::DeviceAuthorization),
    on_event: impl FnMut(device::PollEvent),
) -> Result<Connected> {
    let config = store.load()?;
    let (server, app) = super::signin_target(&config, name)?;
    let auth = device::start(&app).await.map_err(|e| {
        tracing::warn!(server = name, error = %e, "device code: start refused");
        Error::OAuth {
            server: name.into(),
            source: e,
        }
    })?;
    tracing::info!(
        server = name,
        expires_in = auth.expires_in,
        "device code: waiting for sign-in"
    );
    on_code(&auth);
    let grant = device::poll(&app, &auth, cancel, on_event).await.map_err(|e| {
        tracing::warn!(server = name, outcome = %e, "device code: sign-in did not finish");
        match e {
            device::DeviceError::Cancelled => Error::Cancelled,
            // "Need admin approval" on this path too: the admin step, not a dead end.
            device::DeviceError::OAuth(OAuthError::Microsoft(ms))
                if diagnose::needs_admin_consent(&ms.codes()) =>
            {
                AdminConsentNeeded::error(
                    &server,
                    &app,
                    &crate::model::registered_redirect_uri(&config.settings),
                    &ms.short_description(),
                )
            }
            other => Error::Device {
                server: name.into(),
                hint: other.hint(),
                message: other.to_string(),
                fix: other.fix(name).map(Box::new),
            },
        }
    })?;
    let tokens = grant.into_token_set(Timestamp::now(), Flow::DeviceCode, None);
    finish(store, &server, tokens)
}

/// "You signed in as X but …", naming the mailbox and, for a shared one, the delegate.
fn mismatch_of(account: &str, server: &Server) -> Mismatch {
    Mismatch {
        account: account.into(),
        mailbox: server.username.clone(),
        delegate: server.sign_in_as.clone(),
        server: server.name.clone(),
    }
}

/// What a delegate of a shared mailbox needs, in one line for the form and the CLI.
pub fn shared_mailbox_note(delegate: &str, mailbox: &str) -> String {
    format!(
        "Shared mailbox: {delegate} signs in and opens {mailbox}. The delegate needs FullAccess on the mailbox; an Exchange admin grants it with: Add-MailboxPermission -Identity {mailbox} -User {delegate} -AccessRights FullAccess"
    )
}

/// A refusal redirected back from Microsoft: "Need admin approval" becomes the admin consent
/// step, everything else an explained error.
pub(crate) fn refused(
    server: &Server,
    app: &AzureApp,
    redirect: &str,
    error: &str,
    description: &str,
) -> Error {
    let codes = diagnose::codes_in_text(description);
    let first = description.lines().next().unwrap_or("").trim();
    if diagnose::needs_admin_consent(&codes) {
        tracing::warn!(server = %server.name, error, description, "sign-in: the tenant needs admin consent");
        return AdminConsentNeeded::error(server, app, redirect, first);
    }
    // "Return to the application" from "Need admin approval" comes back as a declined consent
    // (access_denied, subcode cancel, AADSTS65004): never a dead end, the admin route too.
    if codes.contains(&65004) {
        tracing::warn!(server = %server.name, error, description, "sign-in: consent declined");
        return AdminConsentNeeded::declined(server, app, redirect, first);
    }
    denied(error, description)
}
