//! All network I/O: typed errors, timeouts, no terminal.

pub mod browser;
pub mod cert;
pub mod imap;
pub mod input;
pub mod local_ca;
pub mod notify;
pub mod oauth;
pub mod open_files;
mod pipelined;
pub mod ports;
pub mod signals;
pub mod status_http;
pub mod store_watch;
pub mod systemd;
pub mod tls;
pub mod upstream;
pub mod xoauth2;
