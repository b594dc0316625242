//! The SASL XOAUTH2 initial response (microsoft-facts §4.1).

use base64::Engine as _;

/// `user=<user>^Aauth=Bearer <token>^A^A`, unencoded.
pub fn raw(user: &str, access_token: &str) -> String {
    format!("user={user}\x01auth=Bearer {access_token}\x01\x01")
}

/// Standard base64 with padding and no line breaks, as IMAP `AUTHENTICATE XOAUTH2` expects.
pub fn encode(user: &str, access_token: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw(user, access_token))
}

/// The inverse of [`raw`]: `(user, token)`, when both are there (for the demo's IMAP server).
pub fn parse(raw: &str) -> Option<(String, String)> {
    let mut user = None;
    let mut token = None;
    for part in raw.split('\x01') {
        if let Some(u) = part.strip_prefix("user=") {
            user = Some(u.to_string());
        } else if let Some((scheme, t)) = part.strip_prefix("auth=").and_then(|a| a.split_once(' ')) {
            token = scheme
                .eq_ignore_ascii_case("Bearer")
                .then(|| t.trim().to_string());
        }
    }
    Some((user.filter(|u| !u.is_empty())?, token.filter(|t| !t.is_empty())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_inverts_raw() {
        assert_eq!(parse(&raw("a@b.c", "tok")), Some(("a@b.c".into(), "tok".into())));
        assert_eq!(parse("user=a\x01\x01"), None);
        assert_eq!(parse("auth=Bearer t\x01"), None);
        assert_eq!(parse("garbage"), None);
    }

    /// Microsoft's worked example ("Authenticate an IMAP, POP or SMTP connection using OAuth").
    #[test]
    fn matches_microsofts_documented_example() {
        let encoded = encode(
            "test@contoso.onmicrosoft.com",
            "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA",
        );
        assert_eq!(
            encoded,
            "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ=="
        );
        assert!(!encoded.contains('\n'));
        // The same page's IMAP exchange sample.
        assert_eq!(
            encode(
                "someuser@example.com",
                "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
            ),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }
}
