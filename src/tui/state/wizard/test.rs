//! Step 7: Test & Confirm, stage by stage.

use crate::tui::state::msg::{ProbeFailure, ProbeUpdate, RunId};
use crate::services::imap::Stage;
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
pub struct Check {
    pub run: Option<RunId>,
    pub stages: Vec<StageRow>,
    pub outcome: Outcome,
}

impl Check {
    pub fn start(run: RunId) -> Self {
        Self {
            run: Some(run),
            stages: Vec::new(),
            outcome: Outcome::Running,
        }
    }

    /// Applies one progress event of the current run.
    pub fn apply(&mut self, event: ProbeUpdate) {
        match event {
            ProbeUpdate::Started(stage) => self.stages.push(StageRow {
                stage,
                state: StageState::Running,
            }),
            ProbeUpdate::Passed {
                stage,
                detail,
                elapsed,
            } => {
                let state = StageState::Passed { detail, elapsed };
                match self.stages.iter_mut().rev().find(|r| r.stage == stage) {
                    Some(row) => row.state = state,
                    None => self.stages.push(StageRow { stage, state }),
                }
            }
            ProbeUpdate::Finished(Ok(messages)) => {
                self.run = None;
                self.outcome = Outcome::Passed { messages };
            }
            ProbeUpdate::Finished(Err(failure)) => {
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
