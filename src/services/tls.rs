//! TLS client setup, once per process.
//!
//! Building a native-tls connector loads the system trust store (OpenSSL reads the bundle
//! twice: its default paths, then openssl-probe's), tens of milliseconds of CPU. So one
//! connector with the system roots (`SSL_CERT_FILE` honoured) is built once, off the async
//! threads, and shared by every IMAP probe and the HTTPS client; a server's `ca_file` adds
//! one more, cached by path and modification time.

use crate::services::imap::ProbeError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::SystemTime;
use tokio::sync::OnceCell;
use tokio_native_tls::native_tls;

type Slot = Arc<OnceCell<native_tls::TlsConnector>>;

/// `None`: system roots only. A changed file gets a new key, so edits are picked up.
type Key = Option<(PathBuf, Option<SystemTime>, u64)>;

static CONNECTORS: LazyLock<Mutex<HashMap<Key, Slot>>> = LazyLock::new(Default::default);

fn slot(key: Key) -> Slot {
    let mut map = CONNECTORS.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key).or_default().clone()
}

fn key(ca_file: Option<&Path>) -> Key {
    ca_file.map(|p| {
        let meta = std::fs::metadata(p).ok();
        (
            p.to_path_buf(),
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.map_or(0, |m| m.len()),
        )
    })
}

/// The shared connector for `ca_file` (or the system roots), built on first use on a blocking
/// thread; concurrent callers wait for the one build. Failures are not cached.
pub async fn connector(ca_file: Option<&Path>) -> Result<native_tls::TlsConnector, ProbeError> {
    let cell = slot(key(ca_file));
    if let Some(c) = cell.get() {
        return Ok(c.clone());
    }
    let path = ca_file.map(Path::to_path_buf);
    cell.get_or_try_init(|| async move {
        tokio::task::spawn_blocking(move || tls_connector(path.as_ref()))
            .await
            .map_err(|e| ProbeError::Tls {
                host: String::new(),
                message: e.to_string(),
            })?
    })
    .await
    .cloned()
}

/// Starts building the connector for `ca_file` in the background, so that it is ready by the
/// time a TCP connection is.
pub fn warm(ca_file: Option<&Path>) {
    if tokio::runtime::Handle::try_current().is_ok() {
        let path = ca_file.map(Path::to_path_buf);
        tokio::spawn(async move {
            let _ = connector(path.as_deref()).await;
        });
    }
}

/// A CA bundle is a few KiB, or a few hundred for a whole system store.
const MAX_CA_FILE: u64 = 8 << 20;

/// Reads a CA file: a regular file (a FIFO put in its place must not block the test) of
/// bounded size.
fn read_ca_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_CA_FILE {
        return Err(std::io::Error::other(format!(
            "{} bytes is too large for a CA file",
            meta.len()
        )));
    }
    let mut pem = Vec::new();
    file.take(MAX_CA_FILE).read_to_end(&mut pem)?;
    Ok(pem)
}

/// Builds a connector: system roots (OpenSSL honours `SSL_CERT_FILE`), plus `ca_file`.
/// Blocking and slow; [`connector`] caches it.
pub fn tls_connector(ca_file: Option<&PathBuf>) -> Result<native_tls::TlsConnector, ProbeError> {
    let mut builder = native_tls::TlsConnector::builder();
    builder.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
    if let Some(path) = ca_file {
        let pem = read_ca_file(path).map_err(|e| ProbeError::CaFile {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let certs = pem_blocks(&pem);
        if certs.is_empty() {
            return Err(ProbeError::CaFile {
                path: path.clone(),
                message: "no PEM certificate found".into(),
            });
        }
        for block in certs {
            let cert = native_tls::Certificate::from_pem(&block).map_err(|e| ProbeError::CaFile {
                path: path.clone(),
                message: e.to_string(),
            })?;
            builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| ProbeError::Tls {
        host: String::new(),
        message: e.to_string(),
    })
}

/// Splits a PEM bundle; `Certificate::from_pem` reads only the first certificate.
fn pem_blocks(pem: &[u8]) -> Vec<Vec<u8>> {
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let Some(end) = rest[start..].find(END) else {
            break;
        };
        let stop = start + end + END.len();
        out.push(rest.as_bytes()[start..stop].to_vec());
        rest = &rest[stop..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_bundles_are_split() {
        let two = b"x\n-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBB\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_blocks(two).len(), 2);
        assert!(pem_blocks(b"nothing").is_empty());
    }

    #[tokio::test]
    async fn one_build_is_shared() {
        let (a, b) = tokio::join!(connector(None), connector(None));
        assert!(a.is_ok() && b.is_ok());
        assert!(slot(None).get().is_some(), "kept for the next caller");
    }

    #[tokio::test]
    async fn an_unreadable_ca_file_is_a_ca_error() {
        let err = connector(Some(Path::new("/nonexistent/ca.pem")))
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::CaFile { .. }), "{err:?}");
    }
}
