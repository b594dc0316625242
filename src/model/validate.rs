//! Input validation before any network call (microsoft-facts "Input validation").
//! Each check names the field and says how to fix it.

use std::net::IpAddr;
use thiserror::Error;

/// The inputs the core checks. An error names one of these, never its words: the CLI maps it to
/// its flag, the app to its form field, and both show [`Field::label`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Username,
    SignInAs,
    Host,
    Port,
    AzureApp,
    AppName,
    ClientId,
    Tenant,
    Secret,
    SecretExpires,
    SecretMonths,
    Authority,
    Password,
    CaFile,
    Mailbox,
    SetupCode,
    Certificate,
    PublicClient,
    RedirectUri,
    ListenPort,
    PublicUrl,
    ListenAddress,
    Timeout,
    Target,
    ProxyListen,
    ProxyTls,
    ProxyMaxConnections,
    ServeProxy,
    Metrics,
    NotifyCommand,
    NotifyUrl,
    TestEvery,
}

impl Field {
    /// The seed's label of the field (what the form and messages call it).
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Username => "Username",
            Field::SignInAs => "Sign in as",
            Field::Host => "Server Name",
            Field::Port => "Port",
            Field::AzureApp => "Azure app",
            Field::AppName => "App name",
            Field::ClientId => "Azure Client ID",
            Field::Tenant => "Tenant",
            Field::Secret => "Secret",
            Field::SecretExpires => "Secret expires",
            Field::SecretMonths => "Secret months",
            Field::Authority => "Authority",
            Field::Password => "Password",
            Field::CaFile => "CA file",
            Field::Mailbox => "Mailbox",
            Field::SetupCode => "Setup code",
            Field::Certificate => "Certificate",
            Field::PublicClient => "Public client",
            Field::RedirectUri => "Redirect URI",
            Field::ListenPort => "Listen port",
            Field::PublicUrl => "Public URL",
            Field::ListenAddress => "Listen address",
            Field::Timeout => "Sign-in timeout",
            Field::ProxyListen => "Proxy address",
            Field::ProxyTls => "Proxy TLS",
            Field::ProxyMaxConnections => "Proxy connections",
            Field::ServeProxy => "Proxy in serve",
            Field::Metrics => "Metrics address",
            Field::NotifyCommand => "Notify command",
            Field::NotifyUrl => "Notify URL",
            Field::TestEvery => "Test every",
            Field::Target => "server or app",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl serde::Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

/// A field that failed validation, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: Field,
    pub message: String,
    /// The fields to give instead, when the cure is another field than this one (a setup
    /// code typed where a path goes; a new app's client ID and tenant). Each face names them
    /// its own way: the CLI by flag, the app by field.
    pub instead: Vec<Field>,
}

impl FieldError {
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
            instead: Vec::new(),
        }
    }

    /// The same error, cured by giving `fields` instead.
    pub fn instead(mut self, fields: &[Field]) -> Self {
        self.instead = fields.to_vec();
        self
    }
}

/// Refuses a value holding a control character (C0, DEL, C1: ESC among them) or an invisible
/// bidi or zero-width character (U+202E and its kin): no field of ours needs one, and on a
/// terminal they rewrite or reorder what is shown. Refused, never silently removed or
/// percent-encoded, so what is stored is what was typed.
pub fn plain_text(field: Field, value: &str) -> Result<(), FieldError> {
    not_a_setup_code(field, value)?;
    match value.chars().find(|c| crate::sanitize::is_hostile(*c)) {
        None => Ok(()),
        Some(c) => Err(FieldError::new(
            field,
            format!(
                "remove the control or invisible character (U+{:04X}: an escape code, a line break or a bidirectional mark); type or copy the value again",
                u32::from(c)
            ),
        )),
    }
}

/// The prefix every setup code starts with (`inbound-setup:1:…`).
pub const SETUP_CODE_PREFIX: &str = "inbound-setup:";

/// True when `value` may be a setup code (or most of one): it names the prefix, or it is a
/// long run of base64url with no path separator. Such a value holds a client secret, so it
/// is never quoted back.
pub fn looks_like_setup_code(value: &str) -> bool {
    let v = value.trim();
    v.to_ascii_lowercase().contains(SETUP_CODE_PREFIX)
        || (v.len() >= 80
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':')))
}

/// Refuses a setup code given where a path or another value was expected, without showing
/// it, and says how to pass it.
pub fn not_a_setup_code(field: Field, value: &str) -> Result<(), FieldError> {
    if looks_like_setup_code(value) {
        return Err(FieldError::new(
            field,
            "this looks like a setup code, which holds a secret, so it is not shown. Give it where a setup code is asked for: on the command line as the setup code (pasted when asked, piped in, or in a file); in the app, choose \"Set it up with a script in Azure Cloud Shell\" and paste it there",
        )
        .instead(&[Field::SetupCode]));
    }
    Ok(())
}

/// A URL we print into scripts and send to Microsoft: [`plain_text`], and no quote of any
/// kind (the five PowerShell takes as a single quote, `"`, a backtick), backslash, angle
/// bracket or white space. A URL never needs one unencoded; refused rather than encoded.
pub fn url_text(field: Field, value: &str) -> Result<(), FieldError> {
    plain_text(field, value)?;
    let odd = |c: char| {
        crate::model::quote::is_powershell_quote(c)
            || matches!(
                c,
                '"' | '`' | '\\' | '<' | '>' | '\u{201C}' | '\u{201D}' | '\u{201E}'
            )
            || c.is_whitespace()
    };
    match value.chars().find(|c| odd(*c)) {
        None => Ok(()),
        Some(c) => Err(FieldError::new(
            field,
            format!(
                "a URL has no quotes, backslashes, angle brackets or spaces (this one has U+{:04X}); give the address as the browser shows it",
                u32::from(c)
            ),
        )),
    }
}

/// A value quoted back in a message: see [`crate::sanitize::echo`].
fn echo(value: &str) -> String {
    crate::sanitize::echo(value)
}

/// True for the 8-4-4-4-12 hex shape of a GUID.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

pub fn server_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new(
            Field::Name,
            "enter a name for this server, e.g. \"Support inbox\"",
        ));
    }
    if name.chars().count() > 64 {
        return Err(FieldError::new(Field::Name, "use at most 64 characters"));
    }
    plain_text(Field::Name, name)?;
    if name.starts_with('-') {
        return Err(FieldError::new(
            Field::Name,
            "a name may not start with '-' (it would look like an option)",
        ));
    }
    Ok(name.to_string())
}

pub fn client_id(value: &str) -> Result<String, FieldError> {
    plain_text(Field::ClientId, value.trim())?;
    let v = value
        .trim()
        .trim_matches(|c| c == '{' || c == '}')
        .to_ascii_lowercase();
    if v.is_empty() {
        return Err(FieldError::new(
            Field::ClientId,
            "paste the \"Application (client) ID\" from the app's Overview page",
        ));
    }
    if !is_guid(&v) {
        return Err(FieldError::new(
            Field::ClientId,
            format!(
                "\"{}\" is not a GUID; copy \"Application (client) ID\" (like 2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58) from the app's Overview page",
                echo(&v)
            ),
        ));
    }
    Ok(v)
}

/// Accepts a tenant GUID, a verified domain, `organizations` or `common`; strips what people
/// paste around it (`https://login.microsoftonline.com/<t>/oauth2/v2.0/authorize`, braces).
pub fn tenant(value: &str) -> Result<String, FieldError> {
    const FIELD: crate::model::validate::Field = Field::Tenant;
    plain_text(FIELD, value.trim())?;
    let mut v = value.trim().trim_matches(|c| c == '{' || c == '}').to_string();
    if let Some(rest) = v.split_once("://").map(|(_, r)| r.to_string()) {
        // A pasted URL: the tenant is the first path segment after the host.
        let mut segs = rest.split('/').skip(1).filter(|s| !s.is_empty());
        v = segs.next().unwrap_or("").to_string();
    } else if let Some((first, _)) = v.split_once('/') {
        v = first.to_string();
    }
    let v = v.to_ascii_lowercase();
    if v.is_empty() {
        return Err(FieldError::new(
            FIELD,
            "paste the \"Directory (tenant) ID\" from the app's Overview page, or your domain (contoso.com)",
        ));
    }
    if v == "consumers" {
        return Err(FieldError::new(
            FIELD,
            "\"consumers\" is for personal accounts, which have no Exchange Online IMAP for apps; use your tenant ID or domain",
        ));
    }
    if v == "organizations" || v == "common" || is_guid(&v) {
        return Ok(v);
    }
    if v.contains('{') || v.contains('<') || v == "tenant" || v == "tenant-id" {
        return Err(FieldError::new(
            FIELD,
            "replace the placeholder with your Directory (tenant) ID",
        ));
    }
    if is_dns_name(&v) && v.contains('.') {
        return Ok(v);
    }
    Err(FieldError::new(
        FIELD,
        format!(
            "\"{}\" is neither a tenant ID (GUID) nor a domain (contoso.onmicrosoft.com); Microsoft would answer AADSTS900023",
            echo(&v)
        ),
    ))
}

fn is_dns_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The client secret **Value**. A GUID is almost surely the Secret ID (AADSTS7000215).
/// Longest client secret Value or password we accept (Entra's Values are 40 characters).
pub const MAX_SECRET: usize = 1024;
/// RFC 5321 §4.5.3.1: a path holds at most 256 octets with its angle brackets, so 254 for
/// the address; the local part at most 64.
pub const MAX_ADDRESS: usize = 254;
pub const MAX_LOCAL_PART: usize = 64;
/// Entra refuses redirect URIs longer than 256 characters (microsoft-facts §2).
pub const MAX_REDIRECT_URI: usize = 256;
pub const MAX_URL: usize = 2048;
pub const MAX_PATH: usize = 4096;

pub fn secret(value: &str) -> Result<String, FieldError> {
    const FIELD: crate::model::validate::Field = Field::Secret;
    let v = value.trim();
    not_a_setup_code(FIELD, v)?;
    if v.len() > MAX_SECRET {
        return Err(FieldError::new(
            FIELD,
            format!(
                "that is {} characters; a secret Value is about 40. Copy just the Value",
                v.len()
            ),
        ));
    }
    if v.is_empty() {
        return Err(FieldError::new(
            FIELD,
            "paste the client secret's Value (Certificates & secrets → Client secrets → Value column)",
        ));
    }
    if is_guid(v) {
        return Err(FieldError::new(
            FIELD,
            "this looks like the Secret ID; paste the Value (shown only right after the secret is created; if lost, create a new secret)",
        ));
    }
    if v.chars()
        .any(|c| c.is_whitespace() || crate::sanitize::is_hostile(c))
    {
        return Err(FieldError::new(
            FIELD,
            "the secret Value has no spaces, line breaks or invisible characters; copy it again",
        ));
    }
    Ok(v.to_string())
}

pub fn username(value: &str) -> Result<String, FieldError> {
    const FIELD: crate::model::validate::Field = Field::Username;
    let v = value.trim();
    plain_text(FIELD, v)?;
    if v.len() > MAX_ADDRESS || v.split_once('@').is_some_and(|(l, _)| l.len() > MAX_LOCAL_PART) {
        return Err(FieldError::new(
            FIELD,
            format!(
                "a mail address has at most {MAX_ADDRESS} characters, {MAX_LOCAL_PART} before the @ (RFC 5321)"
            ),
        ));
    }
    let valid = v.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && is_dns_name(&domain.to_ascii_lowercase())
    }) && !v.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(FieldError::new(
            FIELD,
            "enter the mailbox address, e.g. support@contoso.com",
        ));
    }
    if let Some((local, _)) = v.split_once('@')
        && !is_dot_string(local)
    {
        return Err(FieldError::new(
            FIELD,
            "before the @ a mail address has letters, digits, dots (not first, last or two in a row) and ! # $ % & ' * + - / = ? ^ _ ` { | } ~ only (RFC 5321); type a typographic quote like \u{2019} as '",
        ));
    }
    Ok(v.to_string())
}

/// RFC 5321's Dot-string: atoms of `atext` joined by single dots. (A quoted local part is
/// legal too, but no Exchange Online mailbox has one.)
fn is_dot_string(local: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

pub fn host(value: &str) -> Result<String, FieldError> {
    const FIELD: crate::model::validate::Field = Field::Host;
    let v = value.trim();
    plain_text(FIELD, v)?;
    if v.len() > MAX_URL {
        return Err(FieldError::new(FIELD, "a host name has at most 253 characters"));
    }
    let v = v.split_once("://").map_or(v, |(_, r)| r).trim_end_matches('/');
    if v.parse::<IpAddr>().is_ok() || is_dns_name(&v.to_ascii_lowercase()) {
        return Ok(v.to_ascii_lowercase());
    }
    Err(FieldError::new(
        FIELD,
        format!(
            "\"{}\" is not a host name; for Microsoft 365 use outlook.office365.com",
            echo(v)
        ),
    ))
}

pub fn port(value: &str) -> Result<u16, FieldError> {
    match value.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(FieldError::new(
            Field::Port,
            "enter a port from 1 to 65535 (IMAP over SSL/TLS is 993)",
        )),
    }
}

/// `https://…`, or `http://` only for a loopback host (local test identity providers).
pub fn authority(value: &str) -> Result<String, FieldError> {
    const FIELD: crate::model::validate::Field = Field::Authority;
    let v = value.trim().trim_end_matches('/');
    url_text(FIELD, v)?;
    if v.len() > MAX_URL {
        return Err(FieldError::new(
            FIELD,
            format!("use at most {MAX_URL} characters"),
        ));
    }
    let url = url::Url::parse(v)
        .map_err(|e| FieldError::new(FIELD, format!("\"{}\" is not a URL ({e})", echo(v))))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(v.to_string()),
        "http" if loopback => Ok(v.to_string()),
        _ => Err(FieldError::new(
            FIELD,
            "use an https:// authority (http:// is allowed only on loopback addresses), e.g. https://login.microsoftonline.com",
        )),
    }
}

/// A Basic password: present, bounded.
pub fn password(value: &str) -> Result<String, FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(Field::Password, "enter the mailbox password"));
    }
    if value.len() > MAX_SECRET {
        return Err(FieldError::new(
            Field::Password,
            format!("use at most {MAX_SECRET} characters"),
        ));
    }
    Ok(value.to_string())
}

/// A CA file: a readable regular file, with a path of sane length.
pub fn ca_file(path: &std::path::Path) -> Result<std::path::PathBuf, FieldError> {
    if path.as_os_str().len() > MAX_PATH {
        return Err(FieldError::new(
            Field::CaFile,
            format!("use a path of at most {MAX_PATH} bytes"),
        ));
    }
    plain_text(Field::CaFile, &path.to_string_lossy())?;
    if !path.is_file() {
        return Err(FieldError::new(
            Field::CaFile,
            format!("{} is not a readable file", echo(&path.to_string_lossy())),
        ));
    }
    Ok(path.to_path_buf())
}

/// `YYYY-MM-DD`.
pub fn date(field: Field, value: &str) -> Result<jiff::civil::Date, FieldError> {
    value
        .trim()
        .parse::<jiff::civil::Date>()
        .map_err(|_| FieldError::new(field, "enter the date as YYYY-MM-DD, e.g. 2027-05-01"))
}

/// Entra client secrets last at most 24 months (microsoft-facts §9).
pub const MAX_SECRET_MONTHS: i8 = 24;

/// A client secret's expiry (`YYYY-MM-DD`) as of `today`: a date already past means the secret
/// no longer works, and one more than [`MAX_SECRET_MONTHS`] ahead cannot be a real expiry
/// (usually a typo in the year).
pub fn secret_expiry(value: &str, today: jiff::civil::Date) -> Result<jiff::civil::Date, FieldError> {
    const FIELD: crate::model::validate::Field = Field::SecretExpires;
    let d = date(FIELD, value)?;
    if d < today {
        return Err(FieldError::new(
            FIELD,
            format!(
                "{d} has passed, so the secret has expired; create a new client secret (Certificates & secrets) and give its Expires date"
            ),
        ));
    }
    let limit = today
        .checked_add(jiff::Span::new().months(MAX_SECRET_MONTHS))
        .unwrap_or(jiff::civil::Date::MAX);
    if d > limit {
        return Err(FieldError::new(
            FIELD,
            format!(
                "{d} is more than {MAX_SECRET_MONTHS} months ahead, longer than a client secret can last; copy the Expires date the portal shows"
            ),
        ));
    }
    Ok(d)
}

/// [`secret_expiry`] as of today's local date.
pub fn secret_expiry_now(value: &str) -> Result<jiff::civil::Date, FieldError> {
    secret_expiry(value, jiff::Zoned::now().date())
}

/// A public base URL for the redirect (https, no path beyond `/`).
pub fn public_url(value: &str) -> Result<String, FieldError> {
    const FIELD: crate::model::validate::Field = Field::PublicUrl;
    let v = value.trim().trim_end_matches('/');
    url_text(FIELD, v)?;
    if v.len() + crate::model::REDIRECT_PATH.len() > MAX_REDIRECT_URI {
        return Err(FieldError::new(
            FIELD,
            format!(
                "with {} added it would exceed the {MAX_REDIRECT_URI} characters Entra allows in a redirect URI",
                crate::model::REDIRECT_PATH
            ),
        ));
    }
    let url = url::Url::parse(v)
        .map_err(|e| FieldError::new(FIELD, format!("\"{}\" is not a URL ({e})", echo(v))))?;
    if url.scheme() != "https" {
        return Err(FieldError::new(
            FIELD,
            "Microsoft accepts only https:// redirect URIs for hosts other than localhost",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(FieldError::new(
            FIELD,
            "give only the base, e.g. https://demo.tasksuite.com",
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_shape() {
        assert!(is_guid("2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58"));
        assert!(!is_guid("2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a5"));
        assert!(!is_guid("zc7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58"));
    }

    #[test]
    fn client_id_is_normalised_and_checked() {
        assert_eq!(
            client_id(" {2C7F5E1A-84B3-4D69-A0E2-9B1C3D7F6A58} ").unwrap(),
            "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58"
        );
        let e = client_id("my-app").unwrap_err();
        assert_eq!(e.field, Field::ClientId);
        assert!(e.message.contains("not a GUID"));
    }

    #[test]
    fn tenant_strips_pasted_urls() {
        assert_eq!(
            tenant("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize")
                .unwrap(),
            "contoso.onmicrosoft.com"
        );
        assert_eq!(
            tenant("72f988bf-86f1-41af-91ab-2d7cd011db47/").unwrap(),
            "72f988bf-86f1-41af-91ab-2d7cd011db47"
        );
        assert_eq!(tenant("Organizations").unwrap(), "organizations");
        assert_eq!(tenant("common").unwrap(), "common");
        assert!(tenant("{tenant}").is_err());
        assert!(tenant("consumers").unwrap_err().message.contains("personal"));
        assert!(
            tenant("not a tenant")
                .unwrap_err()
                .message
                .contains("AADSTS900023")
        );
        assert!(tenant("").is_err());
    }

    #[test]
    fn secret_id_is_refused() {
        let e = secret("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap_err();
        assert!(e.message.contains("Secret ID; paste the Value"));
        assert_eq!(
            secret(" abc8Q~defghijklmnopqrstuvwxyz0123456789 ").unwrap(),
            "abc8Q~defghijklmnopqrstuvwxyz0123456789"
        );
        assert!(secret("a b").is_err());
    }

    #[test]
    fn lengths_are_bounded() {
        let long_local = format!("{}@contoso.com", "a".repeat(65));
        assert!(username(&long_local).is_err());
        assert!(username(&format!("a@{}.com", "b".repeat(70_000))).is_err());
        assert!(username(&format!("{}@contoso.com", "a".repeat(64))).is_ok());
        assert!(host(&"h".repeat(70_000)).is_err());
        assert!(secret(&"s".repeat(MAX_SECRET + 1)).is_err());
        assert!(password(&"p".repeat(MAX_SECRET + 1)).is_err());
        assert!(authority(&format!("https://{}.com", "a".repeat(MAX_URL))).is_err());
        assert!(public_url(&format!("https://{}.com", "a".repeat(240))).is_err());
        assert!(server_name(&"n".repeat(65)).is_err());
        assert!(ca_file(std::path::Path::new(&"/x".repeat(3000))).is_err());
    }

    #[test]
    fn username_host_port() {
        assert!(username("support@contoso.com").is_ok());
        assert!(username("support").is_err());
        assert!(username("a@b").is_err());
        assert!(username("o'brien@contoso.com").is_ok());
        assert!(username("o\u{2019}brien@contoso.com").is_err());
        assert!(username(".a@contoso.com").is_err());
        assert!(username("a..b@contoso.com").is_err());
        assert!(username("a\u{202E}b@contoso.com").is_err());
        assert_eq!(
            host("imaps://Outlook.Office365.com/").unwrap(),
            "outlook.office365.com"
        );
        assert_eq!(host("127.0.0.1").unwrap(), "127.0.0.1");
        assert!(host("bad host").is_err());
        assert_eq!(port("993").unwrap(), 993);
        assert!(port("0").is_err());
        assert!(port("99999").is_err());
    }

    #[test]
    fn authority_requires_https_except_loopback() {
        assert!(authority("https://login.microsoftonline.com/").is_ok());
        assert!(authority("http://127.0.0.1:9999").is_ok());
        assert!(authority("http://localhost:9999").is_ok());
        assert!(authority("http://[::1]:9999").is_ok());
        assert!(authority("http://evil.example.com").is_err());
        assert!(authority("nonsense").is_err());
    }

    #[test]
    fn secret_expiry_is_within_24_months() {
        let today: jiff::civil::Date = "2026-12-01".parse().unwrap();
        assert!(secret_expiry("2026-12-01", today).is_ok());
        assert!(secret_expiry("2028-12-01", today).is_ok());
        let past = secret_expiry("2020-01-01", today).unwrap_err();
        assert_eq!(past.field, Field::SecretExpires);
        assert!(past.message.contains("has passed"), "{past}");
        let far = secret_expiry("2028-12-02", today).unwrap_err();
        assert!(far.message.contains("more than 24 months"), "{far}");
        assert!(secret_expiry("2099-01-01", today).is_err());
        assert!(
            secret_expiry("01/05/2027", today)
                .unwrap_err()
                .message
                .contains("YYYY-MM-DD")
        );
    }

    #[test]
    fn dates_and_public_url() {
        assert_eq!(
            date(Field::SecretExpires, "2027-05-01").unwrap().to_string(),
            "2027-05-01"
        );
        assert!(date(Field::SecretExpires, "05/01/2027").is_err());
        assert_eq!(
            public_url("https://demo.tasksuite.com/").unwrap(),
            "https://demo.tasksuite.com"
        );
        assert!(public_url("http://demo.tasksuite.com").is_err());
    }
}
