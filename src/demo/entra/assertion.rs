//! Client-assertion verification (RFC 7523 `private_key_jwt`), as Entra does it for a
//! certificate credential: the thumbprint header (`x5t#S256` or `x5t`) picks a registered
//! certificate, its public key checks the RS256/PS256 signature, `iss`/`sub` must be the
//! client ID, `aud` the token endpoint, and the time range must hold. Each failure gets the
//! AADSTS code Entra answers with (700027, 700021, 700023, 700024, 50027).

use super::http::{ErrorResponse, ms_error};
use super::ids::unix_now;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::hash::MessageDigest;
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use openssl::x509::X509;
use serde_json::Value;

/// Clock skew Entra tolerates on `nbf`/`exp` (a few minutes).
const SKEW_SECS: i64 = 300;

fn malformed(why: &str) -> ErrorResponse {
    ms_error(
        400,
        "invalid_client",
        &[50027],
        &format!("AADSTS50027: JWT token is invalid or malformed ({why})."),
    )
}

fn invalid_signature(reason: &str) -> ErrorResponse {
    ms_error(
        401,
        "invalid_client",
        &[700027],
        &format!("AADSTS700027: Client assertion contains an invalid signature. [Reason - {reason}]"),
    )
}

fn part(s: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?).ok()
}

/// Checks `assertion` for `client_id` at `/{tenant}/oauth2/v2.0/token` against the
/// certificates (PEM) registered for the app.
pub fn verify(
    assertion: &str,
    client_id: &str,
    tenant: &str,
    certificates: &[String],
) -> Result<(), ErrorResponse> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [h, c, sig] = parts.as_slice() else {
        return Err(malformed("not three dot-separated parts"));
    };
    let header = part(h).ok_or_else(|| malformed("the header is not base64url JSON"))?;
    let claims = part(c).ok_or_else(|| malformed("the payload is not base64url JSON"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(sig.trim_end_matches('='))
        .map_err(|_| malformed("the signature is not base64url"))?;
    let alg = header["alg"].as_str().unwrap_or_default();
    if alg != "RS256" && alg != "PS256" {
        return Err(malformed(&format!("alg '{alg}' is not RS256 or PS256")));
    }
    let s256 = header["x5t#S256"].as_str();
    let s1 = header["x5t"].as_str();
    if s256.is_none() && s1.is_none() {
        return Err(invalid_signature(
            "The key was not found. The assertion has no x5t#S256 or x5t header.",
        ));
    }
    let thumb = |cert: &X509, digest: MessageDigest| {
        cert.digest(digest)
            .map(|d| URL_SAFE_NO_PAD.encode(&*d))
            .unwrap_or_default()
    };
    let cert = certificates
        .iter()
        .filter_map(|pem| X509::from_pem(pem.as_bytes()).ok())
        .find(|cert| {
            s256.is_some_and(|t| t == thumb(cert, MessageDigest::sha256()))
                || s1.is_some_and(|t| t == thumb(cert, MessageDigest::sha1()))
        })
        .ok_or_else(|| {
            invalid_signature(&format!(
                "The key was not found., Thumbprint of key used by client: '{}'. Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.",
                s256.or(s1).unwrap_or_default()
            ))
        })?;
    let key = cert
        .public_key()
        .map_err(|_| invalid_signature("The registered certificate has no usable key."))?;
    let verified = Verifier::new(MessageDigest::sha256(), &key).and_then(|mut v| {
        if alg == "PS256" {
            v.set_rsa_padding(Padding::PKCS1_PSS)?;
            v.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
        }
        v.update(format!("{h}.{c}").as_bytes())?;
        v.verify(&signature)
    });
    if !verified.unwrap_or(false) {
        return Err(invalid_signature(
            "The provided signature value did not match the expected signature value.",
        ));
    }
    if claims["iss"].as_str() != Some(client_id) || claims["sub"].as_str() != Some(client_id) {
        return Err(ms_error(
            400,
            "invalid_client",
            &[700021],
            "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let aud = claims["aud"].as_str().unwrap_or_default();
    let want = format!("/{tenant}/oauth2/v2.0/token");
    if !(aud.starts_with("http://") || aud.starts_with("https://")) || !aud.ends_with(&want) {
        return Err(ms_error(
            400,
            "invalid_client",
            &[700023],
            &format!("AADSTS700023: Client assertion audience claim does not match Realm issuer ('{aud}')."),
        ));
    }
    let now = i64::try_from(unix_now()).unwrap_or(i64::MAX);
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let nbf = claims["nbf"].as_i64().unwrap_or(0);
    if exp + SKEW_SECS <= now || nbf - SKEW_SECS > now {
        return Err(ms_error(
            400,
            "invalid_client",
            &[700024],
            &format!(
                "AADSTS700024: Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}."
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::cert::{self, NewCertificate};
    use openssl::pkey::PKey;
    use openssl::sign::Signer;
    use serde_json::json;

    const TOKEN_URL: &str = "http://127.0.0.1:1/contoso.com/oauth2/v2.0/token";

    fn sign(key: &NewCertificate, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let pkey = PKey::private_key_from_pem(key.key_pem.expose().as_bytes()).unwrap();
        let mut s = Signer::new(MessageDigest::sha256(), &pkey).unwrap();
        s.update(input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(s.sign_to_vec().unwrap()))
    }

    fn claims(aud: &str, iss: &str, exp_in: i64) -> Value {
        let now = i64::try_from(unix_now()).unwrap();
        json!({"aud": aud, "iss": iss, "sub": iss, "jti": "j", "nbf": now, "iat": now, "exp": now + exp_in})
    }

    fn code(r: Result<(), ErrorResponse>) -> u64 {
        use http_body_util::BodyExt as _;
        let resp = *r.expect_err("should be refused");
        let bytes = futures_util::FutureExt::now_or_never(resp.into_body().collect())
            .and_then(Result::ok)
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        v["error_codes"][0].as_u64().unwrap()
    }

    #[test]
    fn each_wrong_assertion_gets_entras_error() {
        let good = cert::generate("good", 1).unwrap();
        let other = cert::generate("other", 1).unwrap();
        let registered = vec![good.cert_pem.clone()];
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t#S256": good.info.x5t_s256});
        let ok = sign(&good, &header, &claims(TOKEN_URL, "cid", 600));
        assert!(verify(&ok, "cid", "contoso.com", &registered).is_ok());
        // x5t (SHA-1) alone is accepted too.
        let sha1 = json!({"alg": "RS256", "typ": "JWT", "x5t": good.info.x5t});
        assert!(
            verify(
                &sign(&good, &sha1, &claims(TOKEN_URL, "cid", 600)),
                "cid",
                "contoso.com",
                &registered
            )
            .is_ok()
        );
        // The product's own assertion passes.
        let ours = cert::client_assertion(
            &good.key_pem,
            &cert::AssertionFor {
                client_id: "cid",
                token_url: TOKEN_URL,
                x5t: &good.info.x5t,
                x5t_s256: &good.info.x5t_s256,
            },
            jiff::Timestamp::now(),
        )
        .unwrap();
        assert!(verify(ours.expose(), "cid", "contoso.com", &registered).is_ok());

        // A certificate the app does not have.
        let unknown = json!({"alg": "RS256", "x5t#S256": other.info.x5t_s256});
        assert_eq!(
            code(verify(
                &sign(&other, &unknown, &claims(TOKEN_URL, "cid", 600)),
                "cid",
                "contoso.com",
                &registered
            )),
            700027
        );
        // The registered thumbprint, signed with another key.
        assert_eq!(
            code(verify(
                &sign(&other, &header, &claims(TOKEN_URL, "cid", 600)),
                "cid",
                "contoso.com",
                &registered
            )),
            700027
        );
        // No thumbprint header.
        let bare = json!({"alg": "RS256"});
        assert_eq!(
            code(verify(
                &sign(&good, &bare, &claims(TOKEN_URL, "cid", 600)),
                "cid",
                "contoso.com",
                &registered
            )),
            700027
        );
        // Wrong audience, issuer, expiry.
        let aud = "https://login.microsoftonline.com/fabrikam.com/oauth2/v2.0/token";
        assert_eq!(
            code(verify(
                &sign(&good, &header, &claims(aud, "cid", 600)),
                "cid",
                "contoso.com",
                &registered
            )),
            700023
        );
        assert_eq!(
            code(verify(
                &sign(&good, &header, &claims(TOKEN_URL, "someone", 600)),
                "cid",
                "contoso.com",
                &registered
            )),
            700021
        );
        assert_eq!(
            code(verify(
                &sign(&good, &header, &claims(TOKEN_URL, "cid", -3600)),
                "cid",
                "contoso.com",
                &registered
            )),
            700024
        );
        // Garbage.
        assert_eq!(code(verify("a.b", "cid", "contoso.com", &registered)), 50027);
        assert_eq!(code(verify("!!.??.**", "cid", "contoso.com", &registered)), 50027);
    }
}
