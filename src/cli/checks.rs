//! Printing pre-flight checklists and doctor reports (the data comes from the core).

use crate::model::AzureApp;
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

/// The one line, then a line for each check that did not pass (failures are reported by
/// the caller, with their fix).
pub fn print_checklist(list: &Checklist) {
    say!("  {}", list.line());
    for c in &list.checks {
        match &c.outcome {
            Outcome::Skipped { why } | Outcome::Unknown { why } => {
                say!("  {} {}: {why}", c.outcome.glyph(), c.item.label())
            }
            Outcome::Passed { .. } | Outcome::Failed { .. } => {}
        }
    }
    if list.passed() && list.unanswered() {
        say!("  Not everything could be checked; saved anyway (sign-in checks again).");
    }
}

/// `inbound doctor NAME`: one line per step, then the reason and fix under each that did not pass.
pub fn print_report(report: &Report) {
    out!("{}: {}", report.server, report.level.label());
    for step in &report.steps {
        let glyph = match step.status {
            Status::Passed => "✔",
            Status::Failed => "✖",
            Status::Skipped => "–",
            Status::Unknown => "?",
        };
        out!("  {glyph} {:<12} {}", step.step.label(), step.detail);
        if let Some(fix) = &step.fix {
            out!("      → {fix}");
        }
    }
}
