//! Microsoft's error codes translated into a cause and a fix (microsoft-facts §5).

use crate::model::health::Fix;

/// The hint for an AADSTS code, when we know one.
pub fn aadsts_hint(code: u64) -> Option<&'static str> {
    Some(match code {
        7000215 => {
            "Invalid client secret: paste the secret's Value, not the Secret ID. If the Value is lost, create a new secret (it is shown only once)."
        }
        7000222 => {
            "The client secret expired: create a new secret (Certificates & secrets), then update it here. Servers recover on the next refresh."
        }
        7000218 => {
            "The app wants a client secret: enter the secret Value; for device-code sign-in enable Authentication → Allow public client flows = Yes."
        }
        700025 | 90023 => {
            "The app is registered as a public client: register the redirect URL under Web (not Mobile and desktop), or store the app as a public client (without a secret)."
        }
        50011 => {
            "Redirect URI mismatch: add http://localhost/microsoft_outlook/confirm under Authentication → Web → Redirect URIs, then wait 3–5 minutes."
        }
        500113 => {
            "No redirect URI is registered: add http://localhost/microsoft_outlook/confirm under Authentication → Web."
        }
        65001 => {
            "No consent yet: sign in again and accept, or have an admin grant consent (API permissions → Grant admin consent)."
        }
        65004 => {
            "Consent was declined in the browser: if Cancel was pressed, connect again and accept; if Microsoft said \"Need admin approval\", an admin must grant consent for the organization first."
        }
        90094 | 90095 => {
            "The tenant requires admin consent: an admin opens the admin consent URL (shown in details) and accepts."
        }
        700016 => {
            "App not found in this tenant: check Azure Client ID and Tenant (a single-tenant app works only in its own tenant)."
        }
        90002 => "Tenant not found: check the Directory (tenant) ID or domain.",
        900023 => "The tenant value is malformed: paste the Directory (tenant) ID (a GUID) or your domain.",
        50020 => {
            "That account is not in this tenant: sign in with the mailbox's work account (or invite it as a guest)."
        }
        50194 => "Single-tenant app used with /common: set Tenant to your tenant ID or domain.",
        53003 | 530035 | 53000 | 53001 => {
            "Blocked by Conditional Access or security defaults: an admin must allow this sign-in; give them the correlation ID."
        }
        70008 | 700082 => "The refresh token expired (90 days without use) or was revoked: connect again.",
        50173 | 70043 | 50078 | 50076 | 50079 => {
            "Microsoft wants a fresh interactive sign-in (password reset, revoked session, MFA or sign-in frequency): connect again."
        }
        54005 => {
            "This sign-in code was already used: connect again (a browser reload or prefetch reused it)."
        }
        501481 => "PKCE verifier mismatch: connect again; if it repeats, report it.",
        700054 => "Only response_type=code is supported: connect again.",
        70011 | 700022 => {
            "Scope problem: the request must ask only for https://outlook.office.com/IMAP.AccessAsUser.All offline_access (+ openid email profile)."
        }
        500011 | 650052 => {
            "The tenant has no Exchange Online (no Microsoft 365 mail licence) for this resource."
        }
        50105 => {
            "The user is not assigned to this app: an admin assigns the user (Enterprise applications → Users and groups)."
        }
        700005 => "Code used against another tenant: keep the same Tenant for sign-in and token.",
        700027 => {
            "Microsoft does not know this certificate (or it was replaced): upload the app's certificate under App registrations → the app → Certificates & secrets → Certificates, then try again."
        }
        700021 | 700023 => {
            "The client assertion does not fit this app or tenant: check Azure Client ID and Tenant of the app."
        }
        700024 => "The client assertion is outside its time range: check this machine's clock (NTP).",
        _ => return None,
    })
}

/// What fixes an AADSTS code, as data, where a step of ours does (the words are
/// [`aadsts_hint`]'s; each face adds its way to act).
pub fn aadsts_fix(code: u64) -> Option<Fix> {
    Some(match code {
        700025 | 90023 => Fix::PublicClient,
        700027 => Fix::UploadCertificate { app: None },
        _ => return None,
    })
}

/// What to do when the tenant blocks device-code sign-in, in words: the fix is
/// [`Fix::BrowserSignIn`] (the two browser paths, which work over SSH too).
pub const DEVICE_CODE_BLOCKED: &str = "this tenant's Conditional Access (or security defaults) blocks device-code sign-in, and only an admin can change that: sign in with the browser instead. If device code must work, give an admin the correlation ID";

/// AADSTS53003 (BlockedByConditionalAccess) or 530035 (BlockedBySecurityDefaults).
pub fn blocks_device_code(codes: &[u64]) -> bool {
    codes.iter().any(|c| matches!(c, 53003 | 530035))
}

/// "Need admin approval": the tenant lets no user consent to this app (microsoft-facts §9).
pub fn needs_admin_consent(codes: &[u64]) -> bool {
    codes.iter().any(|c| matches!(c, 65001 | 90094 | 90095))
}

/// Refresh failures that need the user to sign in again.
pub fn needs_reconsent(codes: &[u64]) -> bool {
    codes.iter().any(|c| {
        matches!(
            c,
            70008 | 700082 | 50173 | 70043 | 50078 | 50076 | 50079 | 65001 | 54005 | 70000
        )
    })
}

/// Extracts `AADSTSnnnn` from a description when `error_codes` is missing.
pub fn codes_in_text(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("AADSTS") {
        let digits: String = rest[i + 6..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            out.push(n);
        }
        rest = &rest[i + 6..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_hints() {
        assert!(aadsts_hint(7000215).unwrap().contains("Value, not the Secret ID"));
        assert!(
            aadsts_hint(50011)
                .unwrap()
                .contains("http://localhost/microsoft_outlook/confirm")
        );
        assert!(aadsts_hint(1).is_none());
        assert!(needs_reconsent(&[70000, 54005]));
        assert!(!needs_reconsent(&[7000222]));
        assert!(blocks_device_code(&[53003]) && blocks_device_code(&[50000, 530035]));
        assert!(!blocks_device_code(&[53000]));
        assert_eq!(aadsts_fix(700025), Some(Fix::PublicClient));
        assert_eq!(aadsts_fix(700027), Some(Fix::UploadCertificate { app: None }));
    }

    #[test]
    fn codes_are_found_in_descriptions() {
        assert_eq!(
            codes_in_text("AADSTS65004: User declined. AADSTS1"),
            vec![65004, 1]
        );
        assert!(codes_in_text("none").is_empty());
    }
}
