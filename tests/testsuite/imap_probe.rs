//! The IMAP probe against scripted servers on loopback (plain TCP; TLS is covered by the
//! Dovecot tests): Exchange's behaviours, timeouts and the exact lines we send.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use inbound::secret::Secret;
use inbound::services::imap::{Credentials, ProbeError, ProbeEvent, ProbeSettings, Stage, Timeouts, probe};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A step of a script: what the server sends, or a line it expects (prefix match).
#[derive(Clone)]
enum Step {
    Send(&'static str),
    Expect(&'static str),
    Hang,
    /// Waits until the test says the probe has returned.
    Release,
    /// The client closes: end of stream, not a reset.
    Eof,
}

/// What a scripted server saw.
struct Served {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    /// Client flights: runs of client lines, each sent after the server had spoken.
    flights: Arc<Mutex<usize>>,
    release: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<()>,
}

/// Serves one connection following `script`; records every line the client sent.
async fn scripted(script: Vec<Step>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let s = serve(script).await;
    (s.port, s.seen)
}

async fn serve(script: Vec<Step>) -> Served {
    serve_each(vec![script]).await
}

/// One script per connection, in the order the client connects.
async fn serve_each(scripts: Vec<Vec<Step>>) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let flights = Arc::new(Mutex::new(0));
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (log, count) = (seen.clone(), flights.clone());
    let done = tokio::spawn(async move {
        let mut released = Some(released);
        for script in scripts {
            let (stream, _) = listener.accept().await.unwrap();
            let (r, mut w) = stream.into_split();
            let mut r = BufReader::new(r);
            let mut spoke = false;
            for step in script {
                match step {
                    Step::Send(s) => {
                        w.write_all(s.as_bytes()).await.unwrap();
                        spoke = true;
                    }
                    Step::Expect(prefix) => {
                        let mut line = String::new();
                        r.read_line(&mut line).await.unwrap();
                        if std::mem::take(&mut spoke) {
                            *count.lock().unwrap() += 1;
                        }
                        log.lock().unwrap().push(line.trim_end().to_string());
                        assert!(
                            line.starts_with(prefix),
                            "expected {prefix:?}, client sent {line:?}"
                        );
                    }
                    Step::Hang => std::future::pending::<()>().await,
                    Step::Release => {
                        let _ = released.take().unwrap().await;
                    }
                    Step::Eof => {
                        let mut line = String::new();
                        let n = r.read_line(&mut line).await.expect("a clean close, not a reset");
                        assert_eq!((n, line.as_str()), (0, ""), "the client sent more after LOGOUT");
                    }
                }
            }
        }
    });
    Served {
        port,
        seen,
        flights,
        release,
        done,
    }
}

fn settings(port: u16) -> ProbeSettings {
    ProbeSettings {
        host: "127.0.0.1".into(),
        port,
        tls: false,
        ca_file: None,
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            tls: Duration::from_secs(5),
            command: Duration::from_millis(300),
            authenticate: Duration::from_secs(5),
        },
    }
}

fn oauth() -> Credentials {
    Credentials::XOAuth2 {
        user: "support@contoso.com".into(),
        access_token: Secret::new("tok"),
    }
}

const EXCHANGE_GREETING: &str = "* OK The Microsoft Exchange IMAP4 service is ready. [TQBOADIAUABS]\r\n";
const EXCHANGE_CAPS: &str = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\r\n";
const IR: &str = "A0002 AUTHENTICATE XOAUTH2 dXNlcj1zdXBwb3J0QGNvbnRvc28uY29tAWF1dGg9QmVhcmVyIHRvawEB";

#[tokio::test]
async fn exchange_success_uses_sasl_ir_on_one_line() {
    let (port, seen) = scripted(vec![
        Step::Send(EXCHANGE_GREETING),
        Step::Expect("A0001 CAPABILITY"),
        Step::Send(EXCHANGE_CAPS),
        Step::Send("A0001 OK CAPABILITY completed.\r\n"),
        Step::Expect(IR),
        Step::Send("A0002 OK AUTHENTICATE completed.\r\n"),
        Step::Expect("A0003 EXAMINE \"INBOX\""),
        Step::Send(
            "* 1204 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\nA0003 OK [READ-ONLY] EXAMINE completed.\r\n",
        ),
        Step::Expect("A0004 LOGOUT"),
        Step::Send(
            "* BYE Microsoft Exchange Server IMAP4 server signing off.\r\nA0004 OK LOGOUT completed.\r\n",
        ),
    ])
    .await;
    let mut events = Vec::new();
    let report = probe(&settings(port), &oauth(), |e| events.push(e))
        .await
        .unwrap();
    assert_eq!(report.messages, 1204);
    assert!(report.sasl_ir);
    let passed: Vec<Stage> = events
        .iter()
        .filter_map(|e| match e {
            ProbeEvent::Passed { stage, .. } => Some(*stage),
            ProbeEvent::Started(_) => None,
        })
        .collect();
    assert_eq!(
        passed,
        [
            Stage::Connect,
            Stage::Greeting,
            Stage::Capabilities,
            Stage::Authenticate,
            Stage::Inbox,
            Stage::Logout
        ]
    );
    assert_eq!(
        seen.lock().unwrap()[1],
        IR,
        "one line, no continuation round trip"
    );
}

#[tokio::test]
async fn exchange_plain_no_is_an_auth_rejection_with_the_checklist() {
    let (port, _) = scripted(vec![
        Step::Send(EXCHANGE_GREETING),
        Step::Expect("A0001 CAPABILITY"),
        Step::Send(EXCHANGE_CAPS),
        Step::Send("A0001 OK CAPABILITY completed.\r\n"),
        Step::Expect("A0002 AUTHENTICATE XOAUTH2 "),
        Step::Send("A0002 NO AUTHENTICATE failed.\r\n"),
    ])
    .await;
    let err = probe(&settings(port), &oauth(), |_| {}).await.unwrap_err();
    match &err {
        ProbeError::AuthRejected {
            server_text,
            detail,
            oauth,
        } => {
            assert_eq!(server_text, "AUTHENTICATE failed.");
            assert!(detail.is_none());
            assert!(oauth);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.stage(), Stage::Authenticate);
    assert!(err.hint().contains("Set-CASMailbox"));
}

#[tokio::test]
async fn a_json_challenge_is_answered_with_an_empty_line_and_kept() {
    // Capabilities in the greeting, no SASL-IR (the line sent ahead is refused), error as a
    // challenge (Dovecot, Gmail).
    let (port, seen) = scripted(vec![
        Step::Send("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n"),
        Step::Expect("A0001 CAPABILITY"),
        Step::Expect("A0002 AUTHENTICATE XOAUTH2 "),
        Step::Send(
            "* CAPABILITY IMAP4rev1 AUTH=XOAUTH2\r\nA0001 OK done\r\nA0002 BAD no initial response here\r\n",
        ),
        Step::Expect("A0003 AUTHENTICATE XOAUTH2"),
        Step::Send("+ \r\n"),
        Step::Expect("dXNlcj1zdXBwb3J0QGNvbnRvc28uY29tAWF1dGg9QmVhcmVyIHRvawEB"),
        Step::Send("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n"),
        Step::Expect(""),
        Step::Send("A0003 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    ])
    .await;
    let err = probe(&settings(port), &oauth(), |_| {}).await.unwrap_err();
    let ProbeError::AuthRejected {
        detail, server_text, ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(detail.as_deref(), Some("{\"status\":\"401\"}"));
    assert!(server_text.contains("Authentication failed"));
    assert_eq!(
        seen.lock().unwrap()[2],
        "A0003 AUTHENTICATE XOAUTH2",
        "again without the initial response, which this server does not take"
    );
    assert_eq!(seen.lock().unwrap()[4], "", "empty answer to the error challenge");
}

#[tokio::test]
async fn authenticated_but_not_connected_is_explained() {
    let (port, _) = scripted(vec![
        Step::Send("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] ready\r\n"),
        Step::Expect("A0001 CAPABILITY"),
        Step::Expect("A0002 AUTHENTICATE XOAUTH2 "),
        Step::Send("A0001 OK\r\nA0002 OK AUTHENTICATE completed.\r\n"),
        Step::Expect("A0003 EXAMINE"),
        Step::Send("A0003 BAD User is authenticated but not connected.\r\n"),
    ])
    .await;
    let err = probe(&settings(port), &oauth(), |_| {}).await.unwrap_err();
    assert!(matches!(err, ProbeError::NotConnected { .. }), "{err:?}");
    assert_eq!(err.stage(), Stage::Inbox);
    assert!(err.hint().contains("wrong account"));
}

#[tokio::test]
async fn a_silent_server_times_out_at_the_greeting() {
    let (port, _) = scripted(vec![Step::Hang]).await;
    let err = probe(&settings(port), &oauth(), |_| {}).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProbeError::Timeout {
                stage: Stage::Greeting,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_server_that_hangs_after_authenticate_times_out_there() {
    let (port, _) = scripted(vec![
        Step::Send("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] ready\r\n"),
        Step::Expect("A0001 CAPABILITY"),
        Step::Expect("A0002 AUTHENTICATE"),
        Step::Send("A0001 OK\r\nA0002 OK done\r\n"),
        Step::Expect("A0003 EXAMINE"),
        Step::Hang,
    ])
    .await;
    let err = probe(&settings(port), &oauth(), |_| {}).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProbeError::Timeout {
                stage: Stage::Inbox,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn missing_xoauth2_and_logindisabled() {
    let (port, _) = scripted(vec![Step::Send(
        "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
    )])
    .await;
    let err = probe(&settings(port), &oauth(), |_| {}).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProbeError::MechanismMissing {
                mechanism: "XOAUTH2",
                ..
            }
        ),
        "{err:?}"
    );

    let (port, _) = scripted(vec![Step::Send(
        "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 LOGINDISABLED] ready\r\n",
    )])
    .await;
    let basic = Credentials::Login {
        user: "u@x.com".into(),
        password: Secret::new("p"),
    };
    let err = probe(&settings(port), &basic, |_| {}).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProbeError::MechanismMissing {
                mechanism: "LOGIN",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.hint().contains("OAuth2.0"));
}

#[tokio::test]
async fn not_imap_and_refused_connections() {
    let (port, _) = scripted(vec![Step::Send("HTTP/1.1 400 Bad Request\r\n\r\n")]).await;
    let err = probe(&settings(port), &oauth(), |_| {}).await.unwrap_err();
    assert_eq!(err.stage(), Stage::Greeting, "{err:?}");

    let free = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = probe(&settings(free), &oauth(), |_| {}).await.unwrap_err();
    assert!(matches!(err, ProbeError::Connect { .. }), "{err:?}");
    assert!(err.hint().contains("outlook.office365.com"));
}

/// Probes `server` with a command timeout far beyond the test's bound: a probe that waited for
/// the answer to LOGOUT (held back by the script) would never return. The messages counted.
async fn probe_before_logouts_answer(server: &Served) -> u32 {
    let mut slow = settings(server.port);
    slow.timeouts.command = Duration::from_secs(600);
    // Not a speed check: a probe that waited for LOGOUT's answer would never return.
    tokio::time::timeout(Duration::from_secs(60), probe(&slow, &oauth(), |_| {}))
        .await
        .expect("the probe waited for the answer to LOGOUT")
        .unwrap()
        .messages
}

/// Lets the script end; the client's flights (runs of lines sent after the server spoke).
async fn flights_after_release(server: Served) -> usize {
    let _ = server.release.send(());
    server.done.await.unwrap();
    let flights = *server.flights.lock().unwrap();
    eprintln!("client lines: {:?}", server.seen.lock().unwrap());
    flights
}

/// Dovecot style (capabilities in the greeting, SASL-IR): CAPABILITY and AUTHENTICATE are
/// sent before the greeting (this server reads both before it greets: a client that waited
/// for the greeting would time out there), then EXAMINE and LOGOUT, each after an answer: the
/// client waits for two answers in all. The LOGOUT answer is held back until the probe has
/// returned, so a probe that waited for it would never return.
#[tokio::test]
async fn test_and_confirm_logs_in_before_the_greeting_and_waits_for_two_answers() {
    let server = serve(vec![
        Step::Expect("A0001 CAPABILITY"),
        Step::Expect("A0002 AUTHENTICATE XOAUTH2 "),
        Step::Send("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] ready\r\n"),
        Step::Send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\r\nA0001 OK done\r\n"),
        Step::Send("A0002 OK AUTHENTICATE completed.\r\n"),
        Step::Expect("A0003 EXAMINE \"INBOX\""),
        Step::Send("* 3 EXISTS\r\nA0003 OK [READ-ONLY] EXAMINE completed.\r\n"),
        Step::Expect("A0004 LOGOUT"),
        Step::Eof,
        Step::Release,
    ])
    .await;
    let messages = probe_before_logouts_answer(&server).await;
    assert_eq!(messages, 3);
    assert_eq!(flights_after_release(server).await, 2);
}

/// Exchange (no capabilities in the greeting): no turn more than Dovecot, since CAPABILITY
/// and AUTHENTICATE left before the greeting.
#[tokio::test]
async fn exchange_costs_no_capability_turn_more() {
    let server = serve(vec![
        Step::Expect("A0001 CAPABILITY"),
        Step::Expect(IR),
        Step::Send(EXCHANGE_GREETING),
        Step::Send(EXCHANGE_CAPS),
        Step::Send("A0001 OK CAPABILITY completed.\r\n"),
        Step::Send("A0002 OK AUTHENTICATE completed.\r\n"),
        Step::Expect("A0003 EXAMINE \"INBOX\""),
        Step::Send("* 1204 EXISTS\r\nA0003 OK [READ-ONLY] EXAMINE completed.\r\n"),
        Step::Expect("A0004 LOGOUT"),
        Step::Eof,
        Step::Release,
        Step::Send("* BYE signing off.\r\nA0004 OK LOGOUT completed.\r\n"),
    ])
    .await;
    let messages = probe_before_logouts_answer(&server).await;
    assert_eq!(messages, 1204);
    assert_eq!(flights_after_release(server).await, 2);
}

/// An intermediary that cannot take commands sent before its greeting (emailproxy could not):
/// here it hangs up after reading them. The probe connects again and sends one command at a
/// time, and the test passes.
#[tokio::test]
async fn a_server_that_drops_commands_sent_ahead_is_tested_again_one_at_a_time() {
    let server = serve_each(vec![
        vec![
            Step::Send(EXCHANGE_GREETING),
            Step::Expect("A0001 CAPABILITY"),
            Step::Expect("A0002 AUTHENTICATE XOAUTH2 "),
        ],
        vec![
            Step::Send(EXCHANGE_GREETING),
            Step::Expect("A0001 CAPABILITY"),
            Step::Send(EXCHANGE_CAPS),
            Step::Send("A0001 OK CAPABILITY completed.\r\n"),
            Step::Expect(IR),
            Step::Send("A0002 OK AUTHENTICATE completed.\r\n"),
            Step::Expect("A0003 EXAMINE \"INBOX\""),
            Step::Send("* 7 EXISTS\r\nA0003 OK [READ-ONLY] EXAMINE completed.\r\n"),
            Step::Expect("A0004 LOGOUT"),
            Step::Eof,
        ],
    ])
    .await;
    let messages = probe_before_logouts_answer(&server).await;
    assert_eq!(messages, 7);
    let _ = server.release.send(());
    server.done.await.unwrap();
}

/// A refused login is the server's word: asked once, never again one at a time.
#[tokio::test]
async fn a_refused_login_sent_ahead_is_not_asked_twice() {
    let server = serve_each(vec![vec![
        Step::Send(EXCHANGE_GREETING),
        Step::Expect("A0001 CAPABILITY"),
        Step::Expect("A0002 AUTHENTICATE XOAUTH2 "),
        Step::Send(EXCHANGE_CAPS),
        Step::Send("A0001 OK CAPABILITY completed.\r\nA0002 NO AUTHENTICATE failed.\r\n"),
        Step::Eof,
    ]])
    .await;
    let err = probe(&settings(server.port), &oauth(), |_| {}).await.unwrap_err();
    assert!(matches!(err, ProbeError::AuthRejected { .. }), "{err:?}");
    // The script served one connection; a second attempt would find no listener script left.
    server.done.await.unwrap();
}
