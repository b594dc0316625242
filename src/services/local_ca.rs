//! A CA and a server certificate it signs, for TLS that only this machine's clients trust: the
//! IMAP proxy's listener and the demo's IMAP server. Made with OpenSSL, which the TLS stack
//! links already (a second crypto library for this, rcgen with ring, was a quarter of a
//! megabyte of the binary). Keys are ECDSA P-256, as they were.

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Name, X509NameBuilder};
use std::net::IpAddr;

/// Valid from 1975 to 4096, like the certificates made before: a CA file that clients were
/// told to trust once must not expire under them.
const NOT_BEFORE: &str = "19750101000000Z";
const NOT_AFTER: &str = "40960101000000Z";

/// PEM texts of a CA, a server certificate it signed, and the server's key (PKCS #8).
pub struct LocalTls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for LocalTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalTls([keys redacted])")
    }
}

fn p256_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn common_name(cn: &str) -> Result<X509Name, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    Ok(name.build())
}

/// Version 3, a random serial, the subject, its key and the validity.
fn builder(subject: &X509Name, key: &PKey<Private>) -> Result<X509Builder, ErrorStack> {
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(subject)?;
    b.set_pubkey(key)?;
    let (not_before, not_after) = (Asn1Time::from_str(NOT_BEFORE)?, Asn1Time::from_str(NOT_AFTER)?);
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    Ok(b)
}

fn pem(bytes: Vec<u8>) -> String {
    // PEM is ASCII by definition.
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A new CA named `ca_name` (it may sign server certificates only, no further CAs) and a
/// certificate for `localhost` it signed, valid for `dns_names` and `ips`.
pub fn make(ca_name: &str, dns_names: &[String], ips: &[IpAddr]) -> Result<LocalTls, ErrorStack> {
    let ca_key = p256_key()?;
    let ca_subject = common_name(ca_name)?;
    let mut ca = builder(&ca_subject, &ca_key)?;
    ca.set_issuer_name(&ca_subject)?;
    ca.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
    ca.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&ca.x509v3_context(None, None))?;
    ca.append_extension(ski)?;
    ca.sign(&ca_key, MessageDigest::sha256())?;
    let ca = ca.build();

    let key = p256_key()?;
    let mut server = builder(&common_name("localhost")?, &key)?;
    server.set_issuer_name(ca.subject_name())?;
    let mut san = SubjectAlternativeName::new();
    for name in dns_names {
        san.dns(name);
    }
    for ip in ips {
        san.ip(&ip.to_string());
    }
    let san = san.build(&server.x509v3_context(Some(&ca), None))?;
    server.append_extension(san)?;
    let ski = SubjectKeyIdentifier::new().build(&server.x509v3_context(Some(&ca), None))?;
    server.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&server.x509v3_context(Some(&ca), None))?;
    server.append_extension(aki)?;
    server.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    server.sign(&ca_key, MessageDigest::sha256())?;
    let cert = server.build();

    Ok(LocalTls {
        ca_pem: pem(ca.to_pem()?),
        cert_pem: pem(cert.to_pem()?),
        key_pem: pem(key.private_key_to_pem_pkcs8()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::{X509StoreContext, X509VerifyResult};
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn the_server_certificate_chains_to_the_ca_and_names_what_it_was_made_for() {
        let tls = make(
            "test CA",
            &["localhost".into(), "host.example".into()],
            &[IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
        )
        .unwrap();
        let ca = X509::from_pem(tls.ca_pem.as_bytes()).unwrap();
        let cert = X509::from_pem(tls.cert_pem.as_bytes()).unwrap();
        let key = PKey::private_key_from_pem(tls.key_pem.as_bytes()).unwrap();
        assert!(
            cert.public_key().unwrap().public_eq(&key),
            "the key is the certificate's"
        );
        let mut store = X509StoreBuilder::new().unwrap();
        store.add_cert(ca.clone()).unwrap();
        let store = store.build();
        let mut ctx = X509StoreContext::new().unwrap();
        let verified = ctx
            .init(&store, &cert, &Stack::new().unwrap(), |c| {
                c.verify_cert()?;
                Ok(c.error())
            })
            .unwrap();
        assert_eq!(verified, X509VerifyResult::OK);
        let names: Vec<String> = cert
            .subject_alt_names()
            .unwrap()
            .iter()
            .map(|n| {
                n.dnsname().map(str::to_string).unwrap_or_else(|| {
                    let ip = n.ipaddress().unwrap();
                    match ip.len() {
                        4 => IpAddr::from(<[u8; 4]>::try_from(ip).unwrap()).to_string(),
                        _ => IpAddr::from(<[u8; 16]>::try_from(ip).unwrap()).to_string(),
                    }
                })
            })
            .collect();
        assert_eq!(names, ["localhost", "host.example", "127.0.0.1", "::1"]);
        assert!(tls.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS #8");
        assert!(!format!("{tls:?}").contains("PRIVATE"), "no key in Debug");
    }
}
