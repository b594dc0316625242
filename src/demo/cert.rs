//! The demo's TLS: a CA made at start-up and a server certificate it signs for `localhost`,
//! `127.0.0.1` and `::1`. Only the demo server's CA file trusts it; nothing is installed.

use crate::services::local_ca;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// PEM texts of a fresh CA and a server certificate with its key.
pub type DemoTls = local_ca::LocalTls;

pub fn make() -> Result<DemoTls, openssl::error::ErrorStack> {
    local_ca::make(
        "inbound demo CA (made at start-up)",
        &["localhost".to_string()],
        &[IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
    )
}
