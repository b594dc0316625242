//! `inbound tunnel NAME`: prints, exits and logs; the session itself is the core's.

use super::TunnelArgs;
use super::report::{code_for, report};
use crate::exit;
use crate::ops::Error;
use crate::ops::tunnel;
use crate::store::Store;
use tokio::io::AsyncWriteExt as _;

pub async fn run(store: &Store, a: TunnelArgs) -> u8 {
    let server = match tunnel::resolve(store, &a.name) {
        Ok(s) => s,
        Err(e) => return refuse(&e).await,
    };
    let up = match tunnel::connect(store, &server).await {
        Ok(up) => up,
        Err(e) => return refuse(&e).await,
    };
    tracing::info!(server = %server.name, "tunnel: logged in, relaying");
    match tunnel::relay(&server.name, up, tokio::io::stdin(), tokio::io::stdout()).await {
        Ok(r) => {
            tracing::info!(
                server = %r.server,
                to_server = r.to_server,
                to_client = r.to_client,
                ms = u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
                "tunnel: session ended"
            );
            exit::OK
        }
        Err(e) => {
            tracing::warn!(server = %server.name, error = %e, "tunnel: relay failed");
            say!("inbound: tunnel to \"{}\": {e}", server.name);
            exit::FAILED
        }
    }
}

/// Before PREAUTH: one `* BYE` for the mail program, the whole diagnosis for the person.
async fn refuse(e: &Error) -> u8 {
    let mut cause = e.to_string();
    if let Some(command) = e.fix().as_ref().and_then(super::fix::command) {
        cause.push_str(&format!(" (run: {command})"));
    }
    let mut out = tokio::io::stdout();
    let _ = out.write_all(tunnel::bye_line(&cause).as_bytes()).await;
    let _ = out.flush().await;
    tracing::warn!(error = %e, "tunnel: not started");
    report(e);
    code_for(e)
}
