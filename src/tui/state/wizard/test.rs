//! Step 7: Test & Confirm, stage by stage (`inbound test` in the CLI; `inbound check` is the
//! monitoring summary, something else).

use super::form::Form;
use super::{Effect, Step, StepCtx, StepEvent, Wizard};
use crate::model::AuthKind;
use crate::services::imap::{ProbeEvent, Stage};
use crate::tui::state::Tone;
use crate::tui::state::cmd::Cmd;
use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::state::msg::{ProbeFailure, RunId, TestEvent};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum StageState {
    Running,
    Passed { detail: String, elapsed: Duration },
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    pub stage: Stage,
    pub state: StageState,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Outcome {
    #[default]
    NotRun,
    Running,
    Passed {
        messages: u32,
    },
    Failed(ProbeFailure),
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestRun {
    pub run: Option<RunId>,
    pub stages: Vec<StageRow>,
    pub outcome: Outcome,
    /// When the stage under way started (shown against its time-out).
    pub stage_since: Option<jiff::Timestamp>,
}

impl TestRun {
    pub fn start(run: RunId) -> Self {
        Self {
            run: Some(run),
            stages: Vec::new(),
            outcome: Outcome::Running,
            stage_since: None,
        }
    }

    /// Applies one progress event of the current run.
    pub fn apply(&mut self, event: TestEvent) {
        match event {
            TestEvent::Progress(ProbeEvent::Started(stage)) => self.stages.push(StageRow {
                stage,
                state: StageState::Running,
            }),
            TestEvent::Progress(ProbeEvent::Passed {
                stage,
                detail,
                elapsed,
            }) => {
                let state = StageState::Passed { detail, elapsed };
                match self.stages.iter_mut().rev().find(|r| r.stage == stage) {
                    Some(row) => row.state = state,
                    None => self.stages.push(StageRow { stage, state }),
                }
            }
            TestEvent::Finished(Ok(messages)) => {
                self.run = None;
                self.outcome = Outcome::Passed { messages };
            }
            TestEvent::Finished(Err(failure)) => {
                self.run = None;
                if let Some(stage) = failure.stage {
                    match self.stages.iter_mut().rev().find(|r| r.stage == stage) {
                        Some(row) => row.state = StageState::Failed,
                        None => self.stages.push(StageRow {
                            stage,
                            state: StageState::Failed,
                        }),
                    }
                }
                self.outcome = Outcome::Failed(failure);
            }
        }
    }

    pub fn cancel(&mut self) {
        self.run = None;
        self.stages.retain(|r| r.state != StageState::Running);
        self.outcome = Outcome::Cancelled;
    }
}

pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, event: StepEvent) -> Vec<Effect> {
    let StepEvent::Action(action) = event else {
        return Vec::new();
    };
    let running = w.check.run;
    match action {
        Action::Open if matches!(w.check.outcome, Outcome::Passed { .. }) => vec![Effect::Leave],
        Action::Test if running.is_none() => start(w, ctx),
        Action::Edit if running.is_none() => {
            if let Some(f) = w.server.as_deref().and_then(|n| Form::edit(ctx.config, n)) {
                w.form = f;
            }
            vec![Effect::Enter(Step::Form)]
        }
        Action::Connect if running.is_none() => match auth_of(w, ctx) {
            Some(AuthKind::OAuth2) => vec![Effect::Enter(Step::Connect)],
            Some(AuthKind::OAuth2App) => vec![Effect::Say(
                Tone::Info,
                format!(
                    "App-only access has no sign-in: the app's own credentials get the token. {}",
                    keymap::keys_line(
                        &[Ctx::Test { app_only: true }],
                        &[(Action::Exchange, "shows the Exchange commands")]
                    )
                ),
            )],
            _ => vec![Effect::Say(
                Tone::Info,
                "Basic authentication has no sign-in; edit the server to change the password.".into(),
            )],
        },
        Action::Exchange if running.is_none() => match auth_of(w, ctx) {
            Some(AuthKind::OAuth2App) => vec![Effect::Enter(Step::Exchange)],
            _ => vec![Effect::Say(
                Tone::Info,
                "Exchange commands are for app-only servers; this one does not use app-only access.".into(),
            )],
        },
        Action::ScrollDown => {
            w.scroll = w.scroll.saturating_add(3).min(60);
            Vec::new()
        }
        Action::ScrollUp => {
            w.scroll = w.scroll.saturating_sub(3);
            Vec::new()
        }
        Action::Back => match running {
            Some(run) => {
                w.check.cancel();
                vec![
                    Effect::Say(Tone::Info, "Test cancelled.".into()),
                    Effect::Cmd(Cmd::Cancel(run)),
                ]
            }
            None => vec![Effect::Leave],
        },
        _ => Vec::new(),
    }
}

fn auth_of(w: &Wizard, ctx: &StepCtx) -> Option<AuthKind> {
    w.server
        .as_deref()
        .and_then(|n| ctx.config.server(n))
        .map(|s| s.auth)
}

/// Entering the step starts Test & Confirm.
pub(super) fn start(w: &mut Wizard, ctx: &mut StepCtx) -> Vec<Effect> {
    let Some(server) = w.server.clone() else {
        return Vec::new();
    };
    let run = ctx.run_id();
    w.check = TestRun::start(run);
    w.scroll = 0;
    vec![Effect::Cmd(Cmd::Test { run, server })]
}

/// Progress of the test this step started.
pub(super) fn on_event(w: &mut Wizard, run: RunId, event: TestEvent, now: jiff::Timestamp) -> Vec<Effect> {
    if w.check.run != Some(run) {
        return Vec::new();
    }
    if matches!(event, TestEvent::Progress(ProbeEvent::Started(_))) {
        w.check.stage_since = Some(now);
    }
    let finished = matches!(event, TestEvent::Finished(_));
    w.check.apply(event);
    if !finished {
        return Vec::new();
    }
    let server = w.server.clone().unwrap_or_default();
    let said = match &w.check.outcome {
        Outcome::Passed { .. } => Effect::Say(Tone::Ok, format!("\"{server}\" is Confirmed.")),
        _ => Effect::Say(Tone::Error, format!("Test & Confirm of \"{server}\" failed.")),
    };
    vec![said, Effect::Cmd(Cmd::Reload)]
}
