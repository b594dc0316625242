//! Values that would end the quoting of the printed PowerShell lines.

use super::*;
use crate::model::quote::is_powershell_quote;

const HOSTILE_OID: &str = "x\u{2019}; Remove-Mailbox -Identity ceo@contoso.com -Confirm:$false; \u{2018}y";
const OID: &str = "6a1d9e4b-2f70-4c3a-b8e5-0d9c7f1a2b34";

fn app(name: &str) -> AzureApp {
    AzureApp {
        public_client: false,
        admin_consent_at: None,
        name: name.into(),
        client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
        tenant: "contoso.com".into(),
        secret: None,
        secret_expires: None,
        authority: crate::model::DEFAULT_AUTHORITY.into(),
        certificate: None,
    }
}

fn server(mailbox: &str, app: &str) -> Server {
    Server {
        sign_in_as: None,
        id: "id-1".into(),
        name: "Support".into(),
        server_type: crate::model::ServerType::Imap,
        auth: AuthKind::OAuth2App,
        host: crate::model::DEFAULT_HOST.into(),
        port: 993,
        ssl: true,
        username: mailbox.into(),
        app: Some(app.into()),
        password: None,
        ca_file: None,
        state: ServerState::Draft,
        last_test: None,
    }
}

/// Splits a PowerShell line into its words as the tokenizer does for single-quoted strings
/// (any of the five quote characters opens and closes one; two in a row are one literal):
/// returns the bare words outside quotes.
fn bare_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    let mut bare = String::new();
    while let Some(c) = chars.next() {
        if is_powershell_quote(c) {
            loop {
                match chars.next() {
                    Some(q) if is_powershell_quote(q) => {
                        if chars.peek().is_some_and(|n| is_powershell_quote(*n)) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    Some(_) => {}
                    None => panic!("unterminated quote in {line}"),
                }
            }
            bare.push_str(" <str> ");
        } else {
            bare.push(c);
        }
    }
    words.extend(bare.split_whitespace().map(str::to_string));
    words
}

#[test]
fn a_hostile_object_id_never_reaches_a_line() {
    let mut config = Config::default();
    config.apps.push(app("Mail"));
    let s = server("support@contoso.com", "Mail");
    config.servers.push(s.clone());
    let e = setup_for(&config, &s, &app("Mail"), Some(HOSTILE_OID.into())).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("not a GUID"), "{text}");
    assert!(matches!(e, Error::UnsafeValue { .. }));
}

#[test]
fn typographic_quotes_in_names_and_mailboxes_stay_inside_their_strings() {
    let name = "O\u{2019}Brien\u{2018}s mail \u{201A}\u{201B}'";
    let mailbox = "o'brien@contoso.com";
    let mut config = Config::default();
    config.apps.push(app(name));
    let s = server(mailbox, name);
    config.servers.push(s.clone());
    let setup = setup_for(&config, &s, &app(name), Some(OID.into())).unwrap();
    for c in &setup.commands {
        let words = bare_words(&c.line);
        assert!(
            words.iter().all(|w| w == "<str>"
                || w.starts_with('-')
                || w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')),
            "a value escaped its quotes: {} → {words:?}",
            c.line
        );
    }
    let sp = setup
        .commands
        .iter()
        .find(|c| c.line.starts_with("New-ServicePrincipal"))
        .unwrap();
    assert_eq!(
        bare_words(&sp.line),
        [
            "New-ServicePrincipal",
            "-AppId",
            "<str>",
            "-ObjectId",
            "<str>",
            "-DisplayName",
            "<str>"
        ]
    );
    let advice = rejection(&setup).words();
    assert!(!advice.contains("Remove-Mailbox"));
}

#[test]
fn hand_edited_values_that_are_not_ids_are_refused() {
    let mut config = Config::default();
    let mut bad = app("Mail");
    bad.client_id = "x'; Remove-Mailbox ceo; 'y".into();
    config.apps.push(bad.clone());
    let s = server("support@contoso.com", "Mail");
    config.servers.push(s.clone());
    assert!(setup_for(&config, &s, &bad, None).is_err());
    let evil = server("a@contoso.com\u{1b}[2J", "Mail");
    assert!(setup_for(&config, &evil, &app("Mail"), None).is_err());
    // Not an RFC 5321 address (a typographic quote), so not a mailbox for a line.
    let typographic = server("o\u{2019}brien@contoso.com", "Mail");
    assert!(setup_for(&config, &typographic, &app("Mail"), None).is_err());
    let mut tenant = app("Mail");
    tenant.tenant = "contoso.com'; Remove-Mailbox x; '".into();
    assert!(setup_for(&config, &s, &tenant, None).is_err());
    // What the tenant check would strip from a paste is not in a stored value either.
    tenant.tenant = "contoso.com/'; Remove-Mailbox x; '".into();
    assert!(setup_for(&config, &s, &tenant, None).is_err());
}
