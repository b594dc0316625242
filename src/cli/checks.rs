//! Printing pre-flight checklists and doctor reports (the data comes from the core).

use crate::model::AzureApp;
use crate::ops::Error;
use crate::ops::credentials;
use crate::ops::doctor::{Report, Status};
use crate::ops::preflight::{self, Checklist, Outcome, PreflightOptions, Progress};

/// Runs pre-flight for `app`, saying each wait on stderr, and prints the checklist.
pub async fn preflight(app: &AzureApp, opts: &PreflightOptions) -> Checklist {
    say!("Checking the app's credentials with Microsoft (skip with --no-check) …");
    let list = preflight::run(app, opts, |p| {
        if let Progress::Waiting(w) = p {
            say!("  {}", w.message());
        }
    })
    .await;
    print_checklist(&list);
    list
}

/// Pre-flight for credentials that replace stored ones (a renewal by `add`): like
/// [`preflight`], but no answer from Microsoft refuses (the core's [`credentials::judge`]).
pub async fn preflight_replacing(app: &AzureApp, opts: &PreflightOptions) -> Result<Checklist, Error> {
    say!(
        "Checking the new credentials with Microsoft before they replace the stored ones (skip with --no-check) …"
    );
    let list = preflight::run(app, opts, |p| {
        if let Progress::Waiting(w) = p {
            say!("  {}", w.message());
        }
    })
    .await;
    print_checks(&list);
    credentials::judge(list)
}

/// New credentials for stored app `app`, checked with Microsoft before they replace the old
/// ones (the core's [`credentials::replace`], which the app's secret rotation calls too).
pub async fn replace_credentials(
    store: &crate::store::Store,
    app: &str,
    patch: &crate::ops::servers::AppPatch,
    proof: credentials::Proof,
) -> Result<AzureApp, Error> {
    if proof == credentials::Proof::Required && preflight::patch_changes_credentials(patch) {
        say!("Checking the new credentials with Microsoft before they replace the old ones …");
    }
    let result = credentials::replace(store, app, patch, proof, &PreflightOptions::default(), |p| {
        if let Progress::Waiting(w) = p {
            say!("  {}", w.message());
        }
    })
    .await;
    match result {
        Ok(r) => {
            if let Some(list) = &r.checklist {
                say!("  {}", list.line());
            }
            Ok(r.app)
        }
        Err(e) => {
            if let Error::Preflight(list) | Error::Unverified(list) = &e {
                print_checks(list);
            }
            Err(e)
        }
    }
}

/// The one line, then a line for each check that did not pass (failures are reported by
/// the caller, with their fix).
pub fn print_checklist(list: &Checklist) {
    print_checks(list);
    if list.passed() && list.unanswered() {
        say!("  Not everything could be checked; saved anyway (sign-in checks again).");
    }
}

fn print_checks(list: &Checklist) {
    say!("  {}", list.line());
    for (glyph, names, why) in unanswered(list) {
        say!("  {glyph} {}: {why}", names.join(", "));
    }
}

/// The checks left unanswered or skipped, those with one reason together (one network error
/// leaves all three unanswered: said once, naming them).
fn unanswered(list: &Checklist) -> Vec<(&'static str, Vec<&'static str>, &str)> {
    let mut out: Vec<(&'static str, Vec<&'static str>, &str)> = Vec::new();
    for c in &list.checks {
        let (Outcome::Skipped { why } | Outcome::Unknown { why }) = &c.outcome else {
            continue;
        };
        let glyph = c.outcome.glyph();
        match out.iter_mut().find(|(g, _, w)| *g == glyph && *w == why.as_str()) {
            Some((_, names, _)) => names.push(c.item.label()),
            None => out.push((glyph, vec![c.item.label()], why)),
        }
    }
    out
}

/// `inbound doctor NAME`: one line per step, then the reason and fix under each that did not pass.
pub fn print_report(report: &Report) {
    for line in report_lines(report) {
        out!("{line}");
    }
}

/// The report's lines; a step left unanswered for the reason the step before gave (one
/// network error leaves the tenant and the credentials unanswered) says so, not it again.
fn report_lines(report: &Report) -> Vec<String> {
    let mut lines = vec![format!("{}: {}", report.server, report.level.label())];
    let mut before: Option<(Status, String)> = None;
    for step in &report.steps {
        let glyph = match step.status {
            Status::Passed => "✔",
            Status::Failed => "✖",
            Status::Skipped => "–",
            Status::Unknown => "?",
        };
        let detail = super::fix::step_detail(step);
        let same = step.status != Status::Passed
            && before.as_ref() == Some(&(step.status, detail.clone()))
            && step.fix.is_none();
        let shown = if same {
            "the same (see above)"
        } else {
            detail.as_str()
        };
        lines.push(format!("  {glyph} {:<12} {shown}", step.step.label()));
        if let Some(fix) = &step.fix {
            lines.push(format!("      → {}", super::fix::remedy(fix)));
        }
        before = Some((step.status, detail));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::preflight::{Check, CheckItem};

    #[test]
    fn one_network_error_is_said_once_naming_every_check_it_left() {
        let why = "login.microsoftonline.com did not answer (offline?); sign-in will check again";
        let list = Checklist {
            checks: [CheckItem::Tenant, CheckItem::App, CheckItem::Secret]
                .into_iter()
                .map(|item| Check {
                    item,
                    outcome: Outcome::Unknown { why: why.into() },
                })
                .collect(),
            tenant_id: None,
        };
        let lines = unanswered(&list);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].1, ["tenant", "app", "secret"]);
        assert_eq!(lines[0].2, why);
    }

    #[test]
    fn doctor_says_one_network_error_once() {
        use crate::model::health::Level;
        use crate::ops::doctor::{Step, StepResult};
        let why = "could not reach http://127.0.0.1:9 (connection refused); nothing was checked";
        let step = |step, status, detail: &str| StepResult {
            step,
            status,
            detail: detail.into(),
            fix: None,
            then: None,
        };
        let report = Report {
            server: "S".into(),
            level: Level::Warning,
            steps: vec![
                step(Step::Config, Status::Passed, "ok"),
                step(Step::Tenant, Status::Unknown, why),
                step(Step::Credentials, Status::Unknown, why),
            ],
            preflight: None,
        };
        let text = report_lines(&report).join("\n");
        assert_eq!(text.matches(why).count(), 1, "{text}");
        assert!(text.contains("credentials  the same (see above)"), "{text}");
    }
}
