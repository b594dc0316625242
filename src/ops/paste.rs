//! Paste-back: the user copies the address the browser ended on ("This site can't be
//! reached … localhost:8400/microsoft_outlook/confirm?code=…&state=…") into the terminal.

use std::collections::HashMap;

/// What a pasted address says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pasted {
    Code {
        code: String,
        state: Option<String>,
    },
    Error {
        error: String,
        description: String,
        state: Option<String>,
    },
    /// The v2 admin consent's success answer (`admin_consent=True&tenant=…`, no error). The
    /// tenant is for display only.
    AdminConsented {
        tenant: String,
        state: Option<String>,
    },
}

impl Pasted {
    pub fn state(&self) -> Option<&str> {
        match self {
            Pasted::Code { state, .. }
            | Pasted::Error { state, .. }
            | Pasted::AdminConsented { state, .. } => state.as_deref(),
        }
    }
}

/// Parses a full URL, a URL without scheme, or just its query string. Whitespace and line
/// breaks (terminal wrapping) are ignored.
pub fn parse(input: &str) -> Result<Pasted, String> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("nothing pasted: copy the whole address from the browser's address bar".into());
    }
    let query = match compact.split_once('?') {
        Some((_, q)) => q,
        None if compact.contains("code=")
            || compact.contains("error=")
            || compact.contains("admin_consent=") =>
        {
            compact.as_str()
        }
        None => {
            return Err(
                "that is not the address the browser ended on: it should contain ?code=… (copy it from the address bar after signing in)"
                    .into(),
            );
        }
    };
    let query = query.split('#').next().unwrap_or("");
    let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let state = q.get("state").cloned().filter(|s| !s.is_empty());
    if let Some(error) = q.get("error") {
        return Ok(Pasted::Error {
            error: crate::sanitize::peer_text(error),
            description: crate::sanitize::peer_text(q.get("error_description").map_or("", String::as_str)),
            state,
        });
    }
    match q.get("code").filter(|c| !c.is_empty()) {
        Some(code) => Ok(Pasted::Code {
            code: code.clone(),
            state,
        }),
        None if q
            .get("admin_consent")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")) =>
        {
            Ok(Pasted::AdminConsented {
                tenant: crate::sanitize::peer_text(q.get("tenant").map_or("", String::as_str)),
                state,
            })
        }
        None => Err(
            "the address has no code= value; sign in again and copy the address the browser ends on".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let p = parse(
            "http://localhost:8400/microsoft_outlook/confirm?code=M.C5_ab%2Fc&state=xyz&session_state=1",
        )
        .unwrap();
        assert_eq!(
            p,
            Pasted::Code {
                code: "M.C5_ab/c".into(),
                state: Some("xyz".into())
            }
        );
    }

    #[test]
    fn without_scheme_and_wrapped() {
        let p = parse("  localhost:8400/microsoft_outlook/confirm?co\nde=abc\r\n&sta\n  te=xyz \n").unwrap();
        assert_eq!(
            p,
            Pasted::Code {
                code: "abc".into(),
                state: Some("xyz".into())
            }
        );
    }

    #[test]
    fn query_only() {
        assert_eq!(
            parse("code=abc&state=s").unwrap(),
            Pasted::Code {
                code: "abc".into(),
                state: Some("s".into())
            }
        );
    }

    #[test]
    fn error_url() {
        let p = parse("http://localhost/microsoft_outlook/confirm?error=access_denied&error_description=AADSTS65004%3a+User+declined&state=s").unwrap();
        assert_eq!(
            p,
            Pasted::Error {
                error: "access_denied".into(),
                description: "AADSTS65004: User declined".into(),
                state: Some("s".into())
            }
        );
    }

    #[test]
    fn admin_consent_answers() {
        assert_eq!(
            parse("localhost:8400/microsoft_outlook/confirm?admin_consent=True&tenant=t-1&scope=x&state=s")
                .unwrap(),
            Pasted::AdminConsented {
                tenant: "t-1".into(),
                state: Some("s".into())
            }
        );
        // Microsoft sends admin_consent=True on refusals too: the error wins.
        assert!(matches!(
            parse("?admin_consent=True&error=consent_required&error_description=AADSTS65004&state=s")
                .unwrap(),
            Pasted::Error { .. }
        ));
    }

    #[test]
    fn garbage_gets_a_precise_message() {
        assert!(parse("").unwrap_err().contains("nothing pasted"));
        assert!(parse("hello world").unwrap_err().contains("?code="));
        assert!(
            parse("http://localhost/x?state=s")
                .unwrap_err()
                .contains("no code=")
        );
    }
}
