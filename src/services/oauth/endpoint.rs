//! One way to talk to a token endpoint: POST a form, read a bounded answer, and accept a
//! token only when every field is usable. Written here rather than through the oauth2
//! crate's request helpers because those lose the HTTP status of an unparsable answer (an
//! HTML 200 became "HTTP 500") and accept an empty `access_token`.

use super::{Grant, MsError, OAuthError, http_client, idtoken};
use crate::sanitize::{peer_bytes, peer_opt, peer_text};
use crate::secret::Secret;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Larger answers are not token responses (Microsoft's are a few KiB).
const MAX_ANSWER: usize = 1 << 20;
/// An access token longer than this is not one (Entra's are 1–4 KiB).
const MAX_TOKEN: usize = 64 * 1024;
/// Longest lifetime we believe: Entra gives 60–90 minutes, CAE clients up to 28 hours.
pub const MAX_EXPIRES_IN: u64 = 2 * 24 * 3600;

/// A token endpoint's answer, before interpretation.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// POSTs `form` (application/x-www-form-urlencoded) and reads at most [`MAX_ANSWER`] bytes.
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> Result<Answer, OAuthError> {
    let http = http_client().await?;
    let resp = http
        .post(url)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| OAuthError::Network(peer_text(&super::error_chain(&e))))?;
    read(resp).await
}

/// GETs a JSON document (OpenID discovery) and reads at most [`MAX_ANSWER`] bytes.
pub async fn get_json(url: &str) -> Result<Answer, OAuthError> {
    let http = http_client().await?;
    let resp = http
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| OAuthError::Network(peer_text(&super::error_chain(&e))))?;
    read(resp).await
}

async fn read(mut resp: oauth2::reqwest::Response) -> Result<Answer, OAuthError> {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(peer_text)
        .unwrap_or_default();
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| OAuthError::Network(peer_text(&super::error_chain(&e))))?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(OAuthError::BadAnswer {
                status,
                problem: format!(
                    "an answer over {} KiB, which is no token response",
                    MAX_ANSWER / 1024
                ),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

/// What a body looks like, for messages about an answer that is not the JSON we expect.
pub(crate) fn shape(answer: &Answer) -> String {
    let text = String::from_utf8_lossy(&answer.body);
    let start = text.trim_start();
    if answer.body.is_empty() || start.is_empty() {
        "an empty body".into()
    } else if answer.content_type.contains("html") || start.starts_with('<') {
        "an HTML page instead of JSON (a proxy, captive portal or error page?)".into()
    } else {
        match serde_json::from_slice::<Value>(&answer.body) {
            Err(e) if e.is_eof() => "JSON that ends early (a truncated answer)".into(),
            Err(_) => format!("text that is not JSON (\"{}\")", short(&peer_bytes(&answer.body))),
            Ok(v) if !v.is_object() => "JSON that is not an object".into(),
            Ok(_) => "JSON without the expected fields".into(),
        }
    }
}

fn short(s: &str) -> String {
    crate::textwidth::truncate(s, 80)
}

/// The error an answer other than 200 stands for: Microsoft's JSON when it is there, else
/// the status with what the body looked like.
pub fn error_from(answer: &Answer) -> OAuthError {
    if let Ok(ms) = serde_json::from_slice::<MsError>(&answer.body)
        && !ms.error.trim().is_empty()
    {
        return OAuthError::Microsoft(Box::new(ms.sanitized()));
    }
    OAuthError::Http {
        status: answer.status,
        body: shape(answer),
    }
}

#[derive(Deserialize)]
struct RawToken {
    #[serde(default)]
    access_token: Option<Value>,
    #[serde(default)]
    token_type: Option<Value>,
    #[serde(default)]
    expires_in: Option<Value>,
    #[serde(default)]
    refresh_token: Option<Value>,
    #[serde(default)]
    scope: Option<Value>,
    #[serde(default)]
    id_token: Option<Value>,
}

/// A usable token string: present, a string, not blank, no spaces, control or invisible bidi
/// characters (`inbound token` prints it as it is), of a sane length.
fn token_field(v: Option<&Value>, name: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("an empty {name}")),
        Some(Value::String(s)) if s.len() > MAX_TOKEN => Err(format!("a {name} of {} bytes", s.len())),
        Some(Value::String(s))
            if s.chars()
                .any(|c| c.is_whitespace() || crate::sanitize::is_hostile(c)) =>
        {
            Err(format!("a {name} with spaces or control characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("a {name} that is not a string")),
    }
}

/// `expires_in` as a number of seconds in (0, [`MAX_EXPIRES_IN`]]; Microsoft's v1 endpoint
/// sent it as a string of digits, which we accept too.
fn expires_in(v: Option<&Value>) -> Result<Duration, String> {
    let secs = match v {
        // RFC 6749 makes it optional; an hour is what every Microsoft token lives at least.
        None | Some(Value::Null) => return Ok(Duration::from_secs(3600)),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("expires_in {n}, which is not a whole number"))?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("expires_in \"{}\", which is not a number", short(&peer_text(s))))?,
        Some(_) => return Err("an expires_in that is not a number".into()),
    };
    match u64::try_from(secs) {
        Ok(s) if s > 0 && s <= MAX_EXPIRES_IN => Ok(Duration::from_secs(s)),
        _ => Err(format!(
            "expires_in {secs}, which no real token has (1 s to 48 h)"
        )),
    }
}

/// Interprets a token endpoint's answer. Anything but a complete, usable token is an error,
/// so nothing is stored from it and the tokens already stored stay.
pub fn grant_from(
    answer: &Answer,
    requested_scope: &str,
    require_scope: Option<&str>,
) -> Result<Grant, OAuthError> {
    if answer.status != 200 {
        return Err(error_from(answer));
    }
    let bad = |problem: String| OAuthError::BadAnswer {
        status: answer.status,
        problem,
    };
    let raw: RawToken = match serde_json::from_slice::<Value>(&answer.body) {
        Ok(v) if v.is_object() => {
            // A 200 that carries Microsoft's error JSON is still an error.
            if v.get("error").is_some_and(Value::is_string) && v.get("access_token").is_none() {
                return Err(error_from(answer));
            }
            serde_json::from_value(v).map_err(|_| bad(shape(answer)))?
        }
        _ => return Err(bad(shape(answer))),
    };
    let access = token_field(raw.access_token.as_ref(), "access_token")
        .map_err(bad)?
        .ok_or_else(|| bad("no access_token".into()))?;
    match raw.token_type.as_ref() {
        Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(Value::String(t)) => {
            return Err(bad(format!(
                "token_type \"{}\" (IMAP XOAUTH2 needs a Bearer token)",
                short(&peer_text(t))
            )));
        }
        Some(_) => return Err(bad("a token_type that is not a string".into())),
        None => return Err(bad("no token_type (a Bearer token is required)".into())),
    }
    let expires_in = expires_in(raw.expires_in.as_ref()).map_err(bad)?;
    let refresh = token_field(raw.refresh_token.as_ref(), "refresh_token").map_err(bad)?;
    let scope = match raw.scope {
        Some(Value::String(s)) => peer_text(&s),
        _ => requested_scope.to_string(),
    };
    if let Some(needed) = require_scope
        && !scope.contains(needed)
    {
        return Err(OAuthError::WrongScope(scope));
    }
    let account = match raw.id_token {
        Some(Value::String(t)) => idtoken::account(&t).ok(),
        _ => None,
    };
    Ok(Grant {
        access_token: Secret::new(access),
        refresh_token: refresh.map(Secret::new),
        expires_in,
        scope,
        account: peer_opt(account),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, ct: &str, body: &str) -> Answer {
        Answer {
            status,
            content_type: ct.into(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn ok(body: &str) -> Result<Grant, OAuthError> {
        grant_from(&answer(200, "application/json", body), "s", Some("IMAP"))
    }

    const GOOD: &str = r#"{"access_token":"eyJ0.a.b","token_type":"Bearer","expires_in":3599,"scope":"https://outlook.office.com/IMAP.AccessAsUser.All","refresh_token":"0.AAA"}"#;

    #[test]
    fn a_complete_answer_is_a_grant() {
        let g = ok(GOOD).unwrap();
        assert_eq!(g.access_token.expose(), "eyJ0.a.b");
        assert_eq!(g.expires_in, Duration::from_secs(3599));
        assert!(g.refresh_token.is_some());
        let g = ok(&GOOD
            .replace("3599", "\"3599\"")
            .replace(",\"refresh_token\":\"0.AAA\"", ""))
        .unwrap();
        assert!(g.refresh_token.is_none());
    }

    #[test]
    fn unusable_answers_are_refused_with_their_real_status() {
        let cases = [
            GOOD.replace("eyJ0.a.b", ""),
            GOOD.replace("eyJ0.a.b", "   "),
            GOOD.replace("\"0.AAA\"", "\"\""),
            GOOD.replace("Bearer", "mac"),
            GOOD.replace(",\"token_type\":\"Bearer\"", ""),
            GOOD.replace("3599", "0"),
            GOOD.replace("3599", "-5"),
            GOOD.replace("3599", "99999999999"),
            GOOD.replace("3599", "1.5"),
            GOOD.replace("\"eyJ0.a.b\"", "42"),
            GOOD[..40].to_string(),
            "<html><body>Service Unavailable</body></html>".to_string(),
            "not json".to_string(),
            "[]".to_string(),
            String::new(),
        ];
        for body in cases {
            match ok(&body) {
                Err(OAuthError::BadAnswer { status: 200, problem }) => {
                    assert!(!problem.is_empty());
                }
                other => panic!("{body:?} gave {other:?}"),
            }
        }
        let html = ok("<html>x</html>").unwrap_err().to_string();
        assert!(html.contains("HTTP 200") && html.contains("HTML"), "{html}");
        let cut = ok(&GOOD[..40]).unwrap_err().to_string();
        assert!(cut.contains("truncated"), "{cut}");
    }

    #[test]
    fn errors_keep_their_status_and_are_sanitised() {
        let e = grant_from(&answer(502, "text/html", "<h1>Bad gateway</h1>"), "s", None).unwrap_err();
        assert!(matches!(e, OAuthError::Http { status: 502, .. }), "{e:?}");
        assert!(e.is_transient());
        let e = grant_from(
            &answer(
                400,
                "application/json",
                "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: x\\u001b[2J\"}",
            ),
            "s",
            None,
        )
        .unwrap_err();
        let shown = e.to_string();
        assert!(
            shown.contains("invalid_grant") && !shown.contains('\u{1b}'),
            "{shown}"
        );
        let e = ok("{\"error\":\"server_error\"}").unwrap_err();
        assert!(matches!(e, OAuthError::Microsoft(_)), "{e:?}");
    }
}
