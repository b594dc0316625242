//! `inbound token`.

use crate::cli::output;
use crate::cli::{TokenArgs, TokenFormat};
use crate::exit;
use crate::ops::Error;
use crate::ops::tokens::{Policy, fresh_token};
use crate::store::Store;
use jiff::Timestamp;
use std::io::Write;

pub(super) async fn token(store: &Store, a: TokenArgs) -> Result<u8, Error> {
    let fresh = fresh_token(store, &a.name, Policy::WhenDue, Timestamp::now).await?;
    if let Some(w) = &fresh.warning {
        say!("inbound: warning: {w}");
    }
    let token = fresh.tokens.access_token.expose();
    let text = match a.format {
        TokenFormat::Access => token.to_string(),
        TokenFormat::Xoauth2 => crate::services::xoauth2::encode(&fresh.username, token),
        TokenFormat::Json => output::line(&output::TokenJson {
            server: &a.name,
            username: &fresh.username,
            access_token: token,
            expires_at: fresh.tokens.expires_at.to_string(),
            xoauth2: crate::services::xoauth2::encode(&fresh.username, token),
        }),
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        // The reader went away: it did not get the token, so this did not succeed.
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}
