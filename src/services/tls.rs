//! TLS client setup, once per process.
//!
//! IMAP connections use a context built straight on OpenSSL from what the connection needs:
//! a server's `ca_file` alone when it has one, else the system trust store (`SSL_CERT_FILE`
//! honoured), its bundle parsed once. native-tls, which the HTTPS client needs, cannot do
//! either: it always parses the system bundle, twice (OpenSSL's default paths, then
//! openssl-probe's), tens of milliseconds of CPU even when a CA file is all the server needs.
//! Each context is built once per process, off the async threads, and cached by CA file path
//! and modification time, so `test --all` pays for one build.

use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use openssl::x509::verify::X509CheckFlags;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::SystemTime;
use tokio::sync::OnceCell;
use tokio_native_tls::native_tls;

/// Why a TLS context or session could not be made (the IMAP probe reports it as its own
/// [`ProbeError`](crate::services::imap::ProbeError)).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS with {host} failed: {message}")]
    Tls { host: String, message: String },
    #[error("CA file {path}: {message}")]
    CaFile { path: PathBuf, message: String },
}

/// The client context of IMAP connections (cheap to clone: a reference count).
pub type ClientContext = SslContext;

type Slot = Arc<OnceCell<ClientContext>>;

/// `None`: system roots only. A changed file gets a new key, so edits are picked up.
type Key = Option<(PathBuf, Option<SystemTime>, u64)>;

static CONTEXTS: LazyLock<Mutex<HashMap<Key, Slot>>> = LazyLock::new(Default::default);

fn slot(key: Key) -> Slot {
    let mut map = CONTEXTS.lock().unwrap_or_else(|p| p.into_inner());
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

/// The shared IMAP client context for `ca_file` (or the system roots), built on first use on a
/// blocking thread; concurrent callers wait for the one build. Failures are not cached.
pub async fn connector(ca_file: Option<&Path>) -> Result<ClientContext, TlsError> {
    let cell = slot(key(ca_file));
    if let Some(c) = cell.get() {
        return Ok(c.clone());
    }
    let path = ca_file.map(Path::to_path_buf);
    cell.get_or_try_init(|| async move {
        tokio::task::spawn_blocking(move || tls_connector(path.as_ref()))
            .await
            .map_err(|e| TlsError::Tls {
                host: String::new(),
                message: e.to_string(),
            })?
    })
    .await
    .cloned()
}

/// Starts building the context for `ca_file` in the background, so that it is ready by the
/// time a TCP connection is.
pub fn warm(ca_file: Option<&Path>) {
    if tokio::runtime::Handle::try_current().is_ok() {
        let path = ca_file.map(Path::to_path_buf);
        tokio::spawn(async move {
            let _ = connector(path.as_deref()).await;
        });
    }
}

/// The native-tls connector of the HTTPS client (reqwest takes no other kind), with the system
/// roots; built once per process on a blocking thread, only when a token request needs it.
pub async fn http_connector() -> Result<native_tls::TlsConnector, TlsError> {
    static HTTP: OnceCell<native_tls::TlsConnector> = OnceCell::const_new();
    HTTP.get_or_try_init(|| async {
        tokio::task::spawn_blocking(|| {
            native_tls::TlsConnector::builder()
                .min_protocol_version(Some(native_tls::Protocol::Tlsv12))
                .build()
                .map_err(|e| tls_error(e.to_string()))
        })
        .await
        .map_err(|e| tls_error(e.to_string()))?
    })
    .await
    .cloned()
}

fn tls_error(message: String) -> TlsError {
    TlsError::Tls {
        host: String::new(),
        message,
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

fn ca_error(path: &Path, message: impl ToString) -> TlsError {
    TlsError::CaFile {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Builds an IMAP client context that trusts `ca_file`'s certificates alone when it is set,
/// else the system roots (openssl-probe's bundle, which honours `SSL_CERT_FILE`, read once;
/// certificate directories are looked up lazily, per handshake). Blocking and, for the system
/// roots, slow; [`connector`] caches it.
pub fn tls_connector(ca_file: Option<&PathBuf>) -> Result<ClientContext, TlsError> {
    let stack = |e: openssl::error::ErrorStack| tls_error(e.to_string());
    // What `SslConnector::builder` sets up, without its `set_default_verify_paths`, which parses
    // the system bundle even for a server that trusts only its own CA.
    let mut ctx = SslContextBuilder::new(SslMethod::tls_client()).map_err(stack)?;
    let mut options =
        SslOptions::ALL | SslOptions::NO_COMPRESSION | SslOptions::NO_SSLV2 | SslOptions::NO_SSLV3;
    options &= !SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    ctx.set_options(options);
    ctx.set_mode(
        SslMode::AUTO_RETRY
            | SslMode::ACCEPT_MOVING_WRITE_BUFFER
            | SslMode::ENABLE_PARTIAL_WRITE
            | SslMode::RELEASE_BUFFERS,
    );
    // Read as much as the socket holds, not one record's header and then its body: a relayed
    // FETCH took two reads per 16 KiB record (issue 18's CPU per GB).
    ctx.set_read_ahead(true);
    ctx.set_cipher_list("DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK")
        .map_err(stack)?;
    ctx.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(stack)?;
    ctx.set_verify(SslVerifyMode::PEER);
    match ca_file {
        Some(path) => {
            let pem = read_ca_file(path).map_err(|e| ca_error(path, e))?;
            let certs = X509::stack_from_pem(&pem).map_err(|e| ca_error(path, e))?;
            if certs.is_empty() {
                return Err(ca_error(path, "no PEM certificate found"));
            }
            let store = ctx.cert_store_mut();
            for cert in certs {
                store.add_cert(cert).map_err(|e| ca_error(path, e))?;
            }
        }
        None => {
            let probe = openssl_probe::probe();
            match &probe.cert_file {
                Some(file) => ctx.set_ca_file(file).map_err(stack)?,
                None => ctx.set_default_verify_paths().map_err(stack)?,
            }
            for dir in &probe.cert_dir {
                // A missing directory only means fewer roots, as with OpenSSL's defaults.
                let _ = ctx.load_verify_locations(None, Some(dir));
            }
        }
    }
    Ok(ctx.build())
}

/// One client TLS session to `host`: SNI for a name, and the certificate checked against the
/// name (no partial wildcards) or the IP address.
pub fn client_session(context: &ClientContext, host: &str) -> Result<Ssl, TlsError> {
    let failed = |e: openssl::error::ErrorStack| TlsError::Tls {
        host: host.to_string(),
        message: e.to_string(),
    };
    let mut ssl = Ssl::new(context).map_err(failed)?;
    let ip = host.parse::<std::net::IpAddr>().ok();
    if ip.is_none() {
        ssl.set_hostname(host).map_err(failed)?;
    }
    let param = ssl.param_mut();
    param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
    match ip {
        Some(ip) => param.set_ip(ip).map_err(failed)?,
        None => param.set_host(host).map_err(failed)?,
    }
    Ok(ssl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
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
        assert!(matches!(err, TlsError::CaFile { .. }), "{err:?}");
    }

    #[test]
    fn a_ca_file_is_the_only_trust() {
        let dir = tempfile::tempdir().unwrap();
        let ca = fixture("ca.pem");
        // Two copies: every certificate of a bundle is read, duplicates are harmless.
        let pem = std::fs::read(&ca).unwrap();
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, [pem.clone(), pem].concat()).unwrap();
        let ctx = tls_connector(Some(&bundle)).unwrap();
        let roots = ctx.cert_store().all_certificates();
        assert_eq!(roots.len(), 1, "the CA file alone, no system roots");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let err = tls_connector(Some(&empty)).unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }
}
