//! The IMAP stand-in: Exchange's answers over an in-memory pipe, and the real probe over TLS.

use super::*;
use crate::services::imap::{Credentials, ProbeError, ProbeSettings, probe};

const TOKEN: &str = "EwB.good-token";

fn check() -> TokenCheck {
    Arc::new(|t: &str| (t == TOKEN).then(|| "user@contoso.com".to_string()))
}

fn mailboxes() -> HashMap<String, u32> {
    HashMap::from([("user@contoso.com".to_string(), 3)])
}

/// Runs a session over an in-memory pipe; returns the client side as lines.
async fn converse(lines: &[String]) -> Vec<String> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (m, c) = (mailboxes(), check());
    let task = tokio::spawn(async move { Session::new(&m, &c).run(server).await });
    let (read, mut write) = tokio::io::split(client);
    for l in lines {
        write.write_all(format!("{l}\r\n").as_bytes()).await.unwrap();
    }
    write.shutdown().await.unwrap();
    let mut out = String::new();
    BufReader::new(read).read_to_string(&mut out).await.unwrap();
    let _ = task.await;
    out.lines().map(str::to_string).collect()
}

fn ir(user: &str, token: &str) -> String {
    xoauth2::encode(user, token)
}

#[tokio::test]
async fn xoauth2_is_refused_for_a_wrong_token() {
    let out = converse(&[
        format!(
            "a1 AUTHENTICATE XOAUTH2 {}",
            ir("user@contoso.com", "EwB.not-issued")
        ),
        "a2 EXAMINE INBOX".into(),
        "a3 LOGOUT".into(),
    ])
    .await;
    assert!(
        out[0].starts_with("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR"),
        "{out:?}"
    );
    assert!(out.contains(&"a1 NO AUTHENTICATE failed.".to_string()), "{out:?}");
    assert!(
        out.contains(&"a2 BAD Command received in Invalid state.".to_string()),
        "{out:?}"
    );
}

#[tokio::test]
async fn an_issued_token_opens_its_own_inbox_only() {
    let out = converse(&[
        format!("a1 AUTHENTICATE XOAUTH2 {}", ir("user@contoso.com", TOKEN)),
        "a2 EXAMINE \"INBOX\"".into(),
        "a3 LOGOUT".into(),
    ])
    .await;
    assert!(
        out.contains(&"a1 OK AUTHENTICATE completed.".to_string()),
        "{out:?}"
    );
    assert!(out.contains(&"* 3 EXISTS".to_string()), "{out:?}");
    assert!(
        out.contains(&"a2 OK [READ-ONLY] EXAMINE completed.".to_string()),
        "{out:?}"
    );
    assert!(out.iter().any(|l| l.starts_with("* BYE")), "{out:?}");
    // Someone else's mailbox with this token: signed in, but not connected.
    let out = converse(&[
        format!("a1 AUTHENTICATE XOAUTH2 {}", ir("sales@contoso.com", TOKEN)),
        "a2 EXAMINE INBOX".into(),
    ])
    .await;
    assert!(
        out.contains(&"a1 OK AUTHENTICATE completed.".to_string()),
        "{out:?}"
    );
    assert!(
        out.contains(&"a2 NO User is authenticated but not connected.".to_string()),
        "{out:?}"
    );
}

#[tokio::test]
async fn two_step_authenticate_and_garbage() {
    let out = converse(&[
        "a1 AUTHENTICATE XOAUTH2".into(),
        ir("user@contoso.com", TOKEN),
        "a2 FROB".into(),
        "".into(),
        "a3 AUTHENTICATE XOAUTH2 !!!notbase64".into(),
        "a4 CAPABILITY".into(),
    ])
    .await;
    assert!(out.contains(&"+ ".to_string()), "{out:?}");
    assert!(
        out.contains(&"a1 OK AUTHENTICATE completed.".to_string()),
        "{out:?}"
    );
    assert!(out.contains(&"a2 BAD Command Error. 12".to_string()), "{out:?}");
    assert!(
        out.contains(&"a3 BAD Command received in Invalid state.".to_string()),
        "{out:?}"
    );
    assert!(
        out.contains(&"a4 OK CAPABILITY completed.".to_string()),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_line_too_long_ends_the_session() {
    let out = converse(&[format!("a1 NOOP {}", "x".repeat(MAX_LINE as usize + 10))]).await;
    assert_eq!(out.len(), 1, "only the greeting: {out:?}");
}

/// The real probe, over TLS with the start-up certificate trusted through the CA file only.
#[tokio::test]
async fn the_probe_passes_over_tls_with_the_ca_file() {
    let tls = super::super::cert::make().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    let server = DemoImap::start(&tls, mailboxes(), check()).await.unwrap();
    let mut settings = ProbeSettings {
        host: "127.0.0.1".into(),
        port: server.port(),
        tls: true,
        ca_file: Some(ca),
        timeouts: crate::services::imap::Timeouts::default(),
    };
    let creds = Credentials::XOAuth2 {
        user: "user@contoso.com".into(),
        access_token: crate::secret::Secret::new(TOKEN),
    };
    let report = probe(&settings, &creds, |_| {}).await.unwrap();
    assert_eq!(report.messages, 3);
    assert!(report.sasl_ir);
    // Without the CA file the certificate is not trusted.
    settings.ca_file = None;
    let err = probe(&settings, &creds, |_| {}).await.unwrap_err();
    assert!(matches!(err, ProbeError::Tls { .. }), "{err}");
}
