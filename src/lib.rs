//! inbound: connect Microsoft 365 / Exchange Online mailboxes to IMAP fetchers with OAuth2.
//!
//! One core ([`core`], [`store`], [`services`]) with two faces: the CLI ([`cli`]) and the TUI.

pub mod cli;
pub mod demo;
pub mod exit;
pub mod logging;
pub mod model;
pub mod ops;
pub mod sanitize;
pub mod secret;
pub mod services;
pub mod store;
pub mod textwidth;
pub mod timefmt;
pub mod tui;
