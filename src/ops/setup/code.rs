//! The setup code: the one line the setup script prints last.
//!
//! `inbound-setup:1:<payload>:<check>`: a version, the base64url (no padding) of a compact JSON
//! object, and the first 8 hex digits of SHA-256 over the payload text, so a character lost,
//! changed or added in copying is caught before any field is read.

use crate::model::health::{Advice, Fix};
use crate::model::validate::{self, FieldError};
use crate::ops::servers::{AppChoice, AppInput, ServerInput};
use crate::secret::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

pub const PREFIX: &str = "inbound-setup:";
pub const VERSION: &str = "1";
/// Hex digits of the checksum.
pub const CHECK_LEN: usize = 8;
/// A code is a few hundred characters; anything far longer is not one.
pub const MAX_LEN: usize = 16 * 1024;

/// What a setup code carries. A secret: its `Debug` shows no secret, and it is never logged.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupCode {
    pub tenant: String,
    pub client_id: String,
    /// The client secret Value (none for a public client).
    pub secret: Option<Secret>,
    pub secret_expires: Option<Date>,
    /// The redirect URI registered under Web (none for a public client or app-only).
    pub redirect_uri: Option<String>,
    pub public_client: bool,
    /// Whether the script granted admin consent for the tenant.
    pub admin_consent: bool,
    /// App-only (client credentials) rather than delegated sign-in.
    pub app_only: bool,
    /// Mailboxes the script gave the app FullAccess to (app-only).
    pub mailboxes: Vec<String>,
}

/// The JSON inside a code, as the scripts write it.
#[derive(Serialize, Deserialize, Default)]
struct Payload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret_expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_client: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_consent: Option<bool>,
    #[serde(default)]
    app_only: bool,
    #[serde(default)]
    mailboxes: Vec<String>,
}

/// Why a pasted setup code was refused. The messages never quote the code (it holds a secret).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SetupCodeError {
    #[error(
        "the setup code is empty; paste the line the setup script printed last (it starts with {PREFIX})"
    )]
    Empty,
    #[error("this is not a setup code; the setup script's last line is one, and it starts with {PREFIX}")]
    NotACode,
    #[error(
        "that is {0} bytes, too long for a setup code (a few hundred characters, at most {MAX_LEN} bytes); copy just the setup script's last line"
    )]
    TooLong(usize),
    #[error(
        "the setup code is cut short (its end is missing); copy the whole line, up to its last character"
    )]
    Truncated,
    #[error(
        "the setup code is damaged: its checksum does not match, so characters were changed, lost or added in copying; copy the whole line again"
    )]
    BadChecksum,
    #[error(
        "the setup code was broken across {lines} lines and the pieces do not join into a valid code; copy it again as one line"
    )]
    Wrapped { lines: usize },
    #[error(
        "the setup code is version {0}, which this inbound does not read; update inbound, or run the setup script this inbound gives"
    )]
    UnknownVersion(String),
    #[error("the setup code is damaged ({0}); copy the whole line again")]
    Damaged(&'static str),
    #[error("the setup code has no {0}; run the setup script again and copy its last line")]
    MissingField(&'static str),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{username} is not among the mailboxes this app-only code grants ({})", granted.join(", "))]
    MailboxNotGranted { username: String, granted: Vec<String> },
}

impl From<SetupCodeError> for crate::ops::Error {
    fn from(e: SetupCodeError) -> Self {
        match e {
            SetupCodeError::Invalid(fields) => crate::ops::Error::Invalid(fields),
            other => crate::ops::Error::Invalid(vec![FieldError::new(
                crate::model::validate::Field::SetupCode,
                other.to_string(),
            )]),
        }
    }
}

/// The checksum of a payload.
pub fn checksum(payload: &str) -> String {
    let digest = Sha256::digest(payload.as_bytes());
    digest
        .iter()
        .take(CHECK_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SetupCode {
    /// Reads a pasted code. Whitespace around it is ignored; a code wrapped onto several lines
    /// is joined again when the joined text passes the checksum (which makes the join safe),
    /// and refused as wrapped otherwise.
    pub fn parse(input: &str) -> Result<SetupCode, SetupCodeError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(SetupCodeError::Empty);
        }
        if text.len() > MAX_LEN {
            return Err(SetupCodeError::TooLong(text.len()));
        }
        // Whatever was copied before the prefix (a prompt, the script's heading) is not the code.
        let start = text.find(PREFIX).ok_or(SetupCodeError::NotACode)?;
        let code = &text[start..];
        let lines = code.lines().filter(|l| !l.trim().is_empty()).count();
        let joined: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        match decode(&joined) {
            Err(e) if lines > 1 && is_damage(&e) => Err(SetupCodeError::Wrapped { lines }),
            other => other,
        }
    }

    /// The code's text (what the scripts print), for tests and for showing it again.
    pub fn encode(&self) -> Secret {
        let payload = Payload {
            tenant: Some(self.tenant.clone()),
            client_id: Some(self.client_id.clone()),
            secret: self.secret.clone(),
            secret_expires: self.secret_expires.map(|d| d.to_string()),
            redirect_uri: self.redirect_uri.clone(),
            public_client: Some(self.public_client),
            admin_consent: Some(self.admin_consent),
            app_only: self.app_only,
            mailboxes: self.mailboxes.clone(),
        };
        let json = serde_json::to_string(&payload).unwrap_or_default();
        let p = URL_SAFE_NO_PAD.encode(json.as_bytes());
        let check = checksum(&p);
        Secret::new(format!("{PREFIX}{VERSION}:{p}:{check}"))
    }

    /// The app as the store's add path takes it (`name`: default the server's name).
    pub fn app_input(&self, name: Option<String>, authority: Option<String>) -> AppInput {
        AppInput {
            name,
            client_id: self.client_id.clone(),
            tenant: self.tenant.clone(),
            secret: self.secret.clone(),
            secret_expires: self.secret_expires.map(|d| d.to_string()),
            authority,
            public_client: self.public_client,
        }
    }

    /// `server` (name, mailbox, host …) with this code's app, ready for
    /// [`crate::ops::servers::add_server`].
    pub fn server_input(
        &self,
        mut server: ServerInput,
        app_name: Option<String>,
        authority: Option<String>,
    ) -> Result<ServerInput, SetupCodeError> {
        if self.app_only {
            let username = server.username.trim();
            if !self.mailboxes.iter().any(|m| m.eq_ignore_ascii_case(username)) {
                return Err(SetupCodeError::MailboxNotGranted {
                    username: crate::sanitize::echo(username),
                    granted: self.mailboxes.clone(),
                });
            }
            server.auth = crate::model::AuthKind::OAuth2App;
            server.sign_in_as = None;
            server.app = Some(AppChoice::New(self.app_input(app_name, authority)));
            return Ok(server);
        }
        server.auth = crate::model::AuthKind::OAuth2;
        server.app = Some(AppChoice::New(self.app_input(app_name, authority)));
        Ok(server)
    }

    /// What to tell the person when the redirect URI the app registered is not the one
    /// inbound will send with these settings (sign-in would end in AADSTS50011).
    /// The fix, when one setting makes them match: the public URL the app is registered
    /// behind, or none (localhost).
    pub fn redirect_advice(&self, settings: &crate::model::Settings) -> Option<Advice> {
        let registered = self.redirect_uri.as_deref()?;
        let used = crate::model::registered_redirect_uri(settings);
        if registered == used {
            return None;
        }
        let fix = match registered.strip_suffix(crate::model::REDIRECT_PATH) {
            Some("http://localhost") => Some(Fix::PublicUrl { url: None }),
            Some(base) => Some(Fix::PublicUrl {
                url: Some(base.to_string()),
            }),
            None => None,
        };
        Some(Advice {
            words: format!("the app is registered for {registered}, but inbound signs in at {used}"),
            fix,
        })
    }
}

/// Damage a wrapped code would show once joined wrongly.
fn is_damage(e: &SetupCodeError) -> bool {
    matches!(
        e,
        SetupCodeError::Truncated | SetupCodeError::BadChecksum | SetupCodeError::Damaged(_)
    )
}

impl SetupCodeError {
    /// True when more pasted text could still complete the code (a paste arriving as
    /// several lines), so a reader may wait for the next line.
    pub fn may_continue(&self) -> bool {
        is_damage(self) || matches!(self, SetupCodeError::Wrapped { .. })
    }
}

fn decode(joined: &str) -> Result<SetupCode, SetupCodeError> {
    let rest = joined.strip_prefix(PREFIX).ok_or(SetupCodeError::NotACode)?;
    let mut parts = rest.splitn(3, ':');
    let version = parts.next().unwrap_or("");
    if version.is_empty() {
        return Err(SetupCodeError::Truncated);
    }
    if version != VERSION {
        return Err(
            if version.len() <= 4 && version.chars().all(|c| c.is_ascii_digit()) {
                SetupCodeError::UnknownVersion(version.to_string())
            } else {
                SetupCodeError::Damaged("its version is not a number")
            },
        );
    }
    let payload = parts
        .next()
        .filter(|p| !p.is_empty())
        .ok_or(SetupCodeError::Truncated)?;
    let check = parts.next().ok_or(SetupCodeError::Truncated)?;
    let hex = check.chars().all(|c| c.is_ascii_hexdigit());
    if hex && check.len() < CHECK_LEN {
        return Err(SetupCodeError::Truncated);
    }
    if !hex || check.len() != CHECK_LEN {
        return Err(SetupCodeError::Damaged("its checksum is not 8 hex digits"));
    }
    if !check.eq_ignore_ascii_case(&checksum(payload)) {
        return Err(SetupCodeError::BadChecksum);
    }
    let json = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| SetupCodeError::Damaged("its payload is not base64url"))?;
    let p: Payload = serde_json::from_slice(&json)
        .map_err(|_| SetupCodeError::Damaged("its payload is not the expected JSON"))?;
    fields(p)
}

fn fields(p: Payload) -> Result<SetupCode, SetupCodeError> {
    let tenant = p.tenant.ok_or(SetupCodeError::MissingField("tenant ID"))?;
    let client_id = p.client_id.ok_or(SetupCodeError::MissingField("client ID"))?;
    let public_client = p.public_client.ok_or(SetupCodeError::MissingField(
        "client type (public or confidential)",
    ))?;
    let admin_consent = p
        .admin_consent
        .ok_or(SetupCodeError::MissingField("admin consent state"))?;
    let mut errors = Vec::new();
    let tenant = validate::tenant(&tenant)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let client_id = validate::client_id(&client_id)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let secret = match p.secret {
        Some(s) => match validate::secret(s.expose()) {
            Ok(v) => Some(Secret::new(v)),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None if public_client => None,
        None => return Err(SetupCodeError::MissingField("client secret")),
    };
    let secret_expires = match p.secret_expires {
        Some(d) => validate::secret_expiry_now(&d).map_err(|e| errors.push(e)).ok(),
        None if secret.is_some() => return Err(SetupCodeError::MissingField("secret expiry")),
        None => None,
    };
    let redirect_uri = match p.redirect_uri.filter(|r| !r.is_empty()) {
        Some(r) => match redirect_ok(&r) {
            Ok(()) => Some(r),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None if public_client || p.app_only => None,
        None => return Err(SetupCodeError::MissingField("redirect URI")),
    };
    let mut mailboxes = Vec::new();
    for m in &p.mailboxes {
        match validate::username(m) {
            Ok(m) => mailboxes.push(m),
            Err(e) => errors.push(FieldError::new(crate::model::validate::Field::Mailbox, e.message)),
        }
    }
    if !errors.is_empty() {
        return Err(SetupCodeError::Invalid(errors));
    }
    Ok(SetupCode {
        tenant,
        client_id,
        secret,
        secret_expires,
        redirect_uri,
        public_client,
        admin_consent,
        app_only: p.app_only,
        mailboxes,
    })
}

/// `http://localhost/microsoft_outlook/confirm`, or `https://<base>/microsoft_outlook/confirm`.
fn redirect_ok(r: &str) -> Result<(), FieldError> {
    let base = r.strip_suffix(crate::model::REDIRECT_PATH);
    match base {
        Some("http://localhost") => Ok(()),
        Some(b) if validate::public_url(b).is_ok() => Ok(()),
        _ => Err(FieldError::new(
            crate::model::validate::Field::RedirectUri,
            format!(
                "the code's redirect URI is not http://localhost{} or https://<your host>{}; run the setup script again",
                crate::model::REDIRECT_PATH,
                crate::model::REDIRECT_PATH
            ),
        )),
    }
}

#[cfg(test)]
mod tests;
