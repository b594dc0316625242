//! Identifiers and tokens the stand-in mints: opaque random strings shaped like Entra's,
//! GUIDs, user codes, the PKCE transform and an id_token with v2.0 claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{Rng as _, RngCore as _};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// The `tid` claim used when the `{tenant}` path segment is not a GUID.
pub const DEFAULT_TENANT_ID: &str = "aaaabbbb-0000-cccc-1111-dddd2222eeee";

/// `BASE64URL(SHA256(verifier))`, the S256 PKCE transform.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub fn looks_like_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A stable GUID-shaped identifier derived from `seed`.
fn uuid_for(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    format_uuid(&d[..16])
}

pub fn random_uuid() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    format_uuid(&b)
}

fn format_uuid(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub fn random_token(prefix: &str, bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(b))
}

/// An `ABCD-EFGH` style user code (no I or O, which read like digits).
pub fn user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    let mut pick = || char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]);
    let first: String = (0..4).map(|_| pick()).collect();
    let second: String = (0..4).map(|_| pick()).collect();
    format!("{first}-{second}")
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A JWT with Entra v2.0 id_token claims and a random signature (nothing verifies it: the
/// product reads the account from it, as it may for an id_token received over TLS).
pub fn id_token(tenant: &str, client_id: &str, account: &str, lifetime: u64) -> String {
    let tid = if looks_like_guid(tenant) {
        tenant.to_ascii_lowercase()
    } else {
        DEFAULT_TENANT_ID.to_owned()
    };
    let now = unix_now();
    let local = account.split('@').next().unwrap_or(account);
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "stand-in-key"});
    let payload = json!({
        "aud": client_id,
        "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "name": capitalize(local),
        "oid": uuid_for(account),
        "preferred_username": account,
        "email": account,
        "sub": URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{client_id}/{account}"))),
        "tid": tid,
        "ver": "2.0",
    });
    let mut signature = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut signature);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A JWT-shaped app-only access token (Entra v1 access-token claims for a client-credentials
/// grant) with a random signature: `aud` is the resource, `roles` the consented app roles.
pub fn app_token(tenant: &str, client_id: &str, resource: &str, roles: &[String], lifetime: u64) -> String {
    let tid = if looks_like_guid(tenant) {
        tenant.to_ascii_lowercase()
    } else {
        DEFAULT_TENANT_ID.to_owned()
    };
    let now = unix_now();
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "stand-in-key"});
    let mut payload = json!({
        "aud": resource,
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "appid": client_id,
        "idtyp": "app",
        "oid": uuid_for(&format!("sp/{client_id}")),
        "sub": uuid_for(&format!("sp/{client_id}")),
        "tid": tid,
        "ver": "1.0",
    });
    if !roles.is_empty() {
        payload["roles"] = json!(roles);
    }
    let mut signature = [0u8; 64];
    rand::thread_rng().fill_bytes(&mut signature);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}
