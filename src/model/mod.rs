//! The data the store keeps: Azure apps, incoming mail servers, their tokens and health.
//! Plain data with serde; no I/O here.

pub mod cloud;
pub mod health;
pub mod quote;
pub mod rejection;
pub mod serve;
pub mod validate;

pub use cloud::Cloud;

use crate::secret::Secret;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Version of the configuration document; bumped on incompatible changes.
pub const CONFIG_SCHEMA: u32 = 1;
/// Version of a per-server token file.
pub const TOKENS_SCHEMA: u32 = 1;

pub const DEFAULT_HOST: &str = "outlook.office365.com";
pub const DEFAULT_PORT: u16 = 993;
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The callback path Microsoft redirects to; registered as `http://localhost` + this path.
pub const REDIRECT_PATH: &str = "/microsoft_outlook/confirm";
/// The loopback redirect URI to register, for a Web app and a public client ("Mobile and
/// desktop applications") alike: Entra ignores the port of a `localhost` redirect but compares
/// its path (microsoft-facts §2), and the listener answers on [`REDIRECT_PATH`], so the path
/// must be registered too (a bare `http://localhost` fails with AADSTS50011).
pub const LOOPBACK_REDIRECT_URI: &str = "http://localhost/microsoft_outlook/confirm";
/// Default port of the embedded listener. Entra ignores the port of a `localhost` redirect URI,
/// so any port works with the registered URL; a stable one makes the `ssh -L` line reusable.
pub const DEFAULT_LISTEN_PORT: u16 = 8400;
/// What the v2 admin consent asks an admin to grant for every user (microsoft-facts §8).
pub const ADMIN_CONSENT_SCOPE: &str =
    "https://outlook.office.com/IMAP.AccessAsUser.All offline_access openid email profile";
/// How long a sign-in waits for the browser unless the settings say otherwise.
pub const DEFAULT_CONSENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The whole configuration document (`config.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    pub schema: u32,
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub apps: Vec<AzureApp>,
    #[serde(default)]
    pub servers: Vec<Server>,
    /// New certificates made for apps that already have a working credential: each waits
    /// here (its key in `certs/`) until Microsoft accepts it, then replaces the app's
    /// credential (`inbound cert use`). The app keeps signing in with the old one meanwhile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_certificates: Vec<PendingCertificate>,
}

/// A certificate waiting to be proven before it replaces app `app`'s credential.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingCertificate {
    pub app: String,
    pub certificate: AppCertificate,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            schema: CONFIG_SCHEMA,
            settings: Settings::default(),
            apps: Vec::new(),
            servers: Vec::new(),
            pending_certificates: Vec::new(),
        }
    }
}

impl Config {
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }
    pub fn server_mut(&mut self, name: &str) -> Option<&mut Server> {
        self.servers.iter_mut().find(|s| s.name == name)
    }
    pub fn app(&self, name: &str) -> Option<&AzureApp> {
        self.apps.iter().find(|a| a.name == name)
    }
    pub fn app_mut(&mut self, name: &str) -> Option<&mut AzureApp> {
        self.apps.iter_mut().find(|a| a.name == name)
    }
    /// The Azure app a server signs in with, if it uses OAuth2 and the app exists.
    pub fn app_of(&self, server: &Server) -> Option<&AzureApp> {
        server.app.as_deref().and_then(|a| self.app(a))
    }
    /// Names of the servers that use an app.
    pub fn servers_using(&self, app: &str) -> Vec<&str> {
        self.servers
            .iter()
            .filter(|s| s.app.as_deref() == Some(app))
            .map(|s| s.name.as_str())
            .collect()
    }
}

/// Global settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// Port of the embedded consent listener (default [`DEFAULT_LISTEN_PORT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_port: Option<u16>,
    /// Public base URL (e.g. `https://demo.tasksuite.com`) when the listener sits behind a proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Address the listener binds in public URL mode (default: loopback only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_address: Option<std::net::IpAddr>,
    /// How long a sign-in waits for the browser, in seconds (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_timeout_secs: Option<u64>,
    /// `inbound serve`: schedules, alerts, metrics.
    #[serde(default, skip_serializing_if = "serve::ServeSettings::is_default")]
    pub serve: serve::ServeSettings,
    /// Where `inbound proxy` listens for plain IMAP (default [`DEFAULT_PROXY_LISTEN`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_listen: Option<std::net::SocketAddr>,
    /// The proxy also serves implicit TLS (and STARTTLS) with its own certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_tls: Option<bool>,
    /// Where the proxy's implicit-TLS port listens (default: the plain address, port
    /// [`DEFAULT_PROXY_TLS_PORT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_tls_listen: Option<std::net::SocketAddr>,
    /// Most client connections the proxy holds at once (default
    /// [`DEFAULT_PROXY_MAX_CONNECTIONS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_max_connections: Option<u32>,
}

/// The proxy's plain IMAP address unless the settings say otherwise: loopback only.
pub const DEFAULT_PROXY_LISTEN: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1143);
/// The proxy's implicit-TLS port unless the settings say otherwise.
pub const DEFAULT_PROXY_TLS_PORT: u16 = 1993;
/// Enough for every fetcher of a large helpdesk at once; each idle session costs little.
pub const DEFAULT_PROXY_MAX_CONNECTIONS: u32 = 2048;

impl Settings {
    /// The proxy's plain address.
    pub fn proxy_listen(&self) -> std::net::SocketAddr {
        self.proxy_listen.unwrap_or(DEFAULT_PROXY_LISTEN)
    }

    /// The proxy's implicit-TLS address (the plain one's IP, port 1993, unless set).
    pub fn proxy_tls_listen(&self) -> std::net::SocketAddr {
        self.proxy_tls_listen
            .unwrap_or_else(|| std::net::SocketAddr::new(self.proxy_listen().ip(), DEFAULT_PROXY_TLS_PORT))
    }

    pub fn proxy_max_connections(&self) -> u32 {
        self.proxy_max_connections
            .unwrap_or(DEFAULT_PROXY_MAX_CONNECTIONS)
    }

    /// How long a sign-in waits for Microsoft's answer.
    pub fn consent_timeout(&self) -> std::time::Duration {
        self.consent_timeout_secs
            .map_or(DEFAULT_CONSENT_TIMEOUT, std::time::Duration::from_secs)
    }
}

/// An app registration in Entra ID.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AzureApp {
    pub name: String,
    pub client_id: String,
    pub tenant: String,
    /// The client secret **Value**. `None` for a public client (device code only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_expires: Option<Date>,
    #[serde(default = "default_authority")]
    pub authority: String,
    /// A certificate credential: token requests send a client assertion signed with its key
    /// instead of the secret (the key lives in the store's `certs/`, never in this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<AppCertificate>,
    /// A public client ("Mobile and desktop applications", redirect [`LOOPBACK_REDIRECT_URI`], *Allow
    /// public client flows*): code + PKCE and device code with no secret at all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public_client: bool,
    /// When an admin granted tenant-wide consent through inbound (v2 admin consent answered
    /// `admin_consent=True`); `None` is "unknown", not "refused".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_consent_at: Option<Timestamp>,
}

/// The public facts of an app's certificate; the private key is a file in the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppCertificate {
    /// File stem under the store's `certs/` (`<id>.key.pem`, `<id>.crt.pem`).
    pub id: String,
    /// SHA-1 thumbprint in hex, as the portal lists it under Certificates.
    pub thumbprint: String,
    /// Base64url SHA-1 and SHA-256 thumbprints: the `x5t` and `x5t#S256` assertion headers.
    pub x5t: String,
    pub x5t_s256: String,
    /// The certificate's own expiry (drives the health warnings).
    pub not_after: Timestamp,
    /// Where the key is, filled in when the store is read (not stored: the store may move).
    #[serde(skip)]
    pub key_file: Option<PathBuf>,
}

fn default_authority() -> String {
    DEFAULT_AUTHORITY.to_string()
}

impl AzureApp {
    fn endpoint(&self, leaf: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{leaf}",
            self.authority.trim_end_matches('/'),
            self.tenant
        )
    }
    pub fn authorize_url(&self) -> String {
        self.endpoint("authorize")
    }
    pub fn token_url(&self) -> String {
        self.endpoint("token")
    }
    pub fn devicecode_url(&self) -> String {
        self.endpoint("devicecode")
    }
    /// The v2 admin consent URL (microsoft-facts §8) for the delegated IMAP scopes, answered
    /// to `redirect_uri` with `admin_consent=True&tenant=…&state=…` or an error.
    pub fn admin_consent_v2_url(&self, redirect_uri: &str, state: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("scope", ADMIN_CONSENT_SCOPE)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .finish();
        format!(
            "{}/{}/v2.0/adminconsent?{query}",
            self.authority.trim_end_matches('/'),
            self.tenant
        )
    }
    /// The admin consent link to send an admin: the v2 form (microsoft-facts §8) without a
    /// `state`, whose answer (`admin_consent=True&tenant=…`) comes back to the registered
    /// redirect URI, so the address the admin's browser ends on can be pasted into `connect
    /// --admin-consent` and recorded. The simple form, which answers with a page only, for
    /// `common` (the v2 endpoint refuses it).
    pub fn admin_consent_link(&self, registered_redirect: &str) -> String {
        if self.tenant.eq_ignore_ascii_case("common") {
            return self.admin_consent_url();
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("scope", ADMIN_CONSENT_SCOPE)
            .append_pair("redirect_uri", registered_redirect)
            .finish();
        format!(
            "{}/{}/v2.0/adminconsent?{query}",
            self.authority.trim_end_matches('/'),
            self.tenant
        )
    }
    /// The simple admin consent URL for this tenant (microsoft-facts §8): the portal's
    /// "Grant admin consent" prompt; its answer is a page, nothing comes back.
    pub fn admin_consent_url(&self) -> String {
        format!(
            "{}/{}/adminconsent?client_id={}",
            self.authority.trim_end_matches('/'),
            self.tenant,
            self.client_id
        )
    }
    /// The national cloud of the authority; `None` for another identity provider.
    pub fn cloud(&self) -> Option<Cloud> {
        Cloud::of_authority(&self.authority)
    }
    /// `{authority}/{tenant}/v2.0/.well-known/openid-configuration` (microsoft-facts §1.1).
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            self.authority.trim_end_matches('/'),
            self.tenant
        )
    }
    /// `2c7f…6a58`: enough to recognise a client ID at a glance.
    pub fn short_client_id(&self) -> String {
        // By chars: a hand-edited store may hold anything, and a byte slice could panic.
        let chars: Vec<char> = self.client_id.chars().collect();
        if chars.len() > 8 {
            let head: String = chars[..4].iter().collect();
            let tail: String = chars[chars.len() - 4..].iter().collect();
            format!("{head}…{tail}")
        } else {
            self.client_id.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// Delegated: a person signs in once; refresh tokens keep it going.
    #[default]
    OAuth2,
    /// App-only (client credentials): no user, no refresh token; Exchange grants the app's
    /// service principal the mailbox (microsoft-facts §3.2).
    #[serde(rename = "oauth2_app")]
    OAuth2App,
    Basic,
}

impl AuthKind {
    /// The seed's label.
    pub fn label(self) -> &'static str {
        match self {
            AuthKind::OAuth2 => "OAuth2.0",
            AuthKind::OAuth2App => "OAuth2.0 app-only",
            AuthKind::Basic => "Basic",
        }
    }

    /// Both OAuth2 kinds: an Azure app, XOAUTH2 with a bearer token, TLS forced on.
    pub fn is_oauth(self) -> bool {
        matches!(self, AuthKind::OAuth2 | AuthKind::OAuth2App)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum ServerType {
    #[default]
    Imap,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub enum ServerState {
    #[default]
    Draft,
    Confirmed,
}

impl ServerState {
    /// The glyph of a state (colour is never the only signal).
    pub fn glyph(self) -> &'static str {
        match self {
            ServerState::Confirmed => "●",
            ServerState::Draft => "○",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ServerState::Draft => "Draft",
            ServerState::Confirmed => "Confirmed",
        }
    }
}

/// An incoming mail server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Server {
    /// Stable identity, random and never reused: the server's token file is named by it and
    /// carries it, so a rename keeps the tokens and a later server of the same name can never
    /// inherit them. Empty only in stores written before ids existed (filled on the next write).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub server_type: ServerType,
    pub auth: AuthKind,
    pub host: String,
    pub port: u16,
    /// Implicit TLS. Forced on for OAuth2 (a bearer token never crosses the wire in clear).
    #[serde(default = "yes")]
    pub ssl: bool,
    pub username: String,
    /// Shared mailbox: the delegate (with FullAccess on `username`) who signs in. XOAUTH2's
    /// `user=` stays the mailbox; the sign-in hint and the account check use this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_as: Option<String>,
    /// The Azure app (by name) for OAuth2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The password for Basic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Extra CA certificate (PEM) to trust, for private CAs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub state: ServerState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_test: Option<LastTest>,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
impl Server {
    /// A Draft server for unit tests: a fresh id, h.example.com:993 over TLS, u@example.com;
    /// app "App" unless `auth` is Basic.
    pub fn for_tests(name: &str, auth: AuthKind) -> Self {
        Self {
            id: new_server_id(),
            name: name.into(),
            server_type: Default::default(),
            auth,
            host: "h.example.com".into(),
            port: 993,
            ssl: true,
            username: "u@example.com".into(),
            sign_in_as: None,
            app: (auth != AuthKind::Basic).then(|| "App".into()),
            password: None,
            ca_file: None,
            state: ServerState::Draft,
            last_test: None,
        }
    }
}

impl Server {
    /// The account that signs in: "Sign in as" for a shared mailbox, else the mailbox itself.
    pub fn sign_in_account(&self) -> &str {
        self.sign_in_as.as_deref().unwrap_or(&self.username)
    }
}

/// A new server id: 128 random bits in hex, so ids are never reused, not even across stores.
pub fn new_server_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The outcome of the last Test & Confirm.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LastTest {
    pub at: Timestamp,
    pub ok: bool,
    /// Message count of INBOX on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<u32>,
    /// One line: the failed stage and the server's words, or the success summary.
    #[serde(deserialize_with = "crate::sanitize::serde_clean::string")]
    pub summary: String,
    /// A failure that another test alone cannot fix: what it needs first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<TestNeeds>,
}

/// What a failed test needs before another can pass.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TestNeeds {
    /// The token is another account's: sign in as the mailbox (or its delegate).
    SignIn,
    /// The account that signs in lacks FullAccess to the mailbox (an Exchange admin grants it).
    MailboxPermission,
    /// App-only: the Exchange side (service principal, mailbox permission).
    ExchangeSetup,
}

/// How a token set was minted; a device-code token is refreshed without the client secret.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    #[default]
    AuthorizationCode,
    DeviceCode,
    /// App-only: fetched again with the app's credentials, never refreshed.
    ClientCredentials,
}

/// Tokens of one server (kept in its own file).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenSet {
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// When the access token was issued (our clock).
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// When the current refresh token chain was last renewed (any successful grant).
    pub refreshed_at: Timestamp,
    /// When the user last consented interactively.
    pub consented_at: Timestamp,
    #[serde(default)]
    pub scope: String,
    /// The signed-in account from the id_token (`preferred_username` or `email`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::sanitize::serde_clean::option"
    )]
    pub account: Option<String>,
    #[serde(default)]
    pub flow: Flow,
    /// App-only: the `oid` claim, the Object ID of the app's service principal (enterprise
    /// application) in the tenant, which `New-ServicePrincipal -ObjectId` needs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::sanitize::serde_clean::option"
    )]
    pub principal_id: Option<String>,
}

/// Why a server's tokens can no longer be refreshed without the user.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Blocker {
    /// The refresh token was refused (`invalid_grant` family): sign in again.
    NeedsReconsent,
    /// The client secret expired (AADSTS7000222): create a new secret.
    SecretExpired,
    /// The client secret was refused (AADSTS7000215) or the app was not found.
    BadClient,
}

/// A recorded refresh failure.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordedError {
    pub at: Timestamp,
    #[serde(deserialize_with = "crate::sanitize::serde_clean::string")]
    pub message: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::sanitize::serde_clean::option"
    )]
    pub hint: Option<String>,
    /// Transient failures are retried; the others set a [`Blocker`].
    pub transient: bool,
}

/// The per-server token file (`tokens/<server id>.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenFile {
    pub schema: u32,
    /// The [`Server::id`] these tokens belong to; a file whose id is not the server's is
    /// never served.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_id: String,
    /// The server's name when last written (for people reading the file).
    pub server: String,
    /// The mailbox the tokens were minted for; served only while the server still names it.
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocker: Option<Blocker>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<RecordedError>,
    /// Consecutive transient failures, for back-off.
    #[serde(default)]
    pub failures: u32,
}

impl TokenFile {
    /// An empty token file bound to `server` (its id, name and mailbox).
    pub fn for_server(server: &Server) -> Self {
        Self {
            server_id: server.id.clone(),
            ..Self::new(&server.name, &server.username)
        }
    }

    pub fn new(server: &str, username: &str) -> Self {
        Self {
            schema: TOKENS_SCHEMA,
            server_id: String::new(),
            server: server.to_string(),
            username: username.to_string(),
            tokens: None,
            blocker: None,
            last_error: None,
            failures: 0,
        }
    }
}

/// The redirect URI to register under **Web** in the portal (no port: Entra ignores it for
/// `localhost`), or `<public>/microsoft_outlook/confirm` with a public base URL.
pub fn registered_redirect_uri(settings: &Settings) -> String {
    match &settings.public_url {
        Some(base) => format!("{}{REDIRECT_PATH}", base.trim_end_matches('/')),
        None => LOOPBACK_REDIRECT_URI.to_string(),
    }
}
