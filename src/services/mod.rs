//! All network I/O: typed errors, timeouts, no terminal.

pub mod browser;
pub mod cert;
pub mod imap;
pub mod oauth;
pub mod ports;
pub mod signals;
pub mod tls;
pub mod upstream;
pub mod xoauth2;
