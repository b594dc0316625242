//! The Exchange step of an app-only server (between the form and Test & Confirm): nobody
//! signs in, so instead an Exchange admin registers the app's service principal and gives it
//! the mailbox. The lines and their reasons are the core's (`ops::exchange`); this step shows
//! them, copies them in one block, and goes on to the test.

use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::model::{AuthKind, Config, TokenFile};
use crate::ops::exchange::{ExchangeSetup, principal_among, setup_for};
use crate::tui::state::keymap::Action;
use std::collections::BTreeMap;

/// What the copy is called in the status line and in the list printed at exit.
const WHAT: &str = "Exchange commands";

/// The setup of the app-only server `name` from the data already read (pure).
pub fn setup(
    config: &Config,
    tokens: &BTreeMap<String, TokenFile>,
    name: &str,
) -> Result<ExchangeSetup, std::sync::Arc<crate::ops::Error>> {
    let (server, app) = crate::ops::oauth_target(config, name).map_err(std::sync::Arc::new)?;
    if server.auth != AuthKind::OAuth2App {
        return Err(std::sync::Arc::new(crate::ops::Error::NotAppOnly {
            server: name.to_string(),
        }));
    }
    let principal = principal_among(config, &app.name, |s| tokens.get(&s.name));
    setup_for(config, &server, &app, principal).map_err(std::sync::Arc::new)
}

/// The lines as one block to paste into PowerShell: each reason as a comment above its line.
pub fn block(setup: &ExchangeSetup) -> String {
    setup
        .commands
        .iter()
        .map(|c| format!("# {}\n{}", c.why, c.line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Entering the step reads the setup afresh (a token fetched since fills in the Object ID).
pub(super) fn start(w: &mut Wizard, ctx: &mut StepCtx) -> Vec<Effect> {
    w.exchange = w.server.as_deref().map(|n| setup(ctx.config, ctx.tokens, n));
    w.scroll = 0;
    Vec::new()
}

pub(super) fn update(w: &mut Wizard, _ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    let StepEvent::Action(action) = event else {
        return Vec::new();
    };
    match action {
        Action::Copy => match &w.exchange {
            Some(Ok(setup)) => vec![Effect::Copy {
                text: block(setup),
                what: WHAT,
            }],
            _ => Vec::new(),
        },
        Action::Open => vec![Effect::Enter(Step::Test)],
        Action::ScrollDown => {
            w.scroll = w.scroll.saturating_add(3).min(60);
            Vec::new()
        }
        Action::ScrollUp => {
            w.scroll = w.scroll.saturating_sub(3);
            Vec::new()
        }
        // The server is saved: back is the list, as after a sign-in.
        Action::Back => vec![Effect::Leave],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AzureApp, DEFAULT_AUTHORITY, DEFAULT_HOST, Server, ServerState, ServerType};

    fn config() -> Config {
        let mut c = Config::default();
        c.apps.push(AzureApp {
            public_client: false,
            admin_consent_at: None,
            name: "mail".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: None,
            secret_expires: None,
            authority: DEFAULT_AUTHORITY.into(),
            certificate: None,
        });
        c.servers.push(Server {
            sign_in_as: None,
            id: "id-1".into(),
            name: "Support".into(),
            server_type: ServerType::Imap,
            auth: AuthKind::OAuth2App,
            host: DEFAULT_HOST.into(),
            port: 993,
            ssl: true,
            username: "support@contoso.com".into(),
            app: Some("mail".into()),
            password: None,
            ca_file: None,
            state: ServerState::Draft,
            last_test: None,
        });
        c
    }

    #[test]
    fn the_block_has_every_line_with_its_reason_as_a_comment() {
        let s = setup(&config(), &BTreeMap::new(), "Support").unwrap_or_else(|e| panic!("{e}"));
        let b = block(&s);
        assert!(b.contains("\nNew-ServicePrincipal -AppId '2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58'"));
        assert!(b.contains("Add-MailboxPermission -Identity 'support@contoso.com'"));
        assert!(b.lines().filter(|l| !l.starts_with("# ")).count() == s.commands.len());
    }

    #[test]
    fn a_delegated_server_has_no_exchange_setup() {
        let mut c = config();
        c.servers[0].auth = AuthKind::OAuth2;
        assert!(setup(&c, &BTreeMap::new(), "Support").is_err());
    }
}
