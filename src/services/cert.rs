//! Certificate credentials with the `openssl` crate: a new RSA key and self-signed
//! certificate, importing an existing pair, thumbprints, and the RFC 7523 client assertion
//! Microsoft's "certificate credentials" article describes (header `alg`, `typ`, thumbprint;
//! claims `aud` = the token endpoint, `iss` = `sub` = the client ID, `jti`, `nbf`, `iat`,
//! `exp`). No crypto is done by hand here: keys, digests and signatures are OpenSSL's.

use crate::secret::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer};
use openssl::x509::{X509, X509NameBuilder};
use thiserror::Error;

/// RSA size Entra accepts for certificate credentials (2048 is the minimum it takes).
const RSA_BITS: u32 = 2048;
/// How long an assertion is good for: "short — 5-10 minutes after nbf at most".
const ASSERTION_LIFETIME_SECS: i64 = 600;
/// Longest lifetime `cert new` makes (the admin chooses; Entra does not cap certificates at
/// 24 months as it does secrets).
pub const MAX_MONTHS: u32 = 120;

#[derive(Debug, Error)]
pub enum CertError {
    #[error("{0}")]
    Input(String),
    #[error("OpenSSL: {0}")]
    Crypto(String),
}

fn crypto(e: openssl::error::ErrorStack) -> CertError {
    CertError::Crypto(e.to_string())
}

/// A key pair and certificate ready to store.
pub struct NewCertificate {
    pub key_pem: Secret,
    pub cert_pem: String,
    pub info: CertInfo,
}

impl std::fmt::Debug for NewCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCertificate")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The public facts of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// SHA-1 of the DER in upper-case hex (what the portal lists).
    pub thumbprint: String,
    /// Base64url SHA-1 (`x5t`) and SHA-256 (`x5t#S256`) of the DER.
    pub x5t: String,
    pub x5t_s256: String,
    pub not_after: Timestamp,
}

/// An ASN.1 time as a timestamp.
fn timestamp_of(t: &openssl::asn1::Asn1TimeRef) -> Result<Timestamp, CertError> {
    let epoch = Asn1Time::from_unix(0).map_err(crypto)?;
    let diff = epoch.diff(t).map_err(crypto)?;
    let secs = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    Timestamp::from_second(secs).map_err(|e| CertError::Input(format!("certificate date: {e}")))
}

fn info_of(cert: &X509) -> Result<CertInfo, CertError> {
    let sha1 = cert.digest(MessageDigest::sha1()).map_err(crypto)?;
    let sha256 = cert.digest(MessageDigest::sha256()).map_err(crypto)?;
    let not_after = timestamp_of(cert.not_after())?;
    Ok(CertInfo {
        thumbprint: sha1.iter().map(|b| format!("{b:02X}")).collect(),
        x5t: URL_SAFE_NO_PAD.encode(&*sha1),
        x5t_s256: URL_SAFE_NO_PAD.encode(&*sha256),
        not_after,
    })
}

/// A new 2048-bit RSA key and a self-signed certificate for `common_name`, valid `months`.
pub fn generate(common_name: &str, months: u32) -> Result<NewCertificate, CertError> {
    if !(1..=MAX_MONTHS).contains(&months) {
        return Err(CertError::Input(format!(
            "a certificate lasts 1 to {MAX_MONTHS} months (got {months})"
        )));
    }
    let rsa = Rsa::generate(RSA_BITS).map_err(crypto)?;
    let key = PKey::from_rsa(rsa).map_err(crypto)?;
    let mut name = X509NameBuilder::new().map_err(crypto)?;
    name.append_entry_by_text("CN", common_name).map_err(crypto)?;
    let name = name.build();
    let mut b = X509::builder().map_err(crypto)?;
    b.set_version(2).map_err(crypto)?;
    let mut serial = BigNum::new().map_err(crypto)?;
    serial.rand(128, MsbOption::MAYBE_ZERO, false).map_err(crypto)?;
    let serial: Asn1Integer = serial.to_asn1_integer().map_err(crypto)?;
    b.set_serial_number(&serial).map_err(crypto)?;
    b.set_subject_name(&name).map_err(crypto)?;
    b.set_issuer_name(&name).map_err(crypto)?;
    b.set_pubkey(&key).map_err(crypto)?;
    let now = Timestamp::now().as_second();
    // A few minutes back, so a clock slightly behind ours does not see a future certificate.
    let not_before = Asn1Time::from_unix(now - 300).map_err(crypto)?;
    b.set_not_before(&not_before).map_err(crypto)?;
    let days = months * 30 + months / 2;
    let not_after = Asn1Time::days_from_now(days).map_err(crypto)?;
    b.set_not_after(&not_after).map_err(crypto)?;
    b.sign(&key, MessageDigest::sha256()).map_err(crypto)?;
    let cert = b.build();
    finish(&key, &cert)
}

fn finish(key: &PKey<Private>, cert: &X509) -> Result<NewCertificate, CertError> {
    let key_pem = key.private_key_to_pem_pkcs8().map_err(crypto)?;
    let key_pem = String::from_utf8(key_pem).map_err(|_| CertError::Crypto("key PEM is not text".into()))?;
    let cert_pem = cert.to_pem().map_err(crypto)?;
    let cert_pem =
        String::from_utf8(cert_pem).map_err(|_| CertError::Crypto("certificate PEM is not text".into()))?;
    Ok(NewCertificate {
        key_pem: Secret::new(key_pem),
        cert_pem,
        info: info_of(cert)?,
    })
}

/// What to do with a key that has a passphrase.
const DECRYPT_FIRST: &str = "the private key is encrypted (it has a passphrase), and inbound never asks for one nor stores a key it decrypted for you. Decrypt it first: openssl pkey -in key.pem -out plain.pem, then put it beside the certificate (cat plain.pem cert.pem > both.pem), import both.pem and delete plain.pem and both.pem";

/// Parses a PEM private key without ever letting OpenSSL prompt for a passphrase on the
/// terminal: the passphrase callback refuses, so an encrypted key is an error that says how
/// to decrypt it first.
fn private_key(pem: &[u8]) -> Result<PKey<Private>, CertError> {
    let asked = std::cell::Cell::new(false);
    let key = PKey::private_key_from_pem_callback(pem, |_passphrase| {
        asked.set(true);
        // No passphrase: OpenSSL then fails to decrypt instead of reading the terminal.
        Ok(0)
    });
    match key {
        Ok(key) if !asked.get() => Ok(key),
        // An empty passphrase that happened to work still means the key was encrypted.
        _ if asked.get() => Err(CertError::Input(DECRYPT_FIRST.into())),
        _ => Err(CertError::Input(
            "no PEM private key in the file: put the key and the certificate in one file (cat key.pem cert.pem)".into(),
        )),
    }
}

/// Refuses a certificate outside its validity period now: Entra refuses it, and installing it
/// would replace the app's working credential with one that cannot sign in.
fn check_validity(cert: &X509, now: Timestamp) -> Result<(), CertError> {
    let not_before = timestamp_of(cert.not_before())?;
    let not_after = timestamp_of(cert.not_after())?;
    let day = |t: Timestamp| t.strftime("%Y-%m-%d %H:%M UTC").to_string();
    if not_after <= now {
        return Err(CertError::Input(format!(
            "the certificate expired on {}; Microsoft refuses an expired certificate and the app's current credential was kept. Import a current one, or make a new key pair instead of importing one",
            day(not_after)
        )));
    }
    if not_before > now {
        return Err(CertError::Input(format!(
            "the certificate is not valid before {}; Microsoft refuses it until then and the app's current credential was kept. Check this machine's clock, or import it once it is valid",
            day(not_before)
        )));
    }
    Ok(())
}

/// An existing certificate and its RSA private key, from one PEM text holding both (e.g.
/// `cat key.pem cert.pem`). The key must belong to the certificate, the certificate must be
/// valid now, and an encrypted key is refused (never prompted for).
pub fn import(pem: &str) -> Result<NewCertificate, CertError> {
    import_at(pem, Timestamp::now())
}

fn import_at(pem: &str, now: Timestamp) -> Result<NewCertificate, CertError> {
    let cert = X509::from_pem(pem.as_bytes()).map_err(|_| {
        CertError::Input("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file".into())
    })?;
    let key = private_key(pem.as_bytes())?;
    if key.rsa().is_err() {
        return Err(CertError::Input(
            "the key is not RSA: Microsoft's client assertions are signed with RSA (PS256)".into(),
        ));
    }
    let public = cert.public_key().map_err(crypto)?;
    if !key.public_eq(&public) {
        return Err(CertError::Input(
            "the private key does not belong to the certificate (their public keys differ): put the certificate's own key beside it; the app's current credential was kept".into(),
        ));
    }
    check_validity(&cert, now)?;
    finish(&key, &cert)
}

/// What a client assertion is for.
pub struct AssertionFor<'a> {
    pub client_id: &'a str,
    /// The token endpoint URL the assertion is sent to (its `aud`).
    pub token_url: &'a str,
    pub x5t: &'a str,
    pub x5t_s256: &'a str,
}

/// A PS256-signed client assertion (RSA-PSS, SHA-256, salt of the digest's length): Microsoft's
/// current "certificate credentials" article asks for `alg` PS256 and the `x5t#S256` (SHA-256)
/// thumbprint; earlier revisions named RS256 and `x5t` (SHA-1). Both thumbprint headers are
/// sent: they name the same certificate, so either check passes.
pub fn client_assertion(
    key_pem: &Secret,
    to: &AssertionFor<'_>,
    now: Timestamp,
) -> Result<Secret, CertError> {
    let key = private_key(key_pem.expose().as_bytes()).map_err(|e| match e {
        CertError::Input(m) if m == DECRYPT_FIRST => CertError::Input(format!("the stored key: {m}")),
        _ => CertError::Input("the stored private key is not a PEM key".into()),
    })?;
    let header = serde_json::json!({
        "alg": "PS256",
        "typ": "JWT",
        "x5t": to.x5t,
        "x5t#S256": to.x5t_s256,
    });
    let now = now.as_second();
    // A unique id per assertion, drawn here: the OAuth module's `state` maker sits above this
    // one (its credentials call this), so borrowing it would tie the two in a circle.
    let mut jti = [0u8; 32];
    openssl::rand::rand_bytes(&mut jti).map_err(crypto)?;
    let claims = serde_json::json!({
        "aud": to.token_url,
        "iss": to.client_id,
        "sub": to.client_id,
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "nbf": now,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signer = Signer::new(MessageDigest::sha256(), &key).map_err(crypto)?;
    signer.set_rsa_padding(Padding::PKCS1_PSS).map_err(crypto)?;
    signer
        .set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
        .map_err(crypto)?;
    signer.update(signing_input.as_bytes()).map_err(crypto)?;
    let signature = signer.sign_to_vec().map_err(crypto)?;
    Ok(Secret::new(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::sign::Verifier;

    #[test]
    fn a_new_certificate_signs_assertions_its_public_key_verifies() {
        let c = generate("inbound test", 36).unwrap();
        assert!(c.key_pem.expose().contains("PRIVATE KEY"));
        assert!(c.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let days = c.info.not_after.duration_since(Timestamp::now()).as_secs() / 86_400;
        assert!((1085..=1100).contains(&days), "{days}");
        assert_eq!(c.info.thumbprint.len(), 40);
        assert!(!format!("{c:?}").contains("PRIVATE"));

        let a = client_assertion(
            &c.key_pem,
            &AssertionFor {
                client_id: "cid",
                token_url: "https://login.microsoftonline.com/t/oauth2/v2.0/token",
                x5t: &c.info.x5t,
                x5t_s256: &c.info.x5t_s256,
            },
            Timestamp::now(),
        )
        .unwrap();
        let parts: Vec<&str> = a.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t#S256"], c.info.x5t_s256);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "cid");
        assert_eq!(claims["sub"], "cid");
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
        let cert = X509::from_pem(c.cert_pem.as_bytes()).unwrap();
        let public = cert.public_key().unwrap();
        let mut v = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        v.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
        v.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).unwrap();
        v.update(format!("{}.{}", parts[0], parts[1]).as_bytes()).unwrap();
        assert!(v.verify(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap());
    }

    #[test]
    fn import_refuses_a_certificate_outside_its_validity_and_an_encrypted_key() {
        let a = generate("a", 1).unwrap();
        let both = format!("{}{}", a.key_pem.expose(), a.cert_pem);
        let later = a.info.not_after + jiff::SignedDuration::from_secs(60);
        let err = import_at(&both, later).unwrap_err().to_string();
        assert!(err.contains("expired on"), "{err}");
        let earlier = Timestamp::now() - jiff::SignedDuration::from_hours(1);
        let err = import_at(&both, earlier).unwrap_err().to_string();
        assert!(err.contains("not valid before"), "{err}");
        assert!(import_at(&both, Timestamp::now()).is_ok());

        let key = private_key(a.key_pem.expose().as_bytes()).unwrap();
        let encrypted = key
            .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_256_cbc(), b"pw")
            .unwrap();
        let both = format!("{}{}", String::from_utf8(encrypted).unwrap(), a.cert_pem);
        let err = import(&both).unwrap_err().to_string();
        assert!(err.contains("openssl pkey -in"), "{err}");
    }

    #[test]
    fn import_wants_a_matching_key() {
        let a = generate("a", 1).unwrap();
        let b = generate("b", 1).unwrap();
        let both = format!("{}{}", a.key_pem.expose(), a.cert_pem);
        assert_eq!(import(&both).unwrap().info, a.info);
        let mixed = format!("{}{}", b.key_pem.expose(), a.cert_pem);
        assert!(
            import(&mixed)
                .unwrap_err()
                .to_string()
                .contains("does not belong")
        );
        assert!(
            import(&a.cert_pem)
                .unwrap_err()
                .to_string()
                .contains("private key")
        );
        assert!(import("junk").is_err());
        assert!(generate("x", 0).is_err());
        assert!(generate("x", MAX_MONTHS + 1).is_err());
    }
}
