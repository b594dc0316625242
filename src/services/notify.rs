//! Delivering one notification document: to a command (JSON on stdin, a time limit) and to a
//! webhook (HTTP POST of the same JSON, retried with a doubling back-off, a bounded number of
//! times). Neither ever blocks serve: the caller runs them in their own task.

use std::process::Stdio;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The first wait between webhook attempts; each next one doubles, at most [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// What we keep of a command's stderr or a webhook's answer for the log.
const MAX_ECHO: usize = 300;

#[derive(Debug, Error)]
pub enum NotifyError {
    #[error("the notify command could not be started ({0}); check the command and its PATH")]
    Spawn(String),
    #[error("the notify command did not finish within {0} s and was stopped")]
    CommandTimeout(u64),
    #[error("the notify command failed ({status}): {stderr}")]
    CommandFailed { status: String, stderr: String },
    #[error("the webhook {url} was not reached after {attempts} attempts: {last}")]
    Webhook {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("the webhook {url} refused the notification: HTTP {status} {body}")]
    Refused { url: String, status: u16, body: String },
    #[error("cannot make an HTTP client for the webhook: {0}")]
    Client(String),
}

fn echo(bytes: &[u8]) -> String {
    let text = crate::sanitize::peer_bytes(bytes);
    let text = text.trim();
    match text.char_indices().nth(MAX_ECHO) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Runs `command` with `sh -c` (so it may carry arguments and redirections), the document on
/// its stdin; killed when it outlives `limit`.
pub async fn run_command(command: &str, document: &[u8], limit: Duration) -> Result<(), NotifyError> {
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| NotifyError::Spawn(e.to_string()))?;
    let stdin = child.stdin.take();
    let mut stderr = child.stderr.take();
    let work = async {
        if let Some(mut stdin) = stdin {
            // A command that does not read its stdin is fine: a broken pipe is not an error.
            let _ = stdin.write_all(document).await;
            drop(stdin);
        }
        let mut err = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(64 * 1024).read_to_end(&mut err).await;
        }
        (child.wait().await, err)
    };
    match tokio::time::timeout(limit, work).await {
        Err(_) => Err(NotifyError::CommandTimeout(limit.as_secs())),
        Ok((Err(e), _)) => Err(NotifyError::Spawn(e.to_string())),
        Ok((Ok(status), _)) if status.success() => Ok(()),
        Ok((Ok(status), err)) => Err(NotifyError::CommandFailed {
            status: status.to_string(),
            stderr: echo(&err),
        }),
    }
}

/// A webhook sender: one HTTP client, no redirects, a time limit per attempt.
#[derive(Debug, Clone)]
pub struct Webhook {
    client: oauth2::reqwest::Client,
    url: String,
    attempts: u32,
}

impl Webhook {
    pub fn new(url: &str, limit: Duration, attempts: u32) -> Result<Self, NotifyError> {
        let client = oauth2::reqwest::ClientBuilder::new()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .timeout(limit)
            .connect_timeout(limit)
            .build()
            .map_err(|e| NotifyError::Client(e.to_string()))?;
        Ok(Self {
            client,
            url: url.to_string(),
            attempts: attempts.max(1),
        })
    }

    /// POSTs `document`; retries a connection failure, a timeout, 429 and 5xx, waiting
    /// 1 s, 2 s, 4 s … between attempts. Another 4xx is final: the receiver said no.
    pub async fn post(&self, document: &[u8]) -> Result<u32, NotifyError> {
        let mut wait = FIRST_BACKOFF;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            let sent = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .body(document.to_vec())
                .send()
                .await;
            match sent {
                Ok(resp) if resp.status().is_success() => return Ok(attempt),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.map(|b| echo(&b)).unwrap_or_default();
                    if status != 429 && status < 500 {
                        return Err(NotifyError::Refused {
                            url: self.url.clone(),
                            status,
                            body,
                        });
                    }
                    last = format!("HTTP {status} {body}");
                }
                Err(e) => last = crate::sanitize::peer_text(&error_chain(&e)),
            }
            tracing::warn!(url = %self.url, attempt, error = %last, "webhook attempt failed");
            if attempt < self.attempts {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_BACKOFF);
            }
        }
        Err(NotifyError::Webhook {
            url: self.url.clone(),
            attempts: self.attempts,
            last,
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_gets_the_document_and_a_slow_one_is_stopped() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("got.json");
        let cmd = format!("cat > '{}'", out.display());
        run_command(&cmd, b"{\"a\":1}", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"{\"a\":1}");
        let slow = run_command("sleep 30", b"{}", Duration::from_millis(200)).await;
        assert!(matches!(slow, Err(NotifyError::CommandTimeout(_))), "{slow:?}");
        let failed = run_command("echo nope >&2; exit 3", b"{}", Duration::from_secs(10)).await;
        match failed {
            Err(NotifyError::CommandFailed { stderr, .. }) => assert_eq!(stderr, "nope"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_webhook_nobody_answers_is_tried_a_bounded_number_of_times() {
        // A port that was free a moment ago: connection refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let hook = Webhook::new(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2), 2).unwrap();
        match hook.post(b"{}").await {
            Err(NotifyError::Webhook { attempts, .. }) => assert_eq!(attempts, 2),
            other => panic!("{other:?}"),
        }
    }
}
