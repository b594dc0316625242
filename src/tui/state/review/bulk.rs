//! Work on many servers at once: marks, a test or refresh of the marked (or of every server),
//! its live progress per server, the summary, and the walk through the sign-ins still needed.

use crate::model::AuthKind;
use crate::services::imap::{Stage, Timeouts};
use crate::tui::state::cmd::Cmd;
use crate::tui::state::keymap::{self, Action, Ctx};
use crate::tui::state::msg::{BulkEvent, RunId};
use crate::tui::state::{Model, Popup, Tone};
use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkKind {
    Test,
    Refresh,
}

impl BulkKind {
    fn verb(self) -> &'static str {
        match self {
            BulkKind::Test => "Testing",
            BulkKind::Refresh => "Refreshing",
        }
    }
}

/// Where one server of the batch is.
#[derive(Debug, Clone, PartialEq)]
pub enum RowState {
    Waiting,
    /// Under way since `since`; a test says its stage.
    Running {
        stage: Option<Stage>,
        since: Timestamp,
    },
    Passed(String),
    Failed {
        message: String,
        needs_sign_in: bool,
    },
    /// Left out before it started (a Basic server has no token to refresh …).
    Skipped {
        why: String,
        needs_sign_in: bool,
    },
    /// Esc came before it started.
    Cancelled,
}

impl RowState {
    pub fn finished(&self) -> bool {
        !matches!(self, RowState::Waiting | RowState::Running { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bulk {
    pub kind: BulkKind,
    pub run: RunId,
    pub rows: Vec<(String, RowState)>,
    pub started: Timestamp,
    pub finished: Option<Timestamp>,
    /// Esc was pressed: what has not started will not.
    pub cancelling: bool,
    /// The first row shown.
    pub scroll: u16,
}

/// How a batch ended, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub waiting: usize,
    pub running: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub cancelled: usize,
}

impl Bulk {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for (_, r) in &self.rows {
            match r {
                RowState::Waiting => c.waiting += 1,
                RowState::Running { .. } => c.running += 1,
                RowState::Passed(_) => c.passed += 1,
                RowState::Failed { .. } => c.failed += 1,
                RowState::Skipped { .. } => c.skipped += 1,
                RowState::Cancelled => c.cancelled += 1,
            }
        }
        c
    }

    pub fn running(&self) -> bool {
        self.finished.is_none()
    }

    /// "Testing 3 servers" / "Refreshing 1 server".
    pub fn title(&self) -> String {
        let n = self.rows.len();
        format!("{} {n} server{}", self.kind.verb(), if n == 1 { "" } else { "s" })
    }

    /// One line: progress while running, the summary at the end.
    pub fn summary(&self, now: Timestamp) -> String {
        let c = self.counts();
        let end = self.finished.unwrap_or(now);
        let secs = end.duration_since(self.started).as_secs().max(0);
        let ok = match self.kind {
            BulkKind::Test => "passed",
            BulkKind::Refresh => "refreshed",
        };
        let mut parts = vec![format!("{} {ok}", c.passed)];
        if c.failed > 0 {
            parts.push(format!("{} failed", c.failed));
        }
        if c.skipped > 0 {
            parts.push(format!("{} skipped", c.skipped));
        }
        if c.cancelled > 0 {
            parts.push(format!("{} cancelled", c.cancelled));
        }
        if self.running() {
            parts.push(format!("{} running", c.running));
            parts.push(format!("{} waiting", c.waiting));
            format!("{} · {secs} s so far", parts.join(" · "))
        } else {
            format!("Done in {secs} s: {}", parts.join(", "))
        }
    }

    /// The servers of the batch that need someone to sign in.
    pub fn need_sign_in(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|(_, r)| {
                matches!(
                    r,
                    RowState::Failed {
                        needs_sign_in: true,
                        ..
                    } | RowState::Skipped {
                        needs_sign_in: true,
                        ..
                    }
                )
            })
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// How long a test may spend on `stage` (what the elapsed time is shown against).
pub fn stage_timeout(stage: Stage) -> std::time::Duration {
    let t = Timeouts::default();
    match stage {
        Stage::Connect => t.connect,
        Stage::Tls => t.tls,
        Stage::Authenticate => t.authenticate,
        Stage::Greeting | Stage::Capabilities | Stage::Inbox | Stage::Logout => t.command,
    }
}

impl Model {
    /// Space: marks or unmarks the selected server.
    pub(crate) fn toggle_mark(&mut self) {
        let Some(name) = self.selected_server().map(|s| s.name.clone()) else {
            return;
        };
        if !self.marks.remove(&name) {
            self.marks.insert(name);
        }
        self.move_rows(1);
    }

    /// Marks every server shown; when all are marked already, unmarks them.
    pub(crate) fn mark_all_shown(&mut self) {
        let shown: Vec<String> = self
            .view
            .shown
            .iter()
            .filter_map(|i| self.servers().get(*i))
            .map(|s| s.name.clone())
            .collect();
        if shown.iter().all(|n| self.marks.contains(n)) {
            for n in &shown {
                self.marks.remove(n);
            }
        } else {
            self.marks.extend(shown);
        }
    }

    /// The marked servers in list order (marks of servers since deleted are dropped).
    pub fn marked(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .view
            .shown
            .iter()
            .filter_map(|i| self.servers().get(*i))
            .filter(|s| self.marks.contains(&s.name))
            .map(|s| s.name.clone())
            .collect();
        // Marked, but hidden by the find: still part of the batch, after the shown ones.
        if out.len() < self.marks.len() {
            for s in self.servers() {
                if self.marks.contains(&s.name) && !out.contains(&s.name) {
                    out.push(s.name.clone());
                }
            }
        }
        out
    }

    /// Starts a test or refresh of `names`, shown in the batch popup.
    pub(crate) fn start_bulk(&mut self, kind: BulkKind, names: Vec<String>) -> Vec<Cmd> {
        if self.bulk.as_ref().is_some_and(|b| b.running()) {
            let stop = keymap::key_or_mark(&[Ctx::Bulk], Action::Back);
            self.say(
                Tone::Warn,
                format!("A batch is still running: wait for it, or {stop} stops what has not started."),
            );
            self.popup = Some(Popup::Bulk);
            return Vec::new();
        }
        let run = self.run_id();
        let mut rows = Vec::with_capacity(names.len());
        let mut go = Vec::new();
        for name in names {
            let server = self.data.config.server(&name);
            let signed_in = self.data.tokens.get(&name).is_some_and(|f| f.tokens.is_some());
            let skip = match (kind, server.map(|s| s.auth)) {
                (BulkKind::Refresh, Some(AuthKind::Basic)) => Some(("Basic authentication: no token", false)),
                (BulkKind::Refresh, Some(AuthKind::OAuth2)) if !signed_in => {
                    Some(("not signed in yet", true))
                }
                _ => None,
            };
            match skip {
                Some((why, needs_sign_in)) => rows.push((
                    name,
                    RowState::Skipped {
                        why: why.into(),
                        needs_sign_in,
                    },
                )),
                None => {
                    go.push(name.clone());
                    rows.push((name, RowState::Waiting));
                }
            }
        }
        let mut bulk = Bulk {
            kind,
            run,
            rows,
            started: self.now,
            finished: None,
            cancelling: false,
            scroll: 0,
        };
        self.popup = Some(Popup::Bulk);
        if go.is_empty() {
            bulk.finished = Some(self.now);
            self.bulk = Some(Box::new(bulk));
            return Vec::new();
        }
        self.bulk = Some(Box::new(bulk));
        match kind {
            BulkKind::Test => vec![Cmd::BulkTest { run, servers: go }],
            BulkKind::Refresh => vec![Cmd::BulkRefresh { run, servers: go }],
        }
    }

    pub(crate) fn on_bulk(&mut self, run: RunId, server: &str, event: BulkEvent) -> Vec<Cmd> {
        let now = self.now;
        let Some(bulk) = self.bulk.as_deref_mut().filter(|b| b.run == run) else {
            return Vec::new();
        };
        let Some((_, row)) = bulk.rows.iter_mut().find(|(n, _)| n == server) else {
            return Vec::new();
        };
        *row = match event {
            BulkEvent::Started => RowState::Running {
                stage: None,
                since: now,
            },
            BulkEvent::Stage(stage) => RowState::Running {
                stage: Some(stage),
                since: now,
            },
            BulkEvent::Passed(text) => RowState::Passed(text),
            BulkEvent::Failed {
                message,
                needs_sign_in,
            } => RowState::Failed {
                message,
                needs_sign_in,
            },
            BulkEvent::Cancelled => RowState::Cancelled,
        };
        Vec::new()
    }

    pub(crate) fn on_bulk_finished(&mut self, run: RunId) -> Vec<Cmd> {
        let now = self.now;
        let Some(bulk) = self.bulk.as_deref_mut().filter(|b| b.run == run) else {
            return Vec::new();
        };
        // Anything not reported (the batch ended early) did not run.
        for (_, r) in bulk.rows.iter_mut().filter(|(_, r)| !r.finished()) {
            *r = RowState::Cancelled;
        }
        bulk.finished = Some(now);
        let summary = format!("{}: {}", bulk.title(), bulk.summary(now));
        let need = bulk.need_sign_in().len();
        let c = bulk.counts();
        let tone = if c.failed > 0 { Tone::Warn } else { Tone::Ok };
        let mut text = summary;
        if need > 0 {
            let key = keymap::key_or_mark(&[Ctx::BulkDone], Action::Connect);
            text.push_str(&format!(" · {need} need a sign-in ({key} walks them)"));
        }
        self.say(tone, text);
        vec![Cmd::Reload]
    }

    /// Keys over the batch popup.
    pub(crate) fn bulk_action(&mut self, action: Action) -> Vec<Cmd> {
        let Some(bulk) = self.bulk.as_deref_mut() else {
            self.popup = None;
            return Vec::new();
        };
        match action {
            Action::Back if bulk.running() => {
                bulk.cancelling = true;
                let run = bulk.run;
                self.say(
                    Tone::Info,
                    "Stopping: what has not started will not; what runs finishes.",
                );
                vec![Cmd::Cancel(run)]
            }
            Action::Back | Action::Open => {
                self.popup = None;
                Vec::new()
            }
            Action::Up => {
                bulk.scroll = bulk.scroll.saturating_sub(1);
                Vec::new()
            }
            Action::Down => {
                bulk.scroll = bulk
                    .scroll
                    .saturating_add(1)
                    .min(u16::try_from(bulk.rows.len()).unwrap_or(u16::MAX));
                Vec::new()
            }
            Action::Connect if !bulk.running() => {
                let queue = bulk.need_sign_in();
                self.popup = None;
                self.sign_in_queue = queue;
                self.next_sign_in()
            }
            _ => Vec::new(),
        }
    }

    /// Opens the sign-in of the next server that needs one (from the batch's list).
    pub(crate) fn next_sign_in(&mut self) -> Vec<Cmd> {
        if self.sign_in_queue.is_empty() {
            return Vec::new();
        }
        let name = self.sign_in_queue.remove(0);
        self.select_name(&name);
        let left = self.sign_in_queue.len();
        if left > 0 {
            self.say(
                Tone::Info,
                format!("Signing in \"{name}\"; {left} more after this one."),
            );
        }
        self.open_and_enter(crate::tui::state::wizard::Wizard::for_server(
            &self.data.config,
            &name,
            crate::tui::state::wizard::Step::Connect,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::state::msg::Msg;
    use crate::tui::testing;

    fn marked_model() -> Model {
        let mut m = testing::model(testing::populated());
        // Space on Support inbox, Sales and Billing (each mark moves down one).
        for _ in 0..3 {
            m.update(Msg::Action(Action::Mark));
        }
        m
    }

    #[test]
    fn space_marks_and_moves_on_and_star_marks_all_shown() {
        let mut m = marked_model();
        assert_eq!(m.marked(), ["Support inbox", "Sales", "Billing"]);
        m.update(Msg::Action(Action::MarkAll));
        assert_eq!(m.marked().len(), 5);
        m.update(Msg::Action(Action::MarkAll));
        assert!(m.marked().is_empty(), "all marked: the key unmarks them");
    }

    #[test]
    fn test_on_marks_runs_a_batch_with_progress_and_a_summary() {
        let mut m = marked_model();
        let cmds = m.update(Msg::Action(Action::Test));
        let [Cmd::BulkTest { run, servers }] = cmds.as_slice() else {
            panic!("{cmds:?}")
        };
        let run = *run;
        assert_eq!(servers, &["Support inbox", "Sales", "Billing"]);
        assert_eq!(m.popup, Some(Popup::Bulk));
        assert!(m.work_running());
        let ev = |m: &mut Model, server: &str, event: BulkEvent| {
            m.update(Msg::Bulk {
                run,
                server: server.into(),
                event,
            });
        };
        ev(&mut m, "Support inbox", BulkEvent::Stage(Stage::Authenticate));
        let b = m.bulk.as_ref().unwrap();
        assert!(matches!(
            b.rows[0].1,
            RowState::Running {
                stage: Some(Stage::Authenticate),
                ..
            }
        ));
        assert!(
            b.summary(m.now).contains("1 running · 2 waiting"),
            "{}",
            b.summary(m.now)
        );
        ev(
            &mut m,
            "Support inbox",
            BulkEvent::Passed("INBOX has 3 messages".into()),
        );
        ev(
            &mut m,
            "Sales",
            BulkEvent::Failed {
                message: "not signed in yet".into(),
                needs_sign_in: true,
            },
        );
        // Esc: Billing has not started; the runtime skips it.
        let cmds = m.update(Msg::Action(Action::Back));
        assert!(matches!(cmds.as_slice(), [Cmd::Cancel(r)] if *r == run));
        ev(&mut m, "Billing", BulkEvent::Cancelled);
        let cmds = m.update(Msg::BulkFinished { run });
        assert!(matches!(cmds.as_slice(), [Cmd::Reload]));
        let status = m.status.clone().unwrap();
        assert!(
            status.text.contains("1 passed, 1 failed, 1 cancelled")
                && status.text.contains("1 need a sign-in"),
            "{}",
            status.text
        );
        assert!(!m.work_running());
        // c walks the sign-ins: Sales' Connect step opens.
        let _ = m.update(Msg::Action(Action::Connect));
        assert_eq!(
            m.wizard().map(|w| (w.server.as_deref(), w.step)),
            Some((Some("Sales"), crate::tui::state::wizard::Step::Connect))
        );
    }

    #[test]
    fn refresh_on_marks_skips_what_has_no_token() {
        let mut m = testing::model(testing::populated());
        m.update(Msg::Action(Action::MarkAll));
        let cmds = m.update(Msg::Action(Action::Refresh));
        let [Cmd::BulkRefresh { servers, .. }] = cmds.as_slice() else {
            panic!("{cmds:?}")
        };
        // Sales is not signed in, Legacy is Basic: both are skipped, Sales needs a sign-in.
        assert_eq!(servers, &["Support inbox", "Billing", "Helpdesk"]);
        assert_eq!(m.bulk.as_ref().unwrap().need_sign_in(), ["Sales"]);
    }

    #[test]
    fn shift_t_tests_every_server() {
        let mut m = testing::model(testing::populated());
        let cmds = m.update(Msg::Action(Action::TestAll));
        assert!(matches!(cmds.as_slice(), [Cmd::BulkTest { servers, .. }] if servers.len() == 5));
    }
}
