//! `inbound doctor NAME`: the whole chain for one server, in order, each step passed, failed,
//! skipped or unknown with its reason and fix: config sane → tenant resolves → credentials
//! accepted (pre-flight) → token usable (refreshing when due) → IMAP host reachable with TLS →
//! login and INBOX. Nothing is recorded: doctor diagnoses, Test & Confirm confirms.

use super::preflight::{self, CheckItem, Checklist, Outcome, PreflightOptions};
use super::test::probe_server;
use super::tokens::{Policy, fresh_token};
use super::{Error, Result};
use crate::model::health::{Advice, AppField, Fix, Level, Remedy, ServerField};
use crate::model::validate;
use crate::model::{AuthKind, AzureApp, Cloud, Server};
use crate::services::imap::{ProbeEvent, Stage, Timeouts};
use crate::store::Store;
use jiff::Timestamp;
use serde::Serialize;

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Config,
    Tenant,
    Credentials,
    Token,
    Connect,
    Login,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Config => "config",
            Step::Tenant => "tenant",
            Step::Credentials => "credentials",
            Step::Token => "token",
            Step::Connect => "IMAP host",
            Step::Login => "login",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
    /// Not answered (offline) or passed with a warning.
    Unknown,
}

/// Serialised by the face that prints it (the CLI words its fix: `cli::fix`).
#[derive(Debug, Clone, PartialEq)]
pub struct StepResult {
    pub step: Step,
    pub status: Status,
    /// What was found, or why it failed.
    pub detail: String,
    pub fix: Option<Remedy>,
    /// A passed step's next step (the login's: Test & Confirm marks the server Confirmed).
    pub then: Option<Fix>,
}

/// The whole diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub server: String,
    /// OK when every step passed (or was skipped on purpose), WARNING when one went
    /// unanswered, CRITICAL when one failed: the exit code, as for `check`.
    pub level: Level,
    pub steps: Vec<StepResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preflight: Option<Checklist>,
}

struct Builder {
    steps: Vec<StepResult>,
    /// The next step of the step pushed next.
    then: Option<Fix>,
}

impl Builder {
    fn push(&mut self, step: Step, status: Status, detail: impl Into<String>, fix: Option<Remedy>) {
        self.steps.push(StepResult {
            step,
            status,
            detail: detail.into(),
            fix,
            then: self.then.take(),
        });
    }
    fn skip(&mut self, steps: &[Step], why: &str) {
        for s in steps {
            self.push(*s, Status::Skipped, why, None);
        }
    }
    fn failed(&self, step: Step) -> bool {
        self.steps
            .iter()
            .any(|s| s.step == step && s.status == Status::Failed)
    }
}

/// Runs every step for `name`; `on_step` is told as each one starts.
pub async fn diagnose(
    store: &Store,
    name: &str,
    timeouts: Timeouts,
    mut on_step: impl FnMut(Step),
) -> Result<Report> {
    let config = store.load()?;
    let server = super::server_named(&config, name)?;
    let app = config.app_of(&server).cloned();
    let mut b = Builder {
        steps: Vec::new(),
        then: None,
    };
    on_step(Step::Config);
    let fatal = config_step(&mut b, &server, app.as_ref());
    let mut preflight_list = None;
    if fatal {
        b.skip(
            &[
                Step::Tenant,
                Step::Credentials,
                Step::Token,
                Step::Connect,
                Step::Login,
            ],
            "fix the configuration first",
        );
        return Ok(finish(name, b, None));
    }
    match (&server.auth, &app) {
        (AuthKind::OAuth2 | AuthKind::OAuth2App, Some(app)) => {
            on_step(Step::Tenant);
            let list = preflight::run(app, &PreflightOptions::default(), |p| {
                if p == preflight::Progress::Checking(CheckItem::App) {
                    on_step(Step::Credentials);
                }
            })
            .await;
            credential_steps(&mut b, &list, &app.tenant);
            preflight_list = Some(list);
        }
        _ => b.skip(
            &[Step::Tenant, Step::Credentials],
            "Basic authentication signs in with a password",
        ),
    }
    if server.auth.is_oauth() {
        on_step(Step::Token);
        match fresh_token(store, name, Policy::WhenDue, Timestamp::now).await {
            Ok(f) => {
                let mut detail = format!(
                    "valid until {}{}",
                    crate::timefmt::local(f.tokens.expires_at),
                    f.tokens
                        .account
                        .as_deref()
                        .map(|a| format!(", signed in as {a}"))
                        .unwrap_or_default()
                );
                if f.refreshed {
                    detail.push_str(" (refreshed now)");
                }
                match f.warning {
                    Some(w) => b.push(Step::Token, Status::Unknown, format!("{detail}, but {w}"), None),
                    None => b.push(Step::Token, Status::Passed, detail, None),
                }
            }
            Err(e) => {
                let fix = fix_text(&e);
                b.push(Step::Token, Status::Failed, e.to_string(), fix);
            }
        }
    } else {
        b.push(
            Step::Token,
            Status::Skipped,
            "Basic authentication has no token",
            None,
        );
    }
    if b.failed(Step::Token) {
        b.skip(&[Step::Connect, Step::Login], "needs a usable token first");
        return Ok(finish(name, b, preflight_list));
    }
    on_step(Step::Connect);
    imap_steps(&mut b, store, name, timeouts).await;
    Ok(finish(name, b, preflight_list))
}

fn finish(name: &str, b: Builder, preflight: Option<Checklist>) -> Report {
    let level = b
        .steps
        .iter()
        .map(|s| match s.status {
            Status::Failed => Level::Critical,
            Status::Unknown => Level::Warning,
            Status::Passed | Status::Skipped => Level::Ok,
        })
        .max()
        .unwrap_or(Level::Ok);
    Report {
        server: name.into(),
        level,
        steps: b.steps,
        preflight,
    }
}

/// Checks the stored configuration; true when nothing after it can run.
fn config_step(b: &mut Builder, server: &Server, app: Option<&AzureApp>) -> bool {
    let mut problems: Vec<(String, Advice)> = Vec::new();
    fn check<T>(
        problems: &mut Vec<(String, Advice)>,
        r: std::result::Result<T, validate::FieldError>,
        fix: Fix,
    ) {
        if let Err(e) = r {
            problems.push((
                e.to_string(),
                Advice {
                    words: String::new(),
                    fix: Some(fix),
                },
            ));
        }
    }
    let edit_server = |field| Fix::EditServer {
        server: server.name.clone(),
        field,
    };
    check(
        &mut problems,
        validate::host(&server.host),
        edit_server(ServerField::Host),
    );
    check(
        &mut problems,
        validate::username(&server.username),
        edit_server(ServerField::Username),
    );
    let mut fatal = false;
    match (server.auth, app) {
        (AuthKind::OAuth2 | AuthKind::OAuth2App, None) => {
            fatal = true;
            problems.push((
                format!(
                    "the Azure app \"{}\" is missing",
                    server.app.as_deref().unwrap_or("(none)")
                ),
                Advice {
                    words: "point the server at a stored app".into(),
                    fix: Some(edit_server(ServerField::App)),
                },
            ));
        }
        (AuthKind::OAuth2 | AuthKind::OAuth2App, Some(app)) => {
            let before = problems.len();
            let edit_app = |field| Fix::EditApp {
                app: app.name.clone(),
                field,
            };
            check(
                &mut problems,
                validate::client_id(&app.client_id),
                edit_app(AppField::ClientId),
            );
            check(
                &mut problems,
                validate::tenant(&app.tenant),
                edit_app(AppField::Tenant),
            );
            check(
                &mut problems,
                validate::authority(&app.authority),
                edit_app(AppField::Cloud),
            );
            fatal = problems.len() > before;
            if let (Some(a), Some(h)) = (app.cloud(), Cloud::of_imap_host(&server.host))
                && !a.same_directory(h)
            {
                problems.push((
                    format!(
                        "the app signs in to {} but Server Name {} is {}'s Exchange Online",
                        a.label(),
                        server.host,
                        h.label()
                    ),
                    Advice {
                        words: "choose one cloud".into(),
                        // The server to the app's cloud, or the app to the host's.
                        fix: Some(Fix::ChooseCloud {
                            app: Some(app.name.clone()),
                            server: Some(server.name.clone()),
                            clouds: vec![a, h],
                        }),
                    },
                ));
            }
            if let Some(d) = app.secret_expires
                && d < jiff::Zoned::now().date()
            {
                problems.push((
                    format!("the client secret expired on {d}"),
                    Advice {
                        words: "create a new secret (Certificates & secrets), then".into(),
                        fix: Some(Fix::NewSecret {
                            app: Some(app.name.clone()),
                        }),
                    },
                ));
            }
        }
        (AuthKind::Basic, _) => {
            if server.password.is_none() {
                problems.push((
                    "no password stored".into(),
                    Advice {
                        words: String::new(),
                        fix: Some(Fix::Password {
                            server: server.name.clone(),
                        }),
                    },
                ));
            }
        }
    }
    if problems.is_empty() {
        let who = match app {
            Some(a) => format!(
                ", app {} ({})",
                a.name,
                a.cloud()
                    .map_or_else(|| a.authority.clone(), |c| c.label().to_string())
            ),
            None => String::new(),
        };
        b.push(
            Step::Config,
            Status::Passed,
            format!("{}:{} as {}{who}", server.host, server.port, server.username),
            None,
        );
    } else {
        let detail: Vec<&str> = problems.iter().map(|(d, _)| d.as_str()).collect();
        let fix = Remedy(problems.iter().map(|(_, f)| f.clone()).collect());
        b.push(Step::Config, Status::Failed, detail.join("; "), Some(fix));
    }
    fatal
}

fn from_outcome(b: &mut Builder, step: Step, outcome: &Outcome, passed: String) {
    match outcome {
        Outcome::Passed { .. } => b.push(step, Status::Passed, passed, None),
        Outcome::Failed { reason, fix, .. } => {
            b.push(step, Status::Failed, reason.clone(), Some(fix.clone().into()))
        }
        Outcome::Skipped { why } => b.push(step, Status::Skipped, why.clone(), None),
        Outcome::Unknown { why } => b.push(step, Status::Unknown, why.clone(), None),
    }
}

fn credential_steps(b: &mut Builder, list: &Checklist, tenant_typed: &str) {
    let unknown = Outcome::Unknown {
        why: "not checked".into(),
    };
    let tenant = list.get(CheckItem::Tenant).unwrap_or(&unknown);
    let tenant_detail = match (tenant, &list.tenant_id) {
        (Outcome::Passed { .. }, Some(id)) if id.eq_ignore_ascii_case(tenant_typed) => format!("{id} found"),
        (Outcome::Passed { .. }, Some(id)) => format!("{tenant_typed} = {id}"),
        (Outcome::Passed { detail }, None) => detail.clone(),
        _ => String::new(),
    };
    from_outcome(b, Step::Tenant, tenant, tenant_detail);
    // The app and its secret are one step: one token request proves both.
    let app = list.get(CheckItem::App).unwrap_or(&unknown);
    let secret = list.get(CheckItem::Secret).unwrap_or(&unknown);
    let worst = [app, secret]
        .into_iter()
        .max_by_key(|o| match o {
            Outcome::Failed { .. } => 3,
            Outcome::Unknown { .. } => 2,
            Outcome::Skipped { .. } => 1,
            Outcome::Passed { .. } => 0,
        })
        .unwrap_or(&unknown);
    from_outcome(b, Step::Credentials, worst, "app found, secret accepted".into());
}

async fn imap_steps(b: &mut Builder, store: &Store, name: &str, timeouts: Timeouts) {
    let mut connect_details: Vec<String> = Vec::new();
    let result = probe_server(store, name, timeouts, |ev| {
        if let ProbeEvent::Passed { stage, detail, .. } = ev
            && matches!(stage, Stage::Connect | Stage::Tls)
        {
            connect_details.push(detail);
        }
    })
    .await;
    let connected = connect_details.join(", ");
    match result {
        Ok(report) => {
            b.push(Step::Connect, Status::Passed, connected, None);
            b.then = Some(Fix::Test { server: name.into() });
            b.push(
                Step::Login,
                Status::Passed,
                format!("INBOX has {} messages", report.messages),
                None,
            );
        }
        Err(Error::Probe { source, .. }) => {
            let early = matches!(source.stage(), Stage::Connect | Stage::Tls | Stage::Greeting);
            if early {
                b.push(
                    Step::Connect,
                    Status::Failed,
                    source.to_string(),
                    Some(Advice::from(source.hint()).into()),
                );
                b.push(Step::Login, Status::Skipped, "needs a connection first", None);
            } else {
                b.push(Step::Connect, Status::Passed, connected, None);
                b.push(
                    Step::Login,
                    Status::Failed,
                    source.to_string(),
                    Some(Advice::from(source.hint()).into()),
                );
            }
        }
        Err(e) => {
            let fix = fix_text(&e);
            b.push(Step::Connect, Status::Skipped, "not reached", None);
            b.push(Step::Login, Status::Failed, e.to_string(), fix);
        }
    }
}

/// The fix of an error as data (each face words it), else the hint.
fn fix_text(e: &Error) -> Option<Remedy> {
    e.fix()
        .map(|f| Advice {
            words: f.advice(),
            fix: Some(f),
        })
        .or_else(|| e.hint().map(Advice::from))
        .map(Remedy::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ServerState, ServerType};

    fn server(host: &str) -> Server {
        Server {
            sign_in_as: None,
            id: "1".into(),
            name: "S".into(),
            server_type: ServerType::Imap,
            auth: AuthKind::OAuth2,
            host: host.into(),
            port: 993,
            ssl: true,
            username: "a@contoso.com".into(),
            app: Some("A".into()),
            password: None,
            ca_file: None,
            state: ServerState::Draft,
            last_test: None,
        }
    }

    fn app(cloud: Cloud) -> AzureApp {
        AzureApp {
            public_client: false,
            admin_consent_at: None,
            name: "A".into(),
            client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
            tenant: "contoso.com".into(),
            secret: None,
            secret_expires: None,
            authority: cloud.authority().into(),
            certificate: None,
        }
    }

    fn config(host: &str, app_: Option<AzureApp>) -> StepResult {
        let mut b = Builder {
            steps: Vec::new(),
            then: None,
        };
        config_step(&mut b, &server(host), app_.as_ref());
        b.steps.remove(0)
    }

    #[test]
    fn a_cloud_mismatch_between_app_and_host_is_a_config_failure() {
        let bad = config(Cloud::China.imap_host(), Some(app(Cloud::UsGov)));
        assert_eq!(bad.status, Status::Failed);
        assert!(bad.detail.contains("China (21Vianet)"), "{}", bad.detail);
        assert!(matches!(
            &bad.fix.unwrap().0[0].fix,
            Some(Fix::ChooseCloud { clouds, .. }) if clouds == &[Cloud::UsGov, Cloud::China]
        ));
        // GCC High and DoD share one directory.
        let ok = config(Cloud::UsGovDod.imap_host(), Some(app(Cloud::UsGov)));
        assert_eq!(ok.status, Status::Passed, "{}", ok.detail);
        assert!(ok.detail.contains("US Government (GCC High)"), "{}", ok.detail);
    }

    #[test]
    fn a_missing_app_stops_the_chain() {
        let mut b = Builder {
            steps: Vec::new(),
            then: None,
        };
        assert!(config_step(&mut b, &server("outlook.office365.com"), None));
        assert_eq!(b.steps[0].status, Status::Failed);
        assert!(matches!(
            &b.steps[0].fix.as_ref().unwrap().0[0].fix,
            Some(Fix::EditServer {
                field: ServerField::App,
                ..
            })
        ));
        let report = finish("S", b, None);
        assert_eq!(report.level, Level::Critical);
    }
}
