//! What the app shows of `inbound serve`: the header says whether one runs on this store and
//! since when; the details show the next scheduled refresh and test.

use super::*;
use crate::ops::serve::status::{Next, ServeState, ServeStatus};

fn with_serve(state: impl FnOnce(&crate::tui::state::msg::Snapshot) -> ServeState) -> Model {
    let mut data = testing::populated();
    data.serve = state(&data);
    testing::model(data)
}

fn status(data: &crate::tui::state::msg::Snapshot) -> ServeStatus {
    let support = data.config.server("Support inbox").unwrap();
    let mut next = std::collections::BTreeMap::new();
    next.insert(
        support.id.clone(),
        Next {
            refresh: Some(now() + SignedDuration::from_mins(36)),
            test: Some(now() + SignedDuration::from_hours(4)),
        },
    );
    ServeStatus {
        pid: 4242,
        started_at: now() - SignedDuration::from_hours(26),
        updated_at: now(),
        proxy: false,
        metrics: None,
        next,
    }
}

#[test]
fn review_with_serve_running_shows_since_when_and_the_next_refresh_and_test() {
    let m = with_serve(|d| ServeState::Running(Box::new(status(d))));
    snap("serve_running_review", &m, 100, 30);
}

#[test]
fn review_after_serve_was_killed_says_it_is_not_running() {
    let m = with_serve(|d| ServeState::Stopped(Box::new(status(d))));
    snap("serve_stopped_review", &m, 100, 30);
}

#[test]
fn a_narrow_header_keeps_the_counts_and_drops_the_serve_note() {
    let m = with_serve(|d| ServeState::Running(Box::new(status(d))));
    snap("serve_running_review_narrow", &m, 60, 20);
}
