//! inbound: connect Microsoft 365 / Exchange Online mailboxes to IMAP fetchers with OAuth2.
//!
//! One core with two faces. The core: [`model`] (plain data, health, validation; no I/O),
//! [`store`] (the files on disk, atomic and locked), [`services`] (all network and system
//! I/O, typed errors, timeouts) and [`ops`] (the operations, over the three). The faces call
//! only the core: [`cli`] (clap commands, `out!`/`say!` output, exit codes from [`exit`]) and
//! [`tui`] (a ratatui app: pure state and render, effects run by `tui::app`). [`demo`] runs
//! the real product against stand-ins of Entra and an IMAP server on loopback. Text from a
//! peer passes [`sanitize`]; secrets live in [`secret`] types that never print.

pub mod cli;
pub mod demo;
pub mod exit;
pub mod logging;
pub mod model;
pub mod ops;
pub mod parallel;
pub mod sanitize;
pub mod secret;
pub mod services;
pub mod store;
pub mod textwidth;
pub mod timefmt;
pub mod tui;
