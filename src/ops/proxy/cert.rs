//! The proxy's TLS certificate: a CA and a server certificate it signs, made with OpenSSL on
//! the first start with TLS and kept in the store (`proxy-tls/`), so clients trust the CA file
//! once.

use crate::services::local_ca;
use crate::store::{ProxyTls, Store, StoreError};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("making the proxy's certificate failed: {0}")]
    Make(#[from] openssl::error::ErrorStack),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the proxy's certificate in {path} cannot be used: {message}; move the proxy-tls directory away to make a new one"
    )]
    Unusable { path: String, message: String },
}

/// The identity, whether it was made now, and the CA's SHA-256 fingerprint.
#[derive(Debug)]
pub struct Certificate {
    pub tls: ProxyTls,
    pub made_now: bool,
    pub fingerprint: String,
}

/// The stored identity, or a new one for `localhost`, loopback, this host's name and `extra`
/// addresses (the non-loopback ones the proxy listens on).
pub fn ensure(store: &Store, extra: &[IpAddr]) -> Result<Certificate, CertError> {
    let (tls, made_now) = match store.read_proxy_tls()? {
        Some(tls) => (tls, false),
        None => {
            let (ca, cert, key) = make(extra)?;
            store.write_proxy_tls(&ca, &cert, &key)?;
            let tls = store.read_proxy_tls()?.ok_or_else(|| CertError::Unusable {
                path: store.proxy_ca_path().display().to_string(),
                message: "written but not found".into(),
            })?;
            (tls, true)
        }
    };
    let fingerprint = fingerprint(&tls.ca_pem).map_err(|message| CertError::Unusable {
        path: tls.ca_file.display().to_string(),
        message,
    })?;
    Ok(Certificate {
        tls,
        made_now,
        fingerprint,
    })
}

fn make(extra: &[IpAddr]) -> Result<(String, String, String), openssl::error::ErrorStack> {
    let mut names = vec!["localhost".to_string()];
    if let Some(host) = hostname() {
        names.push(host);
    }
    let mut ips = vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];
    ips.extend(
        extra
            .iter()
            .filter(|ip| !ip.is_loopback() && !ip.is_unspecified()),
    );
    let tls = local_ca::make("inbound IMAP proxy CA (this machine only)", &names, &ips)?;
    Ok((tls.ca_pem, tls.cert_pem, tls.key_pem))
}

fn hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?
        .trim()
        .to_string();
    let ok = !name.is_empty()
        && name != "localhost"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ok.then_some(name)
}

/// SHA-256 of the CA certificate (DER), as `AB:CD:…` the way browsers and openssl show it.
pub fn fingerprint(ca_pem: &str) -> Result<String, String> {
    let cert = openssl::x509::X509::from_pem(ca_pem.as_bytes()).map_err(|e| e.to_string())?;
    let der = cert.to_der().map_err(|e| e.to_string())?;
    Ok(Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// The TLS acceptor for the stored identity (server certificate, then the CA, as the chain).
pub fn acceptor(tls: &ProxyTls) -> Result<tokio_native_tls::TlsAcceptor, CertError> {
    let chain = format!("{}\n{}", tls.cert_pem.trim_end(), tls.ca_pem);
    let unusable = |e: tokio_native_tls::native_tls::Error| CertError::Unusable {
        path: tls.ca_file.display().to_string(),
        message: e.to_string(),
    };
    let id =
        tokio_native_tls::native_tls::Identity::from_pkcs8(chain.as_bytes(), tls.key_pem.expose().as_bytes())
            .map_err(unusable)?;
    let acceptor = tokio_native_tls::native_tls::TlsAcceptor::builder(id)
        .min_protocol_version(Some(tokio_native_tls::native_tls::Protocol::Tlsv12))
        .build()
        .map_err(unusable)?;
    Ok(tokio_native_tls::TlsAcceptor::from(acceptor))
}
