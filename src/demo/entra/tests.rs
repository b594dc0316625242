//! The stand-in's own rules, driven through `route` without a network.

use super::http::HttpRequest;
use super::ids::pkce_challenge;
use super::*;
use http_body_util::BodyExt as _;
use hyper::body::Bytes;
use hyper::header::HeaderMap;

const TENANT: &str = "contoso.onmicrosoft.com";
const REDIRECT: &str = "http://localhost:8400/microsoft_outlook/confirm";
const VERIFIER: &str = "a-verifier-that-is-long-enough-for-pkce-0123456789";

fn entra(sign_in_page: bool) -> Entra {
    Entra::new(Settings {
        client_id: "cid".into(),
        client_secret: "s3cret~value".into(),
        accounts: vec!["user@contoso.com".into(), "other@contoso.com".into()],
        tenant: Some(TENANT.into()),
        granted_scope: GRANTED_SCOPE.into(),
        access_lifetime: 3599,
        device_interval: 1,
        device_expires_in: 900,
        verification_uri: "http://127.0.0.1:1/devicelogin".into(),
        sign_in_page,
        app_roles: Vec::new(),
        certificates: Vec::new(),
        user_consent_allowed: true,
        signed_in_user_is_admin: false,
        public_client: false,
        redirect_uris: redirect::default_registered(),
    })
}

fn request(method: Method, path: &str, query: &str, body: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        method,
        path: path.into(),
        query: query.into(),
        headers: HeaderMap::new(),
        body: Bytes::from(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(body)
                .finish(),
        ),
    }
}

fn authorize_query(extra: &[(&str, &str)]) -> String {
    let challenge = pkce_challenge(VERIFIER);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs([
        ("client_id", "cid"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", &format!("{IMAP_SCOPE} offline_access openid")),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "st4te"),
    ]);
    q.extend_pairs(extra);
    q.finish()
}

fn path(endpoint: &str) -> String {
    format!("/{TENANT}/oauth2/v2.0/{endpoint}")
}

fn body(resp: Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let bytes = futures_util::FutureExt::now_or_never(resp.into_body().collect())
        .and_then(Result::ok)
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn json_of(resp: Response) -> (u16, serde_json::Value) {
    let (status, text) = body(resp);
    (status, serde_json::from_str(&text).unwrap_or_default())
}

fn location(resp: &Response) -> url::Url {
    let l = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    url::Url::parse(l).unwrap()
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A code, through the sign-in page's "Sign in and accept".
fn code(e: &mut Entra, hint: Option<&str>) -> String {
    let extra: Vec<(&str, &str)> = hint.map(|h| ("login_hint", h)).into_iter().collect();
    let q = authorize_query(&extra);
    let resp = e.route(&request(
        Method::POST,
        &path("authorize"),
        &q,
        &[("consent", "accept")],
    ));
    assert_eq!(resp.status().as_u16(), 302);
    let to = location(&resp);
    assert!(to.as_str().starts_with(REDIRECT));
    assert_eq!(param(&to, "state").as_deref(), Some("st4te"));
    param(&to, "code").unwrap()
}

fn redeem(e: &mut Entra, code: &str, verifier: &str) -> (u16, serde_json::Value) {
    json_of(e.route(&request(
        Method::POST,
        &path("token"),
        "",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "cid"),
            ("client_secret", "s3cret~value"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )))
}

#[test]
fn authorize_shows_a_sign_in_page_whose_form_posts_back() {
    let mut e = entra(true);
    let q = authorize_query(&[("login_hint", "other@contoso.com")]);
    let (status, page) = body(e.route(&request(Method::GET, &path("authorize"), &q, &[])));
    assert_eq!(status, 200);
    assert!(page.contains("other@contoso.com"), "{page}");
    assert!(page.contains("<form method=\"post\" action=\"/contoso.onmicrosoft.com/oauth2/v2.0/authorize?"));
    // Without the page (a session already there) the redirect comes at once.
    let resp = entra(false).route(&request(Method::GET, &path("authorize"), &q, &[]));
    assert_eq!(resp.status().as_u16(), 302);
}

#[test]
fn cancel_on_the_page_redirects_with_access_denied() {
    let mut e = entra(true);
    let q = authorize_query(&[]);
    let resp = e.route(&request(
        Method::POST,
        &path("authorize"),
        &q,
        &[("consent", "cancel")],
    ));
    let to = location(&resp);
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&to, "state").as_deref(), Some("st4te"));
    assert!(param(&to, "code").is_none());
}

#[test]
fn what_entra_cannot_redirect_about_is_an_error_page() {
    let mut e = entra(true);
    let q = authorize_query(&[]).replace("client_id=cid", "client_id=nope");
    let (status, page) = body(e.route(&request(Method::GET, &path("authorize"), &q, &[])));
    assert_eq!(status, 400);
    assert!(page.contains("AADSTS700016"), "{page}");
    let (status, page) = body(e.route(&request(
        Method::GET,
        "/other.com/oauth2/v2.0/authorize",
        &authorize_query(&[]),
        &[],
    )));
    assert_eq!(status, 400);
    assert!(page.contains("AADSTS90002"), "{page}");
}

#[test]
fn pkce_is_checked() {
    let mut e = entra(true);
    let c = code(&mut e, None);
    let (status, err) = redeem(&mut e, &c, "the-wrong-verifier-0123456789-0123456789-0123");
    assert_eq!(status, 400);
    assert_eq!(err["error"], "invalid_grant");
    assert_eq!(err["error_codes"][0], 501481);
    assert!(err["trace_id"].is_string() && err["correlation_id"].is_string());
    // Without PKCE in the request there is no code at all.
    let q = authorize_query(&[]).replace("code_challenge_method=S256", "code_challenge_method=plain");
    let to = location(&e.route(&request(
        Method::POST,
        &path("authorize"),
        &q,
        &[("consent", "accept")],
    )));
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
}

#[test]
fn a_code_is_redeemed_once() {
    let mut e = entra(true);
    let c = code(&mut e, Some("other@contoso.com"));
    let (status, tokens) = redeem(&mut e, &c, VERIFIER);
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        e.access_grant(access).map(|g| g.account.as_str()),
        Some("other@contoso.com")
    );
    let (status, err) = redeem(&mut e, &c, VERIFIER);
    assert_eq!(status, 400);
    assert_eq!(err["error_codes"][1], 54005);
}

#[test]
fn a_wrong_secret_is_invalid_client() {
    let mut e = entra(true);
    let c = code(&mut e, None);
    let (status, err) = json_of(e.route(&request(
        Method::POST,
        &path("token"),
        "",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "cid"),
            ("client_secret", "not-it"),
            ("code", &c),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )));
    assert_eq!(status, 401);
    assert_eq!(err["error"], "invalid_client");
    assert_eq!(err["error_codes"][0], 7000215);
}

#[test]
fn refresh_rotates() {
    let mut e = entra(true);
    let c = code(&mut e, None);
    let (_, first) = redeem(&mut e, &c, VERIFIER);
    let refresh = |e: &mut Entra, rt: &str| {
        json_of(e.route(&request(
            Method::POST,
            &path("token"),
            "",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "cid"),
                ("client_secret", "s3cret~value"),
                ("refresh_token", rt),
            ],
        )))
    };
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = refresh(&mut e, &rt1);
    assert_eq!(status, 200);
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    let (status, err) = refresh(&mut e, &rt1);
    assert_eq!(status, 400);
    assert_eq!(err["error_codes"][0], 70008);
    assert_eq!(refresh(&mut e, &rt2).0, 200);
}

#[test]
fn device_code_is_pending_until_the_code_is_entered() {
    let mut e = entra(true);
    let (status, dc) = json_of(e.route(&request(
        Method::POST,
        &path("devicecode"),
        "",
        &[
            ("client_id", "cid"),
            ("scope", &format!("{IMAP_SCOPE} offline_access")),
        ],
    )));
    assert_eq!(status, 200);
    assert_eq!(dc["verification_uri"], "http://127.0.0.1:1/devicelogin");
    let device_code = dc["device_code"].as_str().unwrap().to_string();
    let poll = |e: &mut Entra| {
        json_of(e.route(&request(
            Method::POST,
            &path("token"),
            "",
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", "cid"),
                ("device_code", &device_code),
            ],
        )))
    };
    assert_eq!(poll(&mut e).1["error"], "authorization_pending");
    let (status, _) = body(e.route(&request(
        Method::POST,
        DEVICE_LOGIN_PATH,
        "",
        &[("user_code", "NOPE-NOPE")],
    )));
    assert_eq!(status, 400);
    let user_code = dc["user_code"].as_str().unwrap().to_lowercase();
    let (status, page) = body(e.route(&request(
        Method::POST,
        DEVICE_LOGIN_PATH,
        "",
        &[("user_code", &user_code)],
    )));
    assert_eq!(status, 200, "{page}");
    let (status, tokens) = poll(&mut e);
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(poll(&mut e).1["error_codes"][0], 70000);
}

#[test]
fn garbage_requests_get_answers_not_panics() {
    let mut e = entra(true);
    for (m, p, q) in [
        (Method::GET, "/", ""),
        (Method::GET, "/x/oauth2/v2.0/nothing", ""),
        (Method::DELETE, &*path("token"), ""),
        (Method::GET, &*path("authorize"), "%%%&&&=="),
        (Method::POST, &*path("token"), ""),
        (Method::POST, &*path("devicecode"), ""),
    ] {
        let status = e
            .route(&request(m, p, q, &[("\u{0}", "\u{ffff}")]))
            .status()
            .as_u16();
        assert!((400..500).contains(&status), "{p}: {status}");
    }
}

#[test]
fn client_credentials_want_dot_default_and_carry_the_consented_roles() {
    let mut e = entra(false);
    e.settings.app_roles = vec!["IMAP.AccessAsApp".into()];
    let form = |scope: &'static str, secret: &'static str| {
        request(
            Method::POST,
            &path("token"),
            "",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "cid"),
                ("client_secret", secret),
                ("scope", scope),
            ],
        )
    };
    let (status, v) = json_of(e.route(&form(
        "https://outlook.office365.com/IMAP.AccessAsApp",
        "s3cret~value",
    )));
    assert_eq!(status, 400);
    assert_eq!(v["error_codes"][0], 1002012);
    let (status, v) = json_of(e.route(&form("https://outlook.office365.com/.default", "wrong")));
    assert_eq!(status, 401);
    assert_eq!(v["error_codes"][0], 7000215);
    let (status, v) = json_of(e.route(&form("https://outlook.office365.com/.default", "s3cret~value")));
    assert_eq!(status, 200, "{v}");
    assert!(v.get("refresh_token").is_none() && v.get("id_token").is_none());
    let token = v["access_token"].as_str().unwrap_or_default();
    let payload = token.split('.').nth(1).unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], "https://outlook.office365.com");
    assert_eq!(claims["roles"][0], "IMAP.AccessAsApp");
    assert_eq!(claims["appid"], "cid");
}

#[test]
fn discovery_resolves_the_tenant_or_answers_aadsts90002() {
    let mut e = entra(false);
    let get = |tenant: &str| {
        request(
            Method::GET,
            &format!("/{tenant}/v2.0/.well-known/openid-configuration"),
            "",
            &[],
        )
    };
    let (status, v) = json_of(e.route(&get(TENANT)));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["issuer"],
        format!(
            "https://login.microsoftonline.com/{}/v2.0",
            ids::DEFAULT_TENANT_ID
        )
    );
    assert!(
        v["token_endpoint"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("/{TENANT}/oauth2/v2.0/token"))
    );
    let (status, v) = json_of(e.route(&get("fabrikam.com")));
    assert_eq!(status, 400);
    assert_eq!(v["error"], "invalid_tenant");
    assert_eq!(v["error_codes"][0], 90002);
    let mut any = entra(false);
    any.settings.tenant = None;
    let guid = "6f1e2d3c-0000-4a4b-8c8d-0123456789ab";
    let (_, v) = json_of(any.route(&get(guid)));
    assert_eq!(
        v["issuer"],
        format!("https://login.microsoftonline.com/{guid}/v2.0")
    );
    let (_, v) = json_of(any.route(&get("organizations")));
    assert_eq!(v["issuer"], "https://login.microsoftonline.com/{tenantid}/v2.0");
}

fn admin_query(extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs([
        ("client_id", "cid"),
        ("redirect_uri", REDIRECT),
        ("scope", crate::model::ADMIN_CONSENT_SCOPE),
        ("state", "adm1n"),
    ]);
    q.extend_pairs(extra);
    q.finish()
}

fn admin_path() -> String {
    format!("/{TENANT}/v2.0/adminconsent")
}

#[test]
fn a_locked_tenant_needs_admin_consent_then_users_sign_in() {
    let mut e = entra(false);
    e.settings.user_consent_allowed = false;
    let resp = e.route(&request(
        Method::GET,
        &path("authorize"),
        &authorize_query(&[]),
        &[],
    ));
    let to = location(&resp);
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    // As Entra answers the page's "Return to the application" link.
    assert_eq!(param(&to, "error_subcode").as_deref(), Some("cancel"));
    assert!(
        param(&to, "error_description")
            .unwrap()
            .starts_with("AADSTS65004")
    );
    assert_eq!(param(&to, "state").as_deref(), Some("st4te"));
    // The page's form cannot get around it either.
    let resp = e.route(&request(
        Method::POST,
        &path("authorize"),
        &authorize_query(&[]),
        &[("consent", "accept")],
    ));
    assert_eq!(param(&location(&resp), "error").as_deref(), Some("access_denied"));
    // A non-admin at the v2 endpoint: refused, nothing granted.
    let resp = e.route(&request(Method::GET, &admin_path(), &admin_query(&[]), &[]));
    let to = location(&resp);
    assert!(to.as_str().starts_with(REDIRECT));
    assert_eq!(param(&to, "admin_consent").as_deref(), Some("True"));
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert!(!e.has_admin_consent("cid"));
    // An admin grants; the tenant comes back as a GUID, with the scope and state.
    e.settings.signed_in_user_is_admin = true;
    let resp = e.route(&request(Method::GET, &admin_path(), &admin_query(&[]), &[]));
    let to = location(&resp);
    assert_eq!(param(&to, "admin_consent").as_deref(), Some("True"));
    assert_eq!(
        param(&to, "tenant").as_deref(),
        Some(super::ids::DEFAULT_TENANT_ID)
    );
    assert_eq!(param(&to, "state").as_deref(), Some("adm1n"));
    assert_eq!(
        param(&to, "scope").as_deref(),
        Some(crate::model::ADMIN_CONSENT_SCOPE)
    );
    assert!(param(&to, "error").is_none());
    assert!(e.has_admin_consent("cid"));
    assert!(
        param(
            &location(&e.route(&request(
                Method::GET,
                &path("authorize"),
                &authorize_query(&[]),
                &[]
            ))),
            "code"
        )
        .is_some()
    );
}

#[test]
fn the_admin_consent_page_accepts_or_cancels() {
    let mut e = entra(true);
    e.settings.signed_in_user_is_admin = true;
    let (status, page) = body(e.route(&request(Method::GET, &admin_path(), &admin_query(&[]), &[])));
    assert_eq!(status, 200);
    assert!(
        page.contains("Accept for your organization") && page.contains("method=\"post\""),
        "{page}"
    );
    let resp = e.route(&request(
        Method::POST,
        &admin_path(),
        &admin_query(&[]),
        &[("consent", "cancel")],
    ));
    let to = location(&resp);
    assert_eq!(param(&to, "error").as_deref(), Some("consent_required"));
    assert!(
        param(&to, "error_description")
            .unwrap()
            .starts_with("AADSTS65004")
    );
    assert!(!e.has_admin_consent("cid"));
    let resp = e.route(&request(
        Method::POST,
        &admin_path(),
        &admin_query(&[]),
        &[("consent", "accept")],
    ));
    assert!(param(&location(&resp), "tenant").is_some());
    assert!(e.has_admin_consent("cid"));
}

#[test]
fn admin_consent_requests_are_checked_and_the_simple_link_ends_on_a_page() {
    let mut e = entra(false);
    e.settings.signed_in_user_is_admin = true;
    e.settings.tenant = None;
    let page_of = |e: &mut Entra, path: &str, q: &str| body(e.route(&request(Method::GET, path, q, &[])));
    let (status, page) = page_of(&mut e, "/common/v2.0/adminconsent", &admin_query(&[]));
    assert_eq!(status, 400);
    assert!(page.contains("common"), "{page}");
    let (status, page) = page_of(&mut e, &admin_path(), "client_id=cid&scope=x&state=s");
    assert_eq!(status, 400);
    assert!(page.contains("AADSTS900144"), "{page}");
    let (_, page) = page_of(
        &mut e,
        &admin_path(),
        &admin_query(&[]).replace("client_id=cid", "client_id=nope"),
    );
    assert!(page.contains("AADSTS700016"), "{page}");
    assert!(!e.has_admin_consent("cid"));
    // The link to send an admin: no redirect, so Microsoft's harmless AADSTS500113 page.
    let (status, page) = page_of(&mut e, &format!("/{TENANT}/adminconsent"), "client_id=cid");
    assert_eq!(status, 200);
    assert!(
        page.contains("Permissions granted") && page.contains("AADSTS500113"),
        "{page}"
    );
    assert!(e.has_admin_consent("cid"));
}

#[test]
fn a_public_client_redeems_without_a_secret_and_refuses_one() {
    let mut e = entra(true);
    e.settings.public_client = true;
    let c = code(&mut e, None);
    let (status, v) = redeem(&mut e, &c, VERIFIER);
    assert_eq!(status, 400);
    assert_eq!(v["error_codes"][0], 700025);
    let c = code(&mut e, None);
    let (status, v) = json_of(e.route(&request(
        Method::POST,
        &path("token"),
        "",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "cid"),
            ("code", &c),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )));
    assert_eq!(status, 200, "{v}");
    // Its refresh token is a public one too.
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    let (status, v) = json_of(e.route(&request(
        Method::POST,
        &path("token"),
        "",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "cid"),
            ("refresh_token", &rt),
            ("client_secret", "s3cret~value"),
        ],
    )));
    assert_eq!(status, 400);
    assert_eq!(v["error_codes"][0], 700025);
}
