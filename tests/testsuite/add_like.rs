#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns
//! `inbound add NAME --like OTHER --username U`: another mailbox of an app in use, with the
//! other server's app, host, port and CA file, through the binary.

use crate::support;

use inbound::model::{AuthKind, Config, Server, ServerState, ServerType};
use support::cli::{Cli, text};

#[tokio::test]
async fn another_mailbox_like_a_stored_server() {
    let cli = Cli::new();
    let ca = cli.config_dir().parent().unwrap().join("ca.pem");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").unwrap();
    let ca2 = ca.clone();
    cli.store()
        .update(move |c: &mut Config| {
            c.apps
                .push(support::store::contoso_app("https://login.microsoftonline.us"));
            c.servers.push(Server {
                id: inbound::model::new_server_id(),
                name: "Support".into(),
                server_type: ServerType::Imap,
                auth: AuthKind::OAuth2,
                host: "outlook.office365.us".into(),
                port: 994,
                ssl: true,
                username: "support@contoso.com".into(),
                sign_in_as: None,
                app: Some("Contoso mail".into()),
                password: None,
                ca_file: Some(ca2),
                state: ServerState::Confirmed,
                last_test: None,
            });
            Ok::<_, inbound::store::StoreError>(())
        })
        .unwrap();
    let out = cli
        .run(
            &[
                "add",
                "Sales",
                "--like",
                "Support",
                "--username",
                "sales@contoso.com",
            ],
            None,
        )
        .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = cli.store().load().unwrap();
    let sales = config.server("Sales").unwrap();
    assert_eq!(sales.app.as_deref(), Some("Contoso mail"));
    assert_eq!((sales.host.as_str(), sales.port), ("outlook.office365.us", 994));
    assert_eq!(sales.ca_file.as_deref(), Some(ca.as_path()));
    assert_eq!(sales.state, ServerState::Draft);
    assert_eq!(config.apps.len(), 1, "no second app");
    // A server that is not there, and flags that --like sets itself, are refused.
    let out = cli
        .run(
            &["add", "X", "--like", "Nobody", "--username", "x@contoso.com"],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = cli
        .run(
            &[
                "add",
                "Y",
                "--like",
                "Support",
                "--username",
                "y@contoso.com",
                "--host",
                "h",
            ],
            None,
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
