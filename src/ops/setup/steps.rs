//! What a setup script does, as one list of steps both renderers follow.

use crate::model::validate::{self, FieldError};
use crate::model::{REDIRECT_PATH, Settings, registered_redirect_uri};

/// Microsoft Graph's resource app ID (microsoft-facts §9).
pub const GRAPH_APP: &str = "00000003-0000-0000-c000-000000000000";
/// Office 365 Exchange Online's resource app ID (microsoft-facts §9).
pub const EXCHANGE_APP: &str = "00000002-0000-0ff1-ce00-000000000000";

/// Delegated permissions (scope IDs) on Microsoft Graph, with their names.
///
/// Microsoft's article "Authenticate an IMAP, POP or SMTP connection using OAuth"
/// (learn.microsoft.com/exchange/client-developer/legacy-protocols/…) has the portal add
/// IMAP.AccessAsUser.All under *Microsoft Graph → Delegated permissions*, then requests
/// `https://outlook.office.com/IMAP.AccessAsUser.All`, as inbound does. 652390e4-… is that
/// Graph permission: microsoft-facts §9 files it under Exchange Online, but Exchange Online's
/// own delegated IMAP.AccessAsUser.All has another ID (195adc35-… in a public listing of that
/// resource), so the ID is asked of Graph here. IDs from merill/graph-permissions-explorer
/// `permission/{IMAP.AccessAsUser.All,offline_access,openid,email,profile}.md`.
pub const DELEGATED: [(&str, &str); 5] = [
    ("IMAP.AccessAsUser.All", "652390e4-393a-48de-9484-05f9b1212954"),
    ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
    ("openid", "37f7f235-527c-4136-accd-4a02d197296e"),
    ("email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0"),
    ("profile", "14dad69e-099b-42c9-810b-d002981feec1"),
];

/// Exchange Online's application permission (app role) for IMAP without a user. The ID is
/// from the app-role table of Office 365 Exchange Online (00000002-…) as published in public
/// permission listings, and matches the manifests in BohrenAn/GitHub_PowerShellScripts
/// `ExchangeOnline/GraphAPI/IMAPPOP3_OAUTH2.ps1` (a report, not a Microsoft document).
pub const IMAP_ACCESS_AS_APP: (&str, &str) = ("IMAP.AccessAsApp", "5e5addcd-3e8d-4e90-baf5-964efab2b20a");

/// The redirect URI of a public client ("Mobile and desktop applications"): Entra accepts any
/// port on it but compares the path, so it is the listener's own path (what `connect` sends).
pub const PUBLIC_CLIENT_REDIRECT: &str = crate::model::LOOPBACK_REDIRECT_URI;
/// The display name of the client secret the script creates.
pub const SECRET_NAME: &str = "inbound";
/// Tries for a step that can fail while a new app replicates (4–30 s, microsoft-facts §9),
/// and the seconds between them.
pub const TRIES: u32 = 6;
pub const TRY_WAIT_SECS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Pwsh,
}

/// What the person asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOptions {
    pub shell: Shell,
    /// The app registration's display name; an app of that name is reused.
    pub app_name: String,
    /// How long the client secret lasts (1–24 months).
    pub secret_months: u8,
    /// A public client: no secret, "Mobile and desktop applications", public client flows.
    pub public_client: bool,
    /// The redirect URI registered under Web (absent for app-only and public clients).
    pub redirect_uri: Option<String>,
    /// App-only (client credentials) with these mailboxes granted.
    pub app_only: bool,
    pub mailboxes: Vec<String>,
}

/// The options as given on the command line, before checking.
#[derive(Debug, Clone, Default)]
pub struct ScriptRequest {
    pub app_name: Option<String>,
    pub secret_months: Option<u8>,
    pub public_client: bool,
    pub public_url: Option<String>,
    pub app_only: bool,
    pub mailboxes: Vec<String>,
}

pub const DEFAULT_APP_NAME: &str = "inbound";
/// Microsoft recommends secrets shorter than 12 months; inbound warns before expiry anyway.
pub const DEFAULT_SECRET_MONTHS: u8 = 12;

impl ScriptOptions {
    /// Checks a request; all problems at once.
    pub fn new(shell: Shell, r: &ScriptRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let app_name = r
            .app_name
            .as_deref()
            .map(str::trim)
            .unwrap_or(DEFAULT_APP_NAME)
            .to_string();
        if let Err(e) = app_name_ok(&app_name) {
            errors.push(e);
        }
        let secret_months = r.secret_months.unwrap_or(DEFAULT_SECRET_MONTHS);
        if !(1..=validate::MAX_SECRET_MONTHS.unsigned_abs()).contains(&secret_months) {
            errors.push(FieldError::new(
                crate::model::validate::Field::SecretMonths,
                "a client secret lasts 1 to 24 months",
            ));
        }
        if r.public_client && r.app_only {
            errors.push(FieldError::new(
                crate::model::validate::Field::PublicClient,
                "app-only access needs a client secret, which a public client does not have: choose one of them",
            ));
        }
        if r.public_client && r.secret_months.is_some() {
            errors.push(FieldError::new(
                crate::model::validate::Field::SecretMonths,
                "a public client has no secret, so no secret lifetime",
            ));
        }
        if r.app_only && r.mailboxes.is_empty() {
            errors.push(FieldError::new(
                crate::model::validate::Field::Mailbox,
                "app-only access is granted per mailbox: name at least one",
            ));
        }
        if !r.app_only && !r.mailboxes.is_empty() {
            errors.push(FieldError::new(
                crate::model::validate::Field::Mailbox,
                "mailboxes are granted to app-only access only: choose app-only, or name none",
            ));
        }
        let mut mailboxes = Vec::new();
        for m in &r.mailboxes {
            match mailbox_ok(m) {
                Ok(m) if !mailboxes.contains(&m) => mailboxes.push(m),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        let redirect_uri = match &r.public_url {
            Some(_) if r.public_client || r.app_only => {
                errors.push(FieldError::new(
                    crate::model::validate::Field::PublicUrl,
                    "a public URL sets the Web redirect, which public clients and app-only apps do not use",
                ));
                None
            }
            Some(url) => match validate::public_url(url) {
                Ok(base) => Some(format!("{base}{REDIRECT_PATH}")),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
            None if r.public_client || r.app_only => None,
            None => Some(registered_redirect_uri(&Settings::default())),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            shell,
            app_name,
            secret_months,
            public_client: r.public_client,
            redirect_uri,
            app_only: r.app_only,
            mailboxes,
        })
    }
}

/// Names go into both shells' single quotes and an OData filter, so only plain characters.
fn app_name_ok(name: &str) -> Result<(), FieldError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || " ._()-".contains(c);
    if name.is_empty() || name.len() > 120 || !name.chars().all(plain) {
        return Err(FieldError::new(
            crate::model::validate::Field::AppName,
            "use 1 to 120 letters, digits, spaces and . _ ( ) -",
        ));
    }
    Ok(())
}

fn mailbox_ok(value: &str) -> Result<String, FieldError> {
    let m = validate::username(value)
        .map_err(|e| FieldError::new(crate::model::validate::Field::Mailbox, e.message))?;
    if !m
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._+-@".contains(c))
    {
        return Err(FieldError::new(
            crate::model::validate::Field::Mailbox,
            format!("\"{m}\": give the mailbox's plain address (letters, digits and . _ + - @)"),
        ));
    }
    Ok(m)
}

/// One thing the script does, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The directory Cloud Shell is signed in to.
    Tenant,
    /// Reuse the app of the same name, or create it (platform, redirect URI, audience).
    App,
    /// Ask for the API permissions.
    Permissions,
    /// The app's service principal (enterprise app) in this tenant.
    ServicePrincipal,
    /// Grant admin consent, or print the link for an admin.
    AdminConsent,
    /// A client secret (not for a public client).
    Secret,
    /// Exchange Online's service principal and mailbox permissions (app-only).
    Exchange,
    /// Print the setup code.
    Code,
}

impl Step {
    /// The comment both scripts put above the step (their structure tests compare these).
    pub fn title(self, o: &ScriptOptions) -> String {
        match self {
            Step::Tenant => "tenant: the directory you are signed in to".into(),
            Step::App => format!(
                "app registration: reuse the one named '{}', or create it",
                o.app_name
            ),
            Step::Permissions if o.app_only => {
                "API permission: Exchange Online IMAP.AccessAsApp (application)".into()
            }
            Step::Permissions => {
                "API permissions: IMAP.AccessAsUser.All offline_access openid email profile (delegated)"
                    .into()
            }
            Step::ServicePrincipal => {
                "service principal (the enterprise app); retried while the app replicates".into()
            }
            Step::AdminConsent => "admin consent for the tenant, or the link to send an admin".into(),
            Step::Secret => format!(
                "client secret, valid {} months (never shown except in the code)",
                o.secret_months
            ),
            Step::Exchange => "Exchange Online: service principal and FullAccess to each mailbox".into(),
            Step::Code => "the setup code: paste it into inbound".into(),
        }
    }
}

/// The steps for `o`, in order.
pub fn steps(o: &ScriptOptions) -> Vec<Step> {
    let mut s = vec![
        Step::Tenant,
        Step::App,
        Step::Permissions,
        Step::ServicePrincipal,
        Step::AdminConsent,
    ];
    if !o.public_client {
        s.push(Step::Secret);
    }
    if o.app_only {
        s.push(Step::Exchange);
    }
    s.push(Step::Code);
    s
}

/// The admin consent link to send an admin, with the script's own variables for tenant and
/// client ID: the one inbound prints ([`crate::model::AzureApp::admin_consent_link`]),
/// answered to the redirect URI the script registers, so the address the admin's browser
/// ends on (`admin_consent=True`) can be pasted into inbound and is recorded. An app-only
/// app registers no redirect URI: the simple link, whose answer is a page (the first token
/// proves the role). Every value added here is percent-encoded, so nothing in it is special
/// inside either shell's double quotes.
pub fn consent_link(o: &ScriptOptions, tenant: &str, client: &str) -> String {
    let redirect = match &o.redirect_uri {
        Some(r) => r.as_str(),
        None if o.public_client => PUBLIC_CLIENT_REDIRECT,
        None => return format!("https://login.microsoftonline.com/{tenant}/adminconsent?client_id={client}"),
    };
    let rest = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("scope", crate::model::ADMIN_CONSENT_SCOPE)
        .append_pair("redirect_uri", redirect)
        .finish();
    format!("https://login.microsoftonline.com/{tenant}/v2.0/adminconsent?client_id={client}&{rest}")
}

/// What to do with the admin consent link's answer (after the link, in the script's words).
pub fn consent_answer(o: &ScriptOptions) -> &'static str {
    if o.redirect_uri.is_none() && !o.public_client {
        " (then inbound test NAME shows whether the permission was granted)"
    } else {
        " (their browser then ends on an address with admin_consent=True: paste it into inbound at the sign-in, inbound connect NAME or the app's sign-in step, to record the grant)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> ScriptRequest {
        ScriptRequest::default()
    }

    #[test]
    fn defaults() {
        let o = ScriptOptions::new(Shell::Bash, &req()).unwrap();
        assert_eq!(o.app_name, "inbound");
        assert_eq!(o.secret_months, 12);
        assert_eq!(
            o.redirect_uri.as_deref(),
            Some("http://localhost/microsoft_outlook/confirm")
        );
        assert_eq!(
            steps(&o),
            [
                Step::Tenant,
                Step::App,
                Step::Permissions,
                Step::ServicePrincipal,
                Step::AdminConsent,
                Step::Secret,
                Step::Code
            ]
        );
    }

    #[test]
    fn public_url_public_client_and_app_only() {
        let o = ScriptOptions::new(
            Shell::Bash,
            &ScriptRequest {
                public_url: Some("https://demo.tasksuite.com/".into()),
                ..req()
            },
        )
        .unwrap();
        assert_eq!(
            o.redirect_uri.as_deref(),
            Some("https://demo.tasksuite.com/microsoft_outlook/confirm")
        );
        let p = ScriptOptions::new(
            Shell::Bash,
            &ScriptRequest {
                public_client: true,
                ..req()
            },
        )
        .unwrap();
        assert!(!steps(&p).contains(&Step::Secret));
        let a = ScriptOptions::new(
            Shell::Pwsh,
            &ScriptRequest {
                app_only: true,
                mailboxes: vec!["a@contoso.com".into(), "a@contoso.com".into()],
                ..req()
            },
        )
        .unwrap();
        assert_eq!(a.mailboxes, ["a@contoso.com"]);
        assert!(steps(&a).contains(&Step::Exchange));
    }

    #[test]
    fn bad_requests_say_all_that_is_wrong() {
        let e = ScriptOptions::new(
            Shell::Bash,
            &ScriptRequest {
                app_name: Some("it's".into()),
                secret_months: Some(25),
                public_client: true,
                app_only: true,
                public_url: Some("http://x.example".into()),
                mailboxes: vec!["o'brien@contoso.com".into()],
            },
        )
        .unwrap_err();
        let fields: Vec<_> = e.iter().map(|f| f.field.label()).collect();
        for f in [
            "App name",
            "Secret months",
            "Public client",
            "Mailbox",
            "Public URL",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let e = ScriptOptions::new(
            Shell::Bash,
            &ScriptRequest {
                mailboxes: vec!["a@contoso.com".into()],
                ..req()
            },
        )
        .unwrap_err();
        assert_eq!(e[0].field, crate::model::validate::Field::Mailbox);
        assert!(e[0].message.contains("app-only"));
        let e = ScriptOptions::new(
            Shell::Bash,
            &ScriptRequest {
                app_only: true,
                ..req()
            },
        )
        .unwrap_err();
        assert_eq!(e[0].field, crate::model::validate::Field::Mailbox);
        assert!(e[0].message.contains("per mailbox"));
    }
}
