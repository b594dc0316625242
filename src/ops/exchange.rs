//! The Exchange side of app-only access, as data: the Exchange Online PowerShell lines an
//! admin runs (with the real values) and why each is needed (microsoft-facts §3.2 steps 3–4).
//! The TUI shows and copies them; the CLI prints them (`inbound exchange-setup NAME`) and the
//! diagnosis of a refused app-only login quotes them.

use super::{Error, Result};
use crate::model::validate;
use crate::model::{AuthKind, AzureApp, Config, Server, ServerState};
use crate::services::oauth::app_only::IMAP_APP_ROLE;
use crate::store::Store;
use serde::Serialize;

use crate::model::rejection::Rejection;
pub use crate::model::rejection::{PRINCIPAL_PLACEHOLDER, REPLICATION_NOTE, RejectedCause};

/// One line to run, and in one line why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeCommand {
    pub line: String,
    pub why: String,
}

/// What a server's app-only setup needs on the Exchange side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeSetup {
    pub server: String,
    pub mailbox: String,
    pub app: String,
    pub client_id: String,
    pub tenant: String,
    /// The enterprise application's Object ID, known once a token was fetched.
    pub principal_id: Option<String>,
    /// True when another server of this app already passed Test & Confirm: the service
    /// principal exists in Exchange, so this mailbox needs only its permission line.
    pub only_mailbox_permission: bool,
    /// The lines to run, in order. While `principal_id` is unknown they hold
    /// [`PRINCIPAL_PLACEHOLDER`]; [`principal_where`] says where to find it.
    pub commands: Vec<ExchangeCommand>,
}

/// PowerShell single-quoted string: see [`crate::model::quote::powershell`].
fn ps(s: &str) -> String {
    crate::model::quote::powershell(s)
}

/// The values that go into the lines, each checked where it comes from: IDs are GUIDs, the
/// tenant a GUID or domain, the mailbox an address. A hand-edited store or token file (or an
/// odd token) cannot put anything else into a line an admin pastes into PowerShell.
fn check_values(server: &Server, app: &AzureApp, principal_id: Option<&str>) -> Result<()> {
    let unsafe_value = |what: &'static str, message: String| Error::UnsafeValue {
        server: server.name.clone(),
        what,
        message,
    };
    // Stored as the checks leave them (not a pasted URL or braces the check would strip).
    let as_checked = |stored: &str, checked: String| {
        if checked.eq_ignore_ascii_case(stored) {
            Ok(())
        } else {
            Err("it is not stored as checked; set it again (edit the app)".to_string())
        }
    };
    validate::client_id(&app.client_id)
        .map_err(|e| e.message)
        .and_then(|v| as_checked(&app.client_id, v))
        .map_err(|m| unsafe_value("the app's client ID", m))?;
    validate::tenant(&app.tenant)
        .map_err(|e| e.message)
        .and_then(|v| as_checked(&app.tenant, v))
        .map_err(|m| unsafe_value("the app's tenant", m))?;
    validate::username(&server.username).map_err(|e| unsafe_value("the mailbox", e.message))?;
    validate::plain_text(validate::Field::AppName, &app.name)
        .map_err(|e| unsafe_value("the app's name", e.message))?;
    // The Object ID is not quoted back: it may be a command (a hostile `oid` claim).
    if let Some(id) = principal_id
        && !validate::is_guid(id)
    {
        return Err(unsafe_value(
            "the service principal's Object ID",
            format!(
                "the token file names one that is not a GUID (not shown: it could be a command); fetch a new token (refresh \"{}\") or take the Object ID from Enterprise applications",
                server.name
            ),
        ));
    }
    Ok(())
}

/// `Add-MailboxPermission` for one mailbox: all a mailbox added later needs.
pub fn mailbox_permission(mailbox: &str, principal_id: Option<&str>) -> ExchangeCommand {
    let sp = principal_id.unwrap_or(PRINCIPAL_PLACEHOLDER);
    ExchangeCommand {
        line: format!(
            "Add-MailboxPermission -Identity {} -User {} -AccessRights FullAccess",
            ps(mailbox),
            ps(sp)
        ),
        why: format!("lets the app open {mailbox} (Exchange may take a few minutes to apply it)"),
    }
}

/// Every line, from installing the module to the mailbox permissions.
pub fn exchange_commands(
    app: &AzureApp,
    principal_id: Option<&str>,
    mailboxes: &[&str],
) -> Vec<ExchangeCommand> {
    let sp = principal_id.unwrap_or(PRINCIPAL_PLACEHOLDER);
    let mut out = vec![
        ExchangeCommand {
            line: "Install-Module -Name ExchangeOnlineManagement".into(),
            why: "once per machine: Exchange Online PowerShell (Azure Cloud Shell has it already)".into(),
        },
        ExchangeCommand {
            line: format!("Connect-ExchangeOnline -Organization {}", ps(&app.tenant)),
            why: format!("sign in as an Exchange administrator of {}", app.tenant),
        },
        ExchangeCommand {
            line: format!(
                "New-ServicePrincipal -AppId {} -ObjectId {} -DisplayName {}",
                ps(&app.client_id),
                ps(sp),
                ps(&app.name)
            ),
            why: "registers the app's service principal in Exchange (the Enterprise application's Object ID, not the App registration's)".into(),
        },
    ];
    out.extend(mailboxes.iter().map(|m| mailbox_permission(m, principal_id)));
    out
}

/// Where to find the Object ID while it is a placeholder, in words only.
pub fn principal_where(app: &str, client_id: &str) -> String {
    format!(
        "{PRINCIPAL_PLACEHOLDER}: in the Azure portal, Microsoft Entra ID → Enterprise applications → \"{app}\" (client ID {client_id}) → Object ID. Not the Object ID on the App registrations Overview page: that one fails."
    )
}

/// The service principal's Object ID, from the token file of any app-only server of `app`.
pub fn principal_of(store: &Store, config: &Config, app: &str) -> Result<Option<String>> {
    for s in config
        .servers
        .iter()
        .filter(|s| s.auth == AuthKind::OAuth2App && s.app.as_deref() == Some(app))
    {
        if let Some(id) = store
            .load_tokens(s)?
            .and_then(|f| f.tokens)
            .and_then(|t| t.principal_id)
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The Exchange setup of one app-only server.
pub fn exchange_setup(store: &Store, name: &str) -> Result<ExchangeSetup> {
    let config = store.load()?;
    let (server, app) = super::oauth_target(&config, name)?;
    if server.auth != AuthKind::OAuth2App {
        return Err(Error::NotAppOnly { server: name.into() });
    }
    let principal_id = principal_of(store, &config, &app.name)?;
    setup_for(&config, &server, &app, principal_id)
}

/// Builds the setup from what is known (pure: no store); refuses values that are not what
/// they claim to be (see [`check_values`]).
pub fn setup_for(
    config: &Config,
    server: &Server,
    app: &AzureApp,
    principal_id: Option<String>,
) -> Result<ExchangeSetup> {
    check_values(server, app, principal_id.as_deref())?;
    let sibling_confirmed = config.servers.iter().any(|s| {
        s.id != server.id
            && s.auth == AuthKind::OAuth2App
            && s.app.as_deref() == Some(app.name.as_str())
            && s.state == ServerState::Confirmed
    });
    let commands = if sibling_confirmed {
        vec![
            ExchangeCommand {
                line: format!("Connect-ExchangeOnline -Organization {}", ps(&app.tenant)),
                why: format!("sign in as an Exchange administrator of {}", app.tenant),
            },
            mailbox_permission(&server.username, principal_id.as_deref()),
        ]
    } else {
        exchange_commands(app, principal_id.as_deref(), &[server.username.as_str()])
    };
    Ok(ExchangeSetup {
        server: server.name.clone(),
        mailbox: server.username.clone(),
        app: app.name.clone(),
        client_id: app.client_id.clone(),
        tenant: app.tenant.clone(),
        principal_id,
        only_mailbox_permission: sibling_confirmed,
        commands,
    })
}

/// The first words of the diagnosis of a refused app-only login.
pub const REJECTED_LEAD: &str = "the app-only token is valid, so Exchange refused the mailbox itself";
/// The same when the token could not be read: its permission is not proven either.
pub const REJECTED_LEAD_UNREAD: &str = "Microsoft issued an app-only token, but it cannot be read to check its permission, and Exchange refused it";

/// The lead that fits what is known about the token.
pub fn rejected_lead(setup: &ExchangeSetup) -> &'static str {
    if role_proven(setup) {
        REJECTED_LEAD
    } else {
        REJECTED_LEAD_UNREAD
    }
}

/// Whether a token of the app was read and carried `IMAP.AccessAsApp`: the Object ID is read
/// from the same claims, and a readable token without the role is refused before it is stored
/// (`app_only::imap_token`). Without it the token was opaque or encrypted (Microsoft says
/// clients must not depend on reading access tokens), so the role is not proven.
pub fn role_proven(setup: &ExchangeSetup) -> bool {
    setup.principal_id.is_some()
}

/// The causes of `NO AUTHENTICATE failed.` with a valid app-only token (microsoft-facts §4.4
/// rows 3, 5 and 6), most likely first; as data so the CLI and the app each add their own
/// way to act. The application permission is a cause only while no token proved it.
pub fn rejected_causes(setup: &ExchangeSetup) -> Vec<RejectedCause> {
    let sp = setup.principal_id.as_deref();
    let new_sp = exchange_commands(
        &AzureApp {
            public_client: false,
            admin_consent_at: None,
            name: setup.app.clone(),
            client_id: setup.client_id.clone(),
            tenant: setup.tenant.clone(),
            secret: None,
            secret_expires: None,
            authority: String::new(),
            certificate: None,
        },
        sp,
        &[],
    )
    .pop()
    .map(|c| c.line);
    let mut causes = vec![
        RejectedCause {
            what: "the app's service principal is not registered in Exchange (or with the App registration's Object ID instead of the Enterprise application's)".into(),
            line: new_sp,
        },
        RejectedCause {
            what: format!("the app has no permission on {}", setup.mailbox),
            line: Some(mailbox_permission(&setup.mailbox, sp).line),
        },
    ];
    if !role_proven(setup) {
        causes.push(RejectedCause {
            what: format!(
                "the app lacks the application permission {IMAP_APP_ROLE} or its admin consent (the token could not be read to tell): API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions → {IMAP_APP_ROLE}, then Grant admin consent"
            ),
            line: None,
        });
    }
    causes.extend([
        RejectedCause {
            what: format!("IMAP is turned off for {}", setup.mailbox),
            line: Some(format!(
                "Set-CASMailbox -Identity {} -ImapEnabled $true",
                ps(&setup.mailbox)
            )),
        },
        RejectedCause {
            what: "Username is not the mailbox's primary address".into(),
            line: None,
        },
    ]);
    causes
}

/// The diagnosis of `NO AUTHENTICATE failed.` with a valid app-only token, as data.
pub fn rejection(setup: &ExchangeSetup) -> Rejection {
    Rejection {
        server: setup.server.clone(),
        mailbox: setup.mailbox.clone(),
        lead: rejected_lead(setup).to_string(),
        causes: rejected_causes(setup),
        placeholder_app: setup.principal_id.is_none().then(|| setup.app.clone()),
        unread: None,
    }
}

/// The same when the setup could not be read: the pieces in words, and why.
pub fn rejection_unread(server: &str, mailbox: &str, why: String) -> Rejection {
    Rejection {
        server: server.into(),
        mailbox: mailbox.into(),
        lead: String::new(),
        causes: vec![
            RejectedCause {
                what: format!(
                    "register the app's service principal in Exchange and give it FullAccess to {mailbox}"
                ),
                line: None,
            },
            RejectedCause {
                what: format!("give the app the application permission {IMAP_APP_ROLE} with admin consent"),
                line: None,
            },
            RejectedCause {
                what: format!("turn IMAP on for {mailbox}"),
                line: None,
            },
        ],
        placeholder_app: None,
        unread: Some(why),
    }
}

/// The service principal's Object ID among token files already read (pure: the app's
/// snapshot holds them), from any app-only server of `app`.
pub fn principal_among<'a>(
    config: &Config,
    app: &str,
    tokens: impl Fn(&Server) -> Option<&'a crate::model::TokenFile>,
) -> Option<String> {
    config
        .servers
        .iter()
        .filter(|s| s.auth == AuthKind::OAuth2App && s.app.as_deref() == Some(app))
        .find_map(|s| tokens(s)?.tokens.as_ref()?.principal_id.clone())
}

#[cfg(test)]
mod hostile_tests;

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34";

    fn app() -> AzureApp {
        AzureApp {
            public_client: false,
            admin_consent_at: None,
            name: "Contoso's mail".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: None,
            secret_expires: None,
            authority: crate::model::DEFAULT_AUTHORITY.into(),
            certificate: None,
        }
    }

    fn server(name: &str, mailbox: &str, state: ServerState) -> Server {
        Server {
            sign_in_as: None,
            id: format!("id-{name}"),
            name: name.into(),
            server_type: crate::model::ServerType::Imap,
            auth: AuthKind::OAuth2App,
            host: crate::model::DEFAULT_HOST.into(),
            port: 993,
            ssl: true,
            username: mailbox.into(),
            app: Some("Contoso's mail".into()),
            password: None,
            ca_file: None,
            state,
            last_test: None,
        }
    }

    #[test]
    fn the_commands_carry_the_real_values() {
        let lines: Vec<String> = exchange_commands(&app(), Some(OID), &["a@contoso.com", "b@contoso.com"])
            .into_iter()
            .map(|c| c.line)
            .collect();
        assert_eq!(lines[1], "Connect-ExchangeOnline -Organization 'contoso.com'");
        assert_eq!(
            lines[2],
            "New-ServicePrincipal -AppId '2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58' -ObjectId '6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34' -DisplayName 'Contoso''s mail'"
        );
        assert_eq!(
            lines[3],
            "Add-MailboxPermission -Identity 'a@contoso.com' -User '6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34' -AccessRights FullAccess"
        );
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn unknown_object_id_is_a_placeholder_with_directions() {
        let mut config = Config::default();
        config.apps.push(app());
        let s = server("Support", "support@contoso.com", ServerState::Draft);
        config.servers.push(s.clone());
        let setup = setup_for(&config, &s, &app(), None).unwrap();
        assert!(
            setup
                .commands
                .iter()
                .any(|c| c.line.contains(PRINCIPAL_PLACEHOLDER))
        );
        assert_eq!(setup.principal_id, None);
        assert!(!setup.only_mailbox_permission);
        let advice = rejection(&setup).words();
        let sp = advice.find("New-ServicePrincipal").unwrap_or(usize::MAX);
        let perm = advice.find("Add-MailboxPermission").unwrap_or(0);
        assert!(sp < perm, "service principal first: {advice}");
        assert!(advice.contains("minutes"), "{advice}");
    }

    #[test]
    fn an_unread_token_adds_the_application_permission_to_the_causes() {
        let mut config = Config::default();
        config.apps.push(app());
        let s = server("Support", "support@contoso.com", ServerState::Draft);
        config.servers.push(s.clone());
        let whats = |setup: &ExchangeSetup| -> Vec<String> {
            rejected_causes(setup).into_iter().map(|c| c.what).collect()
        };
        // Opaque or encrypted token: nothing proved the role, so it is a cause, after the
        // Exchange pieces and before the mailbox's own settings.
        let unread = setup_for(&config, &s, &app(), None).expect("a valid setup");
        let causes = whats(&unread);
        let role = causes.iter().position(|c| c.contains("IMAP.AccessAsApp"));
        assert_eq!(role, Some(2), "{causes:?}");
        assert!(causes[2].contains("admin consent"), "{causes:?}");
        assert!(causes[0].contains("service principal"), "{causes:?}");
        assert!(
            causes[1].contains("permission on support@contoso.com"),
            "{causes:?}"
        );
        assert!(
            causes.iter().any(|c| c.contains("IMAP is turned off")),
            "{causes:?}"
        );
        let advice = rejection(&unread).words();
        assert!(advice.contains("IMAP.AccessAsApp"), "{advice}");
        assert!(
            advice.contains("Set-CASMailbox -Identity 'support@contoso.com' -ImapEnabled $true"),
            "{advice}"
        );
        // A token that was read carried the role (it is refused before it is stored otherwise).
        let read = setup_for(
            &config,
            &s,
            &app(),
            Some("8d1c2b3a-0000-4000-8000-000000000001".into()),
        )
        .expect("a valid setup");
        assert!(whats(&read).iter().all(|c| !c.contains("IMAP.AccessAsApp")));
    }

    #[test]
    fn a_mailbox_added_later_gets_just_its_permission_line() {
        let mut config = Config::default();
        config.apps.push(app());
        config
            .servers
            .push(server("Support", "support@contoso.com", ServerState::Confirmed));
        let later = server("Sales", "sales@contoso.com", ServerState::Draft);
        config.servers.push(later.clone());
        let setup = setup_for(&config, &later, &app(), Some(OID.into())).unwrap();
        assert!(setup.only_mailbox_permission);
        assert!(
            setup
                .commands
                .iter()
                .all(|c| !c.line.starts_with("New-ServicePrincipal"))
        );
        assert_eq!(
            setup.commands.last().map(|c| c.line.as_str()),
            Some(
                "Add-MailboxPermission -Identity 'sales@contoso.com' -User '6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34' -AccessRights FullAccess"
            )
        );
        assert!(setup.principal_id.is_some());
    }
}
