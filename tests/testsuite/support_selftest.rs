//! Self-test of the integration-test harness in `tests/support/`: the fake Entra IdP and the
//! real Dovecot it feeds. Nothing here uses the library under test.

use crate::support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::reqwest;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use support::dovecot::{self, BASIC_PASSWORD, BASIC_USER, Dovecot, INBOX_MESSAGES, OAUTH_USER};
use support::fake_idp::{
    self, DEFAULT_ACCOUNT, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeIdp, IMAP_SCOPE,
};
use support::imap::{self, ImapClient};

const TENANT: &str = "contoso.onmicrosoft.com";
/// inbound's registered redirect path on an ephemeral port (Entra ignores a loopback port).
const REDIRECT: &str = "http://localhost:53682/microsoft_outlook/confirm";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// reqwest is built without its `json` feature here.
trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        let text = self.text().await.expect("response body");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    // Numbered, not random: each call gets a new one, and a run can be repeated.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let verifier = format!("verifier-{n:020}").repeat(4);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce { verifier, challenge }
}

fn auth_url(idp: &FakeIdp, redirect_uri: &str, challenge: &str, state: &str) -> String {
    let mut url = url::Url::parse(&idp.authorize_url(TENANT)).expect("authorize url");
    url.query_pairs_mut()
        .append_pair("client_id", DEFAULT_CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &format!("{IMAP_SCOPE} offline_access openid"))
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("login_hint", DEFAULT_ACCOUNT)
        .append_pair("prompt", "select_account");
    url.into()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Runs authorize and returns the code.
async fn get_code(idp: &FakeIdp, challenge: &str) -> String {
    let location = fake_idp::authorize_redirect(&auth_url(idp, REDIRECT, challenge, "st-1")).await;
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    query_param(&location, "code").expect("code in redirect")
}

async fn post_token(idp: &FakeIdp, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http()
        .post(idp.token_url(TENANT))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = resp.status().as_u16();
    let body = resp.json_value().await;
    (status, body)
}

async fn redeem(idp: &FakeIdp, code: &str, verifier: &str) -> (u16, Value) {
    post_token(
        idp,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("scope", &format!("{IMAP_SCOPE} offline_access")),
        ],
    )
    .await
}

async fn refresh(idp: &FakeIdp, refresh_token: &str, secret: Option<&str>) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("refresh_token", refresh_token),
    ];
    if let Some(s) = secret {
        form.push(("client_secret", s));
    }
    post_token(idp, &form).await
}

/// A full sign-in through the HTTP endpoints; returns the token response.
async fn sign_in(idp: &FakeIdp) -> Value {
    let p = pkce();
    let code = get_code(idp, &p.challenge).await;
    let (status, body) = redeem(idp, &code, &p.verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn str_field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name} in {v}"))
}

/// Asserts Microsoft's error JSON shape and returns (error, error_codes).
fn assert_ms_error(body: &Value) -> (String, Vec<u64>) {
    for field in [
        "error",
        "error_description",
        "timestamp",
        "trace_id",
        "correlation_id",
    ] {
        assert!(body[field].is_string(), "missing {field} in {body}");
    }
    let description = str_field(body, "error_description");
    for part in ["\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "] {
        assert!(description.contains(part), "{part:?} not in {description:?}");
    }
    let codes: Vec<u64> = body["error_codes"]
        .as_array()
        .expect("error_codes array")
        .iter()
        .map(|c| c.as_u64().expect("numeric error code"))
        .collect();
    if let Some(first) = codes.first() {
        // Several codes may be listed (e.g. [70000, 54005]); the text names one of them.
        assert!(
            codes
                .iter()
                .any(|c| description.starts_with(&format!("AADSTS{c}: "))),
            "{description}"
        );
        assert_eq!(
            str_field(body, "error_uri"),
            format!("https://login.microsoftonline.com/error?code={first}")
        );
    }
    (str_field(body, "error").to_owned(), codes)
}

fn jwt_payload(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
        .expect("JSON payload")
}

// ---- fake IdP ---------------------------------------------------------------------------

#[tokio::test]
async fn code_flow_tokens_and_refresh_rotation() {
    let idp = FakeIdp::start().await;
    assert!(idp.authority().starts_with("http://127.0.0.1:"));
    assert!(!idp.authority().ends_with('/'));
    idp.set_access_token_lifetime(1234);

    let tokens = sign_in(&idp).await;
    assert_eq!(str_field(&tokens, "token_type"), "Bearer");
    assert_eq!(
        str_field(&tokens, "scope"),
        "https://outlook.office.com/IMAP.AccessAsUser.All openid profile email"
    );
    assert_eq!(tokens["expires_in"], 1234);
    assert_eq!(tokens["ext_expires_in"], 1234);
    let access = str_field(&tokens, "access_token");
    assert!(idp.is_valid_access_token(access));
    assert!(!idp.is_valid_access_token("nope"));
    let claims = jwt_payload(str_field(&tokens, "id_token"));
    assert_eq!(claims["preferred_username"], DEFAULT_ACCOUNT);
    assert_eq!(claims["email"], DEFAULT_ACCOUNT);
    assert_eq!(claims["aud"], DEFAULT_CLIENT_ID);
    for claim in ["name", "tid", "oid", "iss", "iat", "exp"] {
        assert!(!claims[claim].is_null(), "no {claim} in {claims}");
    }
    let form = idp.last_token_form();
    assert!(form.contains(&("grant_type".to_owned(), "authorization_code".to_owned())));
    let params = idp.last_authorize_params();
    assert!(params.contains(&("login_hint".to_owned(), DEFAULT_ACCOUNT.to_owned())));
    assert_eq!(idp.authorize_requests(), 1);

    // Rotation: the new refresh token works, the old one is dead.
    let rt1 = str_field(&tokens, "refresh_token").to_owned();
    let (status, second) = refresh(&idp, &rt1, Some(DEFAULT_CLIENT_SECRET)).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = str_field(&second, "refresh_token").to_owned();
    assert_ne!(rt1, rt2);
    assert_ne!(str_field(&second, "access_token"), access);
    let (status, err) = refresh(&idp, &rt1, Some(DEFAULT_CLIENT_SECRET)).await;
    assert_eq!(status, 400);
    assert_eq!(assert_ms_error(&err), ("invalid_grant".to_owned(), vec![70008]));

    // A web (confidential) refresh token needs the secret.
    let (status, err) = refresh(&idp, &rt2, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        assert_ms_error(&err),
        ("invalid_client".to_owned(), vec![7000218])
    );

    // HTTP Basic client authentication is accepted too.
    let resp = http()
        .post(idp.token_url(TENANT))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &rt2)])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status().as_u16(), 200);
    let third: Value = resp.json_value().await;
    assert_eq!(
        idp.last_token_basic_auth(),
        Some((DEFAULT_CLIENT_ID.to_owned(), DEFAULT_CLIENT_SECRET.to_owned()))
    );
    assert_eq!(idp.token_requests(), 5);
    assert_eq!(idp.refresh_requests(), 4);

    idp.revoke_all_refresh_tokens();
    let rt3 = str_field(&third, "refresh_token");
    let (status, err) = refresh(&idp, rt3, Some(DEFAULT_CLIENT_SECRET)).await;
    assert_eq!(status, 400);
    assert_eq!(assert_ms_error(&err), ("invalid_grant".to_owned(), vec![70008]));
}

#[tokio::test]
async fn pkce_mismatch_and_code_reuse_are_rejected() {
    let idp = FakeIdp::start().await;
    let p = pkce();
    let code = get_code(&idp, &p.challenge).await;

    let (status, err) = redeem(&idp, &code, "a-different-verifier-0123456789-0123456789").await;
    assert_eq!(status, 400);
    assert_eq!(assert_ms_error(&err), ("invalid_grant".to_owned(), vec![501481]));

    let (status, body) = redeem(&idp, &code, &p.verifier).await;
    assert_eq!(status, 200, "{body}");
    let (status, err) = redeem(&idp, &code, &p.verifier).await;
    assert_eq!(status, 400);
    assert_eq!(
        assert_ms_error(&err),
        ("invalid_grant".to_owned(), vec![70000, 54005])
    );
    assert!(str_field(&err, "error_description").starts_with("AADSTS54005: "));

    // redirect_uri must match the authorize one.
    let code = get_code(&idp, &p.challenge).await;
    let (status, err) = post_token(
        &idp,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", &code),
            ("redirect_uri", "http://localhost:1/other"),
            ("code_verifier", &p.verifier),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(assert_ms_error(&err).0, "invalid_grant");
}

#[tokio::test]
async fn client_secret_errors() {
    let idp = FakeIdp::start().await;
    idp.set_client("my-client", "the-secret");
    let p = pkce();
    let mut url = url::Url::parse(&auth_url(&idp, REDIRECT, &p.challenge, "s")).expect("url");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "client_id" {
                (k, "my-client".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let location = fake_idp::authorize_redirect(url.as_str()).await;
    let code = query_param(&location, "code").expect("code");

    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", "my-client"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", p.verifier.as_str()),
        ("client_secret", "the-secret-id-not-the-value"),
    ];
    let (status, err) = post_token(&idp, &form).await;
    assert_eq!(status, 401);
    assert_eq!(
        assert_ms_error(&err),
        ("invalid_client".to_owned(), vec![7000215])
    );
    assert!(str_field(&err, "error_description").starts_with("AADSTS7000215: Invalid client secret"));

    form.pop();
    let (status, err) = post_token(&idp, &form).await;
    assert_eq!(status, 401);
    assert_eq!(
        assert_ms_error(&err),
        ("invalid_client".to_owned(), vec![7000218])
    );

    form.push(("client_secret", "the-secret"));
    let (status, body) = post_token(&idp, &form).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn authorize_errors_and_scripted_failures() {
    let idp = FakeIdp::start().await;
    let p = pkce();
    let client = http();

    // Unknown client: Entra's own error page, no redirect.
    let url = auth_url(&idp, REDIRECT, &p.challenge, "s").replace(DEFAULT_CLIENT_ID, "bogus");
    let resp = client.get(url).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.expect("body").contains("AADSTS700016"));

    // Redirect URI that Entra would refuse.
    let resp = client
        .get(auth_url(&idp, "http://example.com/cb", &p.challenge, "s"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.expect("body").contains("AADSTS50011"));
    // A loopback redirect whose path is not registered: Entra compares the path, not the port.
    let resp = client
        .get(auth_url(
            &idp,
            "http://localhost:53682/callback",
            &p.challenge,
            "s",
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 400);
    assert!(resp.text().await.expect("body").contains("AADSTS50011"));

    // Missing offline_access: invalid_scope on the redirect.
    let url = auth_url(&idp, REDIRECT, &p.challenge, "s").replace("offline_access", "");
    let location = fake_idp::authorize_redirect(&url).await;
    assert_eq!(query_param(&location, "error").as_deref(), Some("invalid_scope"));

    // A configured failure is used once.
    idp.fail_next_authorize("access_denied", "AADSTS65004: User declined to consent.");
    let location = fake_idp::authorize_redirect(&auth_url(&idp, REDIRECT, &p.challenge, "xyz")).await;
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query_param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        query_param(&location, "error_description").as_deref(),
        Some("AADSTS65004: User declined to consent.")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    let code = get_code(&idp, &p.challenge).await;

    idp.fail_next_token(
        400,
        "invalid_grant",
        &[50076],
        "Due to a configuration change you must use MFA.",
    );
    let (status, err) = redeem(&idp, &code, &p.verifier).await;
    assert_eq!(status, 400);
    assert_eq!(assert_ms_error(&err), ("invalid_grant".to_owned(), vec![50076]));
    assert!(str_field(&err, "error_description").starts_with("AADSTS50076: Due to"));

    idp.fail_next_token_raw(503, "<html><body>Service Unavailable</body></html>");
    let resp = client
        .post(idp.token_url(TENANT))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.text().await.expect("body").contains("Service Unavailable"));

    // Failures were one-shot: the code is still redeemable.
    let (status, body) = redeem(&idp, &code, &p.verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(idp.token_requests(), 3);

    let resp = client
        .get(format!("{}/nowhere", idp.authority()))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn play_browser_visits_the_app_listener() {
    let idp = FakeIdp::start().await;
    // A minimal "app" listener that echoes the request line.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 4096];
        let n = sock.read(&mut buf).await.expect("read");
        let request = String::from_utf8_lossy(&buf[..n]).to_string();
        let first = request.lines().next().unwrap_or_default().to_owned();
        let body = format!("You can close this window. {first}");
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(resp.as_bytes()).await.expect("write");
    });
    let p = pkce();
    idp.set_redirect_uris(&["http://127.0.0.1/cb"]);
    let redirect = format!("http://127.0.0.1:{port}/cb");
    let (status, body) = fake_idp::play_browser(&auth_url(&idp, &redirect, &p.challenge, "abc")).await;
    app.await.expect("app task");
    assert_eq!(status, 200);
    assert!(body.contains("GET /cb?code="), "{body}");
    assert!(body.contains("&state=abc"), "{body}");
}

#[tokio::test]
async fn device_code_flow_is_scriptable() {
    let idp = FakeIdp::start().await;
    idp.set_device_interval(0);
    let client = http();
    let start = |scope: String| {
        client
            .post(idp.devicecode_url(TENANT))
            .form(&[("client_id", DEFAULT_CLIENT_ID), ("scope", &scope)])
            .send()
    };
    let resp = start(format!("{IMAP_SCOPE} offline_access"))
        .await
        .expect("devicecode");
    assert_eq!(resp.status().as_u16(), 200);
    let dc: Value = resp.json_value().await;
    assert_eq!(dc["interval"], 0);
    assert_eq!(dc["expires_in"], 900);
    assert_eq!(dc["verification_uri"], "https://microsoft.com/devicelogin");
    let user_code = str_field(&dc, "user_code");
    assert_eq!(user_code.len(), 9);
    assert!(str_field(&dc, "message").contains(user_code));
    let device_code = str_field(&dc, "device_code").to_owned();

    idp.script_device_poll(&["authorization_pending", "slow_down", "authorization_pending"]);
    let poll = |secret: Option<&'static str>| {
        let mut form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code".to_owned(),
            ),
            ("client_id", DEFAULT_CLIENT_ID.to_owned()),
            ("device_code", device_code.clone()),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s.to_owned()));
        }
        post_token_owned(&idp, form)
    };
    let (status, err) = poll(Some(DEFAULT_CLIENT_SECRET)).await;
    assert_eq!(status, 400);
    assert_eq!(assert_ms_error(&err), ("invalid_client".to_owned(), vec![700025]));
    for expected in ["authorization_pending", "slow_down", "authorization_pending"] {
        let (status, err) = poll(None).await;
        assert_eq!(status, 400);
        assert_eq!(assert_ms_error(&err).0, expected);
    }
    let (status, tokens) = poll(None).await;
    assert_eq!(status, 200, "{tokens}");
    let rt = str_field(&tokens, "refresh_token");
    // A device-code (public client) refresh token must be refreshed without the secret.
    let (status, err) = refresh(&idp, rt, Some(DEFAULT_CLIENT_SECRET)).await;
    assert_eq!(status, 400);
    assert_eq!(assert_ms_error(&err), ("invalid_client".to_owned(), vec![700025]));
    let (status, body) = refresh(&idp, rt, None).await;
    assert_eq!(status, 200, "{body}");

    // Other scripted outcomes, and real expiry.
    for expected in ["authorization_declined", "bad_verification_code", "expired_token"] {
        let dc: Value = start(format!("{IMAP_SCOPE} offline_access"))
            .await
            .expect("devicecode")
            .json_value()
            .await;
        let form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code".to_owned(),
            ),
            ("client_id", DEFAULT_CLIENT_ID.to_owned()),
            ("device_code", str_field(&dc, "device_code").to_owned()),
        ];
        idp.script_device_poll(&[expected]);
        let (status, err) = post_token_owned(&idp, form).await;
        assert_eq!(status, 400);
        assert_eq!(assert_ms_error(&err).0, expected);
    }
    idp.set_device_expires_in(0);
    let dc: Value = start(format!("{IMAP_SCOPE} offline_access"))
        .await
        .expect("devicecode")
        .json_value()
        .await;
    assert_eq!(dc["expires_in"], 0);
    let form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:device_code".to_owned(),
        ),
        ("client_id", DEFAULT_CLIENT_ID.to_owned()),
        ("device_code", str_field(&dc, "device_code").to_owned()),
    ];
    let (_, err) = post_token_owned(&idp, form).await;
    assert_eq!(assert_ms_error(&err).0, "expired_token");

    let resp = start("https://graph.microsoft.com/Mail.Read".to_owned())
        .await
        .expect("devicecode");
    assert_eq!(resp.status().as_u16(), 400);
    let err: Value = resp.json_value().await;
    assert_eq!(assert_ms_error(&err), ("invalid_scope".to_owned(), vec![70011]));
    assert_eq!(idp.device_code_requests(), 6);
}

async fn post_token_owned(idp: &FakeIdp, form: Vec<(&str, String)>) -> (u16, Value) {
    let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_token(idp, &borrowed).await
}

#[tokio::test]
async fn introspection_reports_live_tokens() {
    let idp = FakeIdp::start().await;
    let client = http();
    let token = str_field(&sign_in(&idp).await, "access_token").to_owned();

    let post: Value = client
        .post(idp.introspection_url())
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("introspect")
        .json_value()
        .await;
    assert_eq!(post["active"], true);
    assert_eq!(post["username"], DEFAULT_ACCOUNT);
    assert!(post["exp"].as_u64().is_some());
    let get: Value = client
        .get(format!("{}?token={token}", idp.introspection_url()))
        .send()
        .await
        .expect("introspect")
        .json_value()
        .await;
    assert_eq!(get["active"], true);
    let bearer: Value = client
        .get(idp.introspection_url())
        .bearer_auth(&token)
        .send()
        .await
        .expect("introspect")
        .json_value()
        .await;
    assert_eq!(bearer["active"], true);

    let bogus: Value = client
        .post(idp.introspection_url())
        .form(&[("token", "bogus")])
        .send()
        .await
        .expect("introspect")
        .json_value()
        .await;
    assert_eq!(bogus, serde_json::json!({"active": false}));

    idp.expire_all_access_tokens();
    assert!(!idp.is_valid_access_token(&token));
    idp.set_access_token_lifetime(0);
    idp.set_account("carol@example.com");
    let tokens = sign_in(&idp).await;
    assert_eq!(tokens["expires_in"], 0);
    assert_eq!(
        jwt_payload(str_field(&tokens, "id_token"))["preferred_username"],
        "carol@example.com"
    );
    for t in [token.as_str(), str_field(&tokens, "access_token")] {
        let v: Value = client
            .post(idp.introspection_url())
            .form(&[("token", t)])
            .send()
            .await
            .expect("introspect")
            .json_value()
            .await;
        assert_eq!(v["active"], false);
    }
    assert_eq!(idp.introspection_requests(), 6);
}

// ---- Dovecot ----------------------------------------------------------------------------

#[tokio::test]
async fn dovecot_accepts_fake_idp_tokens_and_passwords() {
    let idp = FakeIdp::start().await;
    let Some(server) = Dovecot::start(&idp.introspection_url()) else {
        return;
    };
    let token = str_field(&sign_in(&idp).await, "access_token").to_owned();

    // XOAUTH2 with a live token.
    let mut c = ImapClient::connect(server.port, &server.ca_file).await;
    assert!(c.greeting().contains("AUTH=XOAUTH2"), "{}", c.greeting());
    assert!(c.greeting().contains("SASL-IR"), "{}", c.greeting());
    let reply = c
        .authenticate("XOAUTH2", &imap::xoauth2(OAUTH_USER, &token))
        .await;
    assert!(reply.is_ok(), "{reply:?}\n{}", server.diagnostics());
    let reply = c.command("EXAMINE INBOX").await;
    assert!(reply.is_ok(), "{reply:?}");
    let exists = format!("* {INBOX_MESSAGES} EXISTS");
    assert!(reply.lines.contains(&exists), "{reply:?}");
    let reply = c.command("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]").await;
    assert!(
        reply.lines.iter().any(|l| l == "Subject: Test message 1"),
        "{reply:?}"
    );
    let reply = c.command("LOGOUT").await;
    assert!(reply.is_ok(), "{reply:?}");

    // OAUTHBEARER with the same token.
    let mut c = ImapClient::connect(server.port, &server.ca_file).await;
    let reply = c
        .authenticate("OAUTHBEARER", &imap::oauthbearer(OAUTH_USER, &token))
        .await;
    assert!(reply.is_ok(), "{reply:?}\n{}", server.diagnostics());

    // A bogus token: Dovecot sends a `+ <base64 JSON>` challenge, then NO.
    let mut c = ImapClient::connect(server.port, &server.ca_file).await;
    let reply = c
        .authenticate("XOAUTH2", &imap::xoauth2(OAUTH_USER, "bogus-token"))
        .await;
    assert!(reply.status.starts_with("NO"), "{reply:?}");
    let challenge = reply
        .lines
        .iter()
        .find_map(|l| imap::decode_challenge(l))
        .unwrap_or_else(|| panic!("no + challenge in {reply:?}"));
    let json: Value = serde_json::from_str(&challenge).expect("challenge is JSON");
    // Dovecot 2.3 answers {"status":"401","schemes":"bearer","scope":"mail"}.
    assert_eq!(json["status"], "401", "{challenge}");
    assert_eq!(json["schemes"], "bearer", "{challenge}");
    // The connection is still usable after a failed AUTHENTICATE.
    let reply = c.command("NOOP").await;
    assert!(reply.is_ok(), "{reply:?}");

    // An expired token is refused too (Dovecot does not cache).
    idp.expire_all_access_tokens();
    let reply = c
        .authenticate("XOAUTH2", &imap::xoauth2(OAUTH_USER, &token))
        .await;
    assert!(reply.status.starts_with("NO"), "{reply:?}");

    // A token for alice cannot open bob's mailbox.
    let other = idp.mint_access_token(OAUTH_USER);
    let reply = c
        .authenticate("XOAUTH2", &imap::xoauth2(BASIC_USER, &other))
        .await;
    assert!(reply.status.starts_with("NO"), "{reply:?}");
    assert!(idp.introspection_requests() >= 4);

    // Classic LOGIN for the password user; a wrong password is refused.
    let mut c = ImapClient::connect(server.port, &server.ca_file).await;
    let reply = c.command(&format!("LOGIN {BASIC_USER} wrong-password")).await;
    assert!(reply.status.starts_with("NO"), "{reply:?}");
    let reply = c.command(&format!("LOGIN {BASIC_USER} {BASIC_PASSWORD}")).await;
    assert!(reply.is_ok(), "{reply:?}\n{}", server.diagnostics());

    // Delivering a message shows up as a new one.
    server.deliver(BASIC_USER, dovecot::sample_message(BASIC_USER, 9).as_bytes());
    let reply = c.command("EXAMINE INBOX").await;
    let exists = format!("* {} EXISTS", INBOX_MESSAGES + 1);
    assert!(reply.lines.contains(&exists), "{reply:?}");
    let reply = c.command("LIST \"\" \"*\"").await;
    assert!(
        reply
            .lines
            .iter()
            .any(|l| l.contains("\\Sent") && l.contains("\"Sent Items\"")),
        "{reply:?}"
    );
}

#[tokio::test]
async fn dovecot_certificate_is_rejected_with_another_ca() {
    let idp = FakeIdp::start().await;
    let Some(server) = Dovecot::start(&idp.introspection_url()) else {
        return;
    };
    use tokio_native_tls::native_tls;
    let pem = std::fs::read(support::tls_fixture("other-ca.pem")).expect("other-ca.pem");
    let connector = native_tls::TlsConnector::builder()
        .add_root_certificate(native_tls::Certificate::from_pem(&pem).expect("pem"))
        .build()
        .expect("connector");
    let connector = tokio_native_tls::TlsConnector::from(connector);
    let tcp = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let err = connector
        .connect("localhost", tcp)
        .await
        .expect_err("handshake must fail with an unrelated CA");
    assert!(err.to_string().contains("certificate verify failed"), "{err}");
}
