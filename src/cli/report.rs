//! How the CLI words what the core answers: an error with its advice, the exit code it means,
//! and the note after an add that renewed a stored app. Shared by every command.

use super::exit;
use crate::model::validate::Field;
use crate::ops::Error;
use crate::store::StoreError;

pub(super) fn report(e: &Error) {
    match e {
        // One line per field, each naming the flag that sets it.
        Error::Invalid(fields) => {
            for f in fields {
                // The flags of what to give instead when the cure is another field.
                let flags: Vec<&str> = if f.instead.is_empty() {
                    flag_for(f.field).into_iter().collect()
                } else {
                    f.instead.iter().filter_map(|i| flag_for(*i)).collect()
                };
                match flags.as_slice() {
                    [] => say!("inbound: {f}"),
                    flags => say!("inbound: {f} ({})", flags.join("; ")),
                }
            }
        }
        _ => say!("inbound: {}", super::fix::message(e)),
    }
    for line in advice(e) {
        say!("  → {line}");
    }
    if matches!(e, Error::Preflight(_)) {
        say!("  (to save anyway, add --no-check)");
    }
    if matches!(e, Error::Unverified(_)) {
        say!("  (to save it unchecked, add --no-check)");
    }
}

/// What to do about an error: the hint in words, then the command line that fixes it.
pub(super) fn advice(e: &Error) -> Vec<String> {
    super::fix::error_lines(e)
}

/// The command-line option that sets a field of the form (the TUI shows the field itself).
fn flag_for(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::Name => "the NAME argument, or --rename",
        Field::Username => "--username",
        Field::Host => "--host",
        Field::Port => "--port",
        Field::Password => "--password-stdin",
        Field::CaFile => "--ca-file FILE",
        Field::ClientId => "--client-id GUID, --tenant and --secret-stdin, or --app NAME for a stored app",
        Field::AzureApp => "--app NAME",
        Field::AppName => "--app NAME",
        Field::Tenant => "--tenant",
        Field::Secret => "--secret-stdin or --secret-file FILE",
        Field::SecretExpires => "--secret-expires YYYY-MM-DD",
        Field::Authority => "--authority URL",
        Field::Certificate => "--certificate FILE or --months N",
        Field::PublicUrl => "--public-url URL",
        Field::ListenPort => "--listen-port N",
        Field::ListenAddress => "--listen-address ADDR",
        Field::Timeout => "--timeout SECS",
        Field::ProxyListen => "--proxy-listen ADDR:PORT",
        Field::ProxyTls => "--proxy-tls or --no-proxy-tls",
        Field::ProxyMaxConnections => "--proxy-max-connections N",
        Field::ServeProxy => "--proxy or --no-proxy",
        Field::Metrics => "--metrics ADDR:PORT or --no-metrics",
        Field::NotifyCommand => "--notify-command CMD or --no-notify-command",
        Field::NotifyUrl => "--notify-url URL or --no-notify-url",
        Field::TestEvery => "--test-every SECS",
        Field::SetupCode => "--setup-code - or FILE",
        Field::SignInAs => "--sign-in-as ADDR",
        Field::PublicClient => "--public-client, --app-only",
        Field::SecretMonths => "--secret-months",
        Field::Mailbox => "--mailbox ADDR (repeatable), --app-only",
        _ => return None,
    })
}

pub(super) fn code_for(e: &Error) -> u8 {
    match e {
        Error::Invalid(_)
        | Error::Exists { .. }
        | Error::AppInUse { .. }
        | Error::NotOAuth { .. }
        | Error::Preflight(_)
        | Error::ProxyPasswordSet { .. }
        | Error::AppOnly { .. } => exit::USAGE,
        Error::NoCertificate { why, .. } if *why != crate::ops::CertMissing::FileMissing => exit::USAGE,
        Error::NotFound { .. } | Error::Store(StoreError::NoStore { .. }) => exit::NOT_FOUND,
        Error::Store(StoreError::Io { .. }) | Error::Io(_) => exit::FAILED,
        Error::Store(_) | Error::PassedUnsaved { read_only: true, .. } => exit::STORE,
        Error::Blocked { .. } | Error::NotSignedIn { .. } | Error::NeedsAdminConsent(_) => exit::NEEDS_YOU,
        Error::OAuth { source, .. } if source.blocker().is_some() => exit::NEEDS_YOU,
        Error::Cancelled => exit::INTERRUPTED,
        _ => exit::FAILED,
    }
}

/// "Renewed the secret of app X; Y and Z use it too." after an `add` that renewed a stored app.
pub(super) fn renewal_note(app: &str, users: &[String], added: &str, unchecked: bool) -> String {
    let others: Vec<String> = users
        .iter()
        .filter(|u| u.as_str() != added)
        .map(|u| format!("\"{u}\""))
        .collect();
    let mut text = format!(
        "This registration is stored as app \"{app}\": its secret and expiry were renewed with the ones given{}",
        if unchecked { " (unchecked: --no-check)" } else { "" }
    );
    if !others.is_empty() {
        text.push_str(&format!(
            "; also used by {}, which use the new secret from their next refresh",
            others.join(", ")
        ));
    }
    text.push('.');
    text
}
