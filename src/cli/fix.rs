//! The shell's wording of a fix: the core says what fixes something as data
//! ([`Fix`]); here alone it becomes the command line that does it, with the flags' names.
//! The faces that are read at a shell word their fixes here too: `serve`'s alerts and the
//! proxy's IMAP answers are given [`command`], the tunnel calls it, and `--json` carries it
//! (`fix`, `fix_command`), byte for byte as documented in docs/json.md.

use crate::model::health::{
    Advice, AppField, Finding, Fix, Level, Mismatch, Remedy, ServerField, ShellWording,
};
use crate::model::quote::{arg, word};
use crate::model::rejection::{PRINCIPAL_PLACEHOLDER, REPLICATION_NOTE, Rejection};
use crate::ops::Error;
use crate::ops::admin_consent::{ADMIN_ROLES, AdminConsentNeeded};
use crate::ops::doctor::{Status, Step, StepResult};
use crate::ops::preflight::Outcome;
use crate::store::StoreError;

/// What serve and the proxy are given to word their fixes with.
pub const WORDING: ShellWording = ShellWording { command, text };

/// The command line that does it, when one does; names are quoted for the shell.
pub fn command(fix: &Fix) -> Option<String> {
    Some(match fix {
        Fix::Connect { server } | Fix::SignIn { server } => format!("inbound connect {}", arg(server)),
        Fix::NewSecret { app } => format!(
            "inbound edit --app {} --secret-stdin --secret-expires YYYY-MM-DD",
            app.as_deref().map_or_else(|| "APP".to_string(), arg)
        ),
        Fix::NewCertificate { app } => format!("inbound cert new {}", arg(app)),
        Fix::UseCertificate { app } => format!("inbound cert use {}", arg(app)),
        Fix::UploadCertificate { app } => format!(
            "inbound cert show {}",
            app.as_deref().map_or_else(|| "APP".to_string(), arg)
        ),
        Fix::AppCredentials { app } => format!("inbound edit --app {} --secret-stdin", arg(app)),
        Fix::ChooseApp { server } => format!("inbound edit {} --app APP", arg(server)),
        Fix::Refresh {
            server,
            schedule: true,
        } => format!("inbound refresh {} (schedule refresh --all daily)", arg(server)),
        Fix::Refresh { server, .. } => format!("inbound refresh {}", arg(server)),
        Fix::Test { server } | Fix::RetryLater { server } | Fix::MailboxPermission { server } => {
            format!("inbound test {}", arg(server))
        }
        Fix::CaFile { server } => format!("inbound edit {} --ca-file FILE", arg(server)),
        Fix::ExchangeSetup { server } => format!("inbound exchange-setup {}", arg(server)),
        Fix::ExchangeRefused(r) => format!("inbound exchange-setup {}", arg(&r.server)),
        Fix::Tenant { app } => format!("inbound edit --app {} --tenant TENANT", arg(app)),
        Fix::Password { server } => format!("inbound edit {} --password-stdin", arg(server)),
        Fix::AdminConsent { server } => format!("inbound connect {} --admin-consent", arg(server)),
        Fix::SignInAs { server, account } => {
            format!("inbound edit {} --sign-in-as {}", arg(server), word(account))
        }
        Fix::ChooseCloud { app, server, clouds } => {
            let keys = |cs: &[crate::model::Cloud]| cs.iter().map(|c| c.key()).collect::<Vec<_>>().join("|");
            match (server, app, clouds.as_slice()) {
                // The server's cloud or the app's: either may be the wrong one.
                (Some(s), Some(a), [for_server, for_app, ..]) => format!(
                    "inbound edit {} --cloud {} (or inbound edit --app {} --cloud {})",
                    arg(s),
                    for_server.key(),
                    arg(a),
                    for_app.key()
                ),
                (Some(s), _, cs) => format!("inbound edit {} --cloud {}", arg(s), keys(cs)),
                (None, Some(a), cs) => format!("inbound edit --app {} --cloud {}", arg(a), keys(cs)),
                // Nothing stored yet (add, setup): the flag of the command being typed.
                (None, None, cs) => format!("--cloud {}", keys(cs)),
            }
        }
        Fix::BrowserSignIn { server } => format!(
            "inbound connect {}",
            server.as_deref().map_or_else(|| "NAME".to_string(), arg)
        ),
        Fix::PublicClient => "inbound add … --public-client".into(),
        Fix::PublicUrl { url: Some(url) } => format!("inbound settings --public-url {url}"),
        Fix::PublicUrl { url: None } => "inbound settings --no-public-url".into(),
        Fix::SetupScript => "inbound setup-script".into(),
        Fix::EditServer { server, field } => match field {
            ServerField::Host => format!("inbound edit {} --host HOST", arg(server)),
            ServerField::Username => format!("inbound edit {} --username ADDRESS", arg(server)),
            ServerField::App => format!("inbound edit {} --app APP (inbound apps lists them)", arg(server)),
        },
        Fix::EditApp { app, field } => match field {
            AppField::ClientId => format!("inbound edit --app {} --client-id GUID", arg(app)),
            AppField::Tenant => format!("inbound edit --app {} --tenant TENANT", arg(app)),
            AppField::Cloud => format!("inbound edit --app {} --cloud CLOUD", arg(app)),
        },
        Fix::AllowPublicClientFlows | Fix::Advice(_) => return None,
    })
}

/// Words and command for people at a shell: "sign in again: inbound connect \"X\"".
pub fn text(fix: &Fix) -> String {
    match (fix, command(fix)) {
        // The browser paths, each with its own command (a tunnel, or the address pasted).
        (Fix::BrowserSignIn { server }, _) => browser_instead(server.as_deref()),
        (_, Some(c)) => format!("{}: {c}", fix.advice()),
        (_, None) => fix.advice(),
    }
}

/// Words followed by their fix's command: "… choose it: --cloud usgov|china.".
pub fn advice(a: &Advice) -> String {
    match a.fix.as_ref().map(|f| (f, command(f))) {
        Some((_, Some(c))) if a.words.is_empty() => c,
        // A flag of the command being typed ends the sentence.
        Some((_, Some(c))) if c.starts_with("--") => format!("{}: {c}.", a.words),
        Some((_, Some(c))) => format!("{}: {c}", a.words),
        Some((f, None)) if a.words.is_empty() => f.advice(),
        _ => a.words.clone(),
    }
}

/// Doctor's fix of a step: each piece of advice, joined.
pub fn remedy(r: &Remedy) -> String {
    r.0.iter().map(advice).collect::<Vec<_>>().join("; ")
}

/// Doctor's detail of a step, with what comes after a pass.
pub fn step_detail(s: &StepResult) -> String {
    match s.then.as_ref().and_then(command) {
        Some(c) => format!("{} ({c} marks it Confirmed)", s.detail),
        None => s.detail.clone(),
    }
}

/// Pre-flight's fix in `--json` (`add`, `doctor`): the words with the command.
impl serde::Serialize for Advice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&advice(self))
    }
}

/// `doctor --json`'s step: `{"step", "status", "detail", "fix"}`.
impl serde::Serialize for StepResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Out {
            step: Step,
            status: Status,
            detail: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            fix: Option<String>,
        }
        Out {
            step: self.step,
            status: self.status,
            detail: step_detail(self),
            fix: self.fix.as_ref().map(remedy),
        }
        .serialize(s)
    }
}

/// The identity mismatch, as `connect` prints it and `connect --json` carries it.
pub fn mismatch(m: &Mismatch) -> String {
    match m.fix().and_then(|f| command(&f)) {
        Some(c) => format!("{} ({c})", m.words()),
        None => m.words(),
    }
}

/// An error's message as the CLI prints it: the core's, with the commands and flags.
pub fn message(e: &Error) -> String {
    match e {
        Error::NotFound { .. } => format!("{e} (inbound list shows them)"),
        Error::ProxyPasswordSet { server } => format!(
            "\"{server}\" has a proxy password already: --rotate replaces it (the old one stops working), --remove deletes it"
        ),
        Error::Store(s) => store_message(s),
        _ => e.to_string(),
    }
}

/// A store error as the CLI prints it: the flag and variable that choose the store.
pub fn store_message(e: &StoreError) -> String {
    match e {
        StoreError::NoHome => {
            "cannot find a home directory for the store; pass --config-dir DIR or set INBOUND_CONFIG_DIR"
                .into()
        }
        StoreError::NoStore { path } => format!(
            "no store at {} (nothing was created): check --config-dir or INBOUND_CONFIG_DIR; a store is made by inbound add, inbound cert new or inbound settings with a change",
            path.display()
        ),
        StoreError::OtherOwner {
            path,
            owner,
            me,
            rerun,
        } => format!(
            "{} belongs to {owner}, but inbound runs as {me}; using it would leave files {me} owns in {owner}'s store. Run it as its owner: {rerun}\nor pass --allow-other-owner to use it anyway (files keep their owner)",
            path.display()
        ),
        _ => e.to_string(),
    }
}

/// What to do about an error, in the CLI's words: the core's hint, with the commands where
/// the core's data names a fix the hint's words only describe.
pub fn hint(e: &Error) -> Option<String> {
    match e {
        // Only `inbound connect` meets this: the commands are the answer.
        Error::AppOnly { server } => Some(format!(
            "get a token: inbound token {server} · test it: inbound test {server} · the Exchange side: inbound exchange-setup {server}",
            server = arg(server)
        )),
        Error::NeedsAdminConsent(n) => Some(admin_routes(n)),
        Error::Preflight(list) => list.failure().and_then(|c| match &c.outcome {
            Outcome::Failed { fix, .. } => Some(advice(fix)),
            _ => None,
        }),
        Error::Device { fix: Some(fix), .. } if matches!(**fix, Fix::BrowserSignIn { .. }) => Some(text(fix)),
        Error::Probe {
            source: crate::services::imap::ProbeError::AppOnlyRejected { rejection, .. },
            ..
        } => Some(rejected(rejection)),
        Error::OAuth { source, .. } => e.hint().map(|h| match source.fix().as_ref().and_then(command) {
            Some(c) => format!("{h} ({c})"),
            None => h,
        }),
        _ => e.hint(),
    }
}

/// The command line that fixes an error, where [`hint`] does not say it already.
pub fn runnable(e: &Error) -> Option<String> {
    match e {
        Error::AppOnly { .. }
        | Error::NeedsAdminConsent(_)
        | Error::Preflight(_)
        | Error::Device { .. }
        | Error::OAuth { .. } => None,
        _ => e.fix().as_ref().and_then(command),
    }
}

/// What to do about an error: the hint in words, then the command line that fixes it.
pub fn error_lines(e: &Error) -> Vec<String> {
    let mut lines: Vec<String> = hint(e).into_iter().collect();
    lines.extend(runnable(e).map(|c| format!("run: {c}")));
    lines
}

/// A refused app-only login: the causes with their lines, how to test again and where all
/// the commands are.
pub fn rejected(r: &Rejection) -> String {
    let server = arg(&r.server);
    let causes: Vec<String> = r
        .causes
        .iter()
        .enumerate()
        .map(|(i, c)| match &c.line {
            Some(line) => format!("({}) {}: {line}", i + 1, c.what),
            None => format!("({}) {}", i + 1, c.what),
        })
        .collect();
    if let Some(why) = &r.unread {
        let [sp, role, imap] = [0, 1, 2].map(|i| r.causes.get(i).map_or("", |c| c.what.as_str()));
        return format!(
            "in order: {sp} (inbound exchange-setup {server}); {role}; {imap} (reading the setup failed: {why})"
        );
    }
    let mut advice = format!(
        "{}. In order: {}. {REPLICATION_NOTE}: run the test again in a few minutes ({}). All commands: inbound exchange-setup {server}",
        r.lead,
        causes.join("; "),
        command(&r.retry()).unwrap_or_default(),
    );
    if let Some(app) = &r.placeholder_app {
        advice.push_str(&format!(
            ". {PRINCIPAL_PLACEHOLDER}: Enterprise applications → \"{app}\" → Object ID"
        ));
    }
    advice
}

/// A setup code's redirect that differs from the one inbound signs in at: "…: run inbound
/// settings --public-url URL".
pub fn redirect(a: &Advice) -> String {
    match a.fix.as_ref().and_then(command) {
        Some(c) => format!("{}: run {c}", a.words),
        None => a.words.clone(),
    }
}

/// Both routes of an admin consent with their commands. The link stands alone on the last
/// line, so it can be copied whole.
pub fn admin_routes(n: &AdminConsentNeeded) -> String {
    let again = if n.declined {
        format!(
            "if you pressed Cancel, connect again and accept (inbound connect {}); or, if Microsoft said \"Need admin approval\", an admin must grant it:\n   ",
            arg(&n.server)
        )
    } else {
        String::new()
    };
    format!(
        "{again}either, if you are an admin ({ADMIN_ROLES}), grant it for the organization; the sign-in follows at once:\n     inbound connect {server} --admin-consent\n   or send this link to your admin. After accepting, their browser ends on an address with admin_consent=True (the page itself may not load): paste it into inbound connect {server} --admin-consent to record the grant and sign in, or just connect again:\n     {}",
        n.admin_link,
        server = arg(&n.server),
    )
}

/// Device code is blocked by the tenant: the two browser paths, which work over SSH too.
fn browser_instead(server: Option<&str>) -> String {
    let name = server.map_or_else(|| "NAME".to_string(), arg);
    format!(
        "this tenant's Conditional Access (or security defaults) blocks device-code sign-in, and only an admin can change that. Sign in with the browser instead: run inbound connect {name} and either keep a tunnel open from your own computer (ssh -N -L PORT:localhost:PORT this-host, with the port it prints) or paste the address your browser ended on (inbound connect {name} --paste). If device code must work, give an admin the correlation ID"
    )
}

/// `--json`: `{"level", "message", "fix": words + command, "fix_kind", "fix_command"}`. The
/// CLI writes every document that carries a finding (`check`, `show`, serve's notifications).
impl serde::Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            level: Level,
            message: &'a str,
            fix: String,
            fix_kind: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            fix_command: Option<String>,
        }
        Out {
            level: self.level,
            message: &self.message,
            fix: text(&self.fix),
            fix_kind: self.fix.kind(),
            fix_command: command(&self.fix),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_keep_their_words() {
        assert_eq!(
            command(&Fix::Tenant { app: "A".into() }).as_deref(),
            Some("inbound edit --app \"A\" --tenant TENANT")
        );
        assert_eq!(
            command(&Fix::AdminConsent { server: "S".into() }).as_deref(),
            Some("inbound connect \"S\" --admin-consent")
        );
        assert_eq!(
            text(&Fix::Connect { server: "S".into() }),
            "sign in again: inbound connect \"S\""
        );
        let m = Mismatch {
            account: "me@contoso.com".into(),
            mailbox: "support@contoso.com".into(),
            delegate: None,
            server: "Support".into(),
        };
        assert!(
            mismatch(&m).ends_with("set Sign in as (inbound edit \"Support\" --sign-in-as me@contoso.com)"),
            "{}",
            mismatch(&m)
        );
        let hint = text(&Fix::BrowserSignIn {
            server: Some("Support".into()),
        });
        assert!(
            hint.contains("ssh -N -L") && hint.contains("inbound connect \"Support\" --paste"),
            "{hint}"
        );
    }
}
