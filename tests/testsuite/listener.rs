//! The embedded listener on real loopback sockets.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use inbound::services::oauth::listener::{Callback, Listener, Outcome};
use std::time::Duration;

fn http() -> oauth2::reqwest::Client {
    oauth2::reqwest::ClientBuilder::new()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn get(url: &str) -> (u16, String, Option<String>) {
    let r = http().get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.text().await.unwrap(), loc)
}

const STATE: &str = "the-state-123";

async fn bind() -> Listener {
    Listener::bind(0, STATE.into(), None).await.unwrap()
}

#[tokio::test]
async fn stray_requests_get_404_and_the_listener_keeps_waiting() {
    let mut l = bind().await;
    let base = format!("http://127.0.0.1:{}", l.port());
    assert_eq!(get(&format!("{base}/favicon.ico")).await.0, 404);
    assert_eq!(get(&format!("{base}/")).await.0, 404);
    assert_eq!(
        get(&format!("{base}/microsoft_outlook/confirmX?code=a&state={STATE}"))
            .await
            .0,
        404
    );
    // wrong state: 400, nothing delivered
    let (status, body, _) = get(&format!("{base}/microsoft_outlook/confirm?code=abc&state=evil")).await;
    assert_eq!(status, 400);
    assert!(body.contains("state mismatch"));
    // no code: 400
    assert_eq!(
        get(&format!("{base}/microsoft_outlook/confirm?state={STATE}"))
            .await
            .0,
        400
    );
    // the right one is still accepted afterwards
    let url = format!("{base}/microsoft_outlook/confirm?code=M.C5_ab%2Fc&state={STATE}");
    let browser = tokio::spawn(async move { get(&url).await });
    let Some(Callback::Code { code, reply }) = l.next().await else {
        panic!("expected a code")
    };
    assert_eq!(code, "M.C5_ab/c");
    reply
        .send(Outcome::Success(
            "Outlook token is valid: signed in as a@b.c".into(),
        ))
        .unwrap();
    let (status, body, _) = browser.await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Outlook token is valid"), "{body}");
}

#[tokio::test]
async fn the_browser_page_waits_for_the_exchange_result() {
    let mut l = bind().await;
    let url = format!(
        "http://127.0.0.1:{}/microsoft_outlook/confirm?code=c1&state={STATE}",
        l.port()
    );
    let browser = tokio::spawn(async move { get(&url).await });
    let Some(Callback::Code { reply, .. }) = l.next().await else {
        panic!()
    };
    assert!(!browser.is_finished());
    reply
        .send(Outcome::Failure("Microsoft refused: invalid_grant <b>".into()))
        .unwrap();
    let (status, body, _) = browser.await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Sign-in failed"));
    assert!(body.contains("invalid_grant &lt;b&gt;"));
}

#[tokio::test]
async fn a_code_is_delivered_once_even_if_the_browser_reloads() {
    let mut l = bind().await;
    let url = format!(
        "http://127.0.0.1:{}/microsoft_outlook/confirm?code=c1&state={STATE}",
        l.port()
    );
    let u1 = url.clone();
    let first = tokio::spawn(async move { get(&u1).await });
    let Some(Callback::Code { reply, .. }) = l.next().await else {
        panic!()
    };
    // a reload while the exchange runs
    let (status, body, _) = get(&url).await;
    assert_eq!(status, 409);
    assert!(body.contains("already received"));
    reply.send(Outcome::Success("ok".into())).unwrap();
    assert_eq!(first.await.unwrap().0, 200);
    // nothing else was delivered
    assert!(
        tokio::time::timeout(Duration::from_millis(50), l.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn microsoft_errors_are_shown_and_returned() {
    let mut l = bind().await;
    let url = format!(
        "http://127.0.0.1:{}/microsoft_outlook/confirm?error=access_denied&error_description=AADSTS65004%3a+User+declined+<script>&state={STATE}",
        l.port()
    );
    let (status, body, _) = get(&url).await;
    assert_eq!(status, 200);
    assert!(body.contains("access_denied"));
    assert!(body.contains("&lt;script&gt;"));
    let Some(Callback::Denied { error, description }) = l.next().await else {
        panic!()
    };
    assert_eq!(error, "access_denied");
    assert!(description.starts_with("AADSTS65004: User declined"));
}

#[tokio::test]
async fn start_redirects_to_the_exact_authorization_url() {
    let l = bind().await;
    let base = format!("http://127.0.0.1:{}", l.port());
    assert_eq!(get(&format!("{base}/start")).await.0, 404, "nothing to start yet");
    let auth = "https://login.microsoftonline.com/t/oauth2/v2.0/authorize?client_id=x&state=y&scope=a%20b";
    l.set_start_target(auth);
    let (status, _, loc) = get(&format!("{base}/start")).await;
    assert_eq!(status, 302);
    assert_eq!(loc.as_deref(), Some(auth));
}

#[tokio::test]
async fn a_busy_port_falls_back_to_a_free_one() {
    let first = bind().await;
    let second = Listener::bind(first.port(), STATE.into(), None).await.unwrap();
    assert!(second.fell_back());
    assert_ne!(second.port(), first.port());
    assert!(!first.fell_back());
    assert_eq!(
        second.redirect_uri(),
        format!("http://localhost:{}/microsoft_outlook/confirm", second.port())
    );
}

#[tokio::test]
async fn dropping_the_listener_frees_the_port() {
    let l = bind().await;
    let port = l.port();
    drop(l);
    // The accept loop ends on cancel; a new bind on the same port must succeed.
    let mut ok = false;
    for _ in 0..100 {
        if let Ok(l2) = Listener::bind(port, STATE.into(), None).await {
            ok = !l2.fell_back();
            if ok {
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    assert!(ok, "port {port} was not freed");
}

#[tokio::test]
async fn listens_on_ipv6_loopback_too_when_available() {
    let l = bind().await;
    if l.addrs().iter().any(std::net::SocketAddr::is_ipv6) {
        let (status, _, _) = get(&format!("http://[::1]:{}/favicon.ico", l.port())).await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn a_flood_of_idle_connections_does_not_block_the_real_callback() {
    let mut l = bind().await;
    let port = l.port();
    // 100 connections that never send a byte (slowloris).
    let mut idle = Vec::new();
    for _ in 0..100 {
        if let Ok(s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            idle.push(s);
        }
    }
    // The real browser arrives while they are all still open.
    let url = format!("http://127.0.0.1:{port}/microsoft_outlook/confirm?code=c&state={STATE}");
    let browser = tokio::spawn(async move { get(&url).await });
    let Some(Callback::Code { reply, .. }) = l.next().await else {
        panic!()
    };
    reply.send(Outcome::Success("ok".into())).unwrap();
    assert_eq!(browser.await.unwrap().0, 200);
    drop(idle);
}

#[tokio::test]
async fn admin_consent_answers_are_recognised_and_the_tenant_is_only_reported() {
    let mut l = bind().await;
    let base = format!("http://127.0.0.1:{}/microsoft_outlook/confirm", l.port());
    // Another flow's state is refused as always.
    let (status, _, _) = get(&format!("{base}?admin_consent=True&tenant=t&state=evil")).await;
    assert_eq!(status, 400);
    let (status, body, _) = get(&format!(
        "{base}?admin_consent=True&tenant=aaaa%1b%5b2J&scope=x&state={STATE}"
    ))
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("Admin consent granted"), "{body}");
    let Some(Callback::AdminConsented { tenant }) = l.next().await else {
        panic!("expected an admin consent")
    };
    assert!(!tenant.contains('\u{1b}'), "peer text is cleaned: {tenant:?}");
    // One answer per state.
    let (status, _, _) = get(&format!("{base}?admin_consent=True&tenant=t&state={STATE}")).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn an_admin_consent_error_is_a_refusal_not_a_grant() {
    let mut l = bind().await;
    let url = format!(
        "http://127.0.0.1:{}/microsoft_outlook/confirm?admin_consent=True&error=consent_required&error_description=AADSTS65004%3A+declined&state={STATE}",
        l.port()
    );
    let (status, _, _) = get(&url).await;
    assert_eq!(status, 200);
    match l.next().await {
        Some(Callback::Denied { error, description }) => {
            assert_eq!(error, "consent_required");
            assert!(description.starts_with("AADSTS65004"), "{description}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
