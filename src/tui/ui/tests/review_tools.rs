//! The review's tools beyond the list: the message log popup, the mouse, the wizard's "an app
//! I already have", and import from a file.

use super::*;
use crate::tui::state::{Popup, Tone};

fn screen(m: &Model, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(m, f)).unwrap();
    format!("{}", t.backend())
}

/// A session that said a few things, one of them longer than any status bar.
fn talked() -> Model {
    let mut m = testing::model(testing::populated());
    m.say(Tone::Info, "Refreshing the token of \"Helpdesk\"…");
    m.say(Tone::Ok, "Token of \"Helpdesk\" refreshed; valid until 14:02.");
    m.say(
        Tone::Error,
        "Could not delete \"Sales\": the store could not be written (permission denied on /home/helpdesk/.config/inbound/config.json); nothing was changed, fix the permissions and try again.",
    );
    m
}

#[test]
fn a_long_status_line_wraps_and_past_three_rows_says_where_it_is_whole() {
    let m = talked();
    let s = screen(&m, 80, 24);
    assert!(s.contains("permissions and try again."), "{s}");
    assert!(!s.contains("(m: whole)"), "{s}");
    let s = screen(&m, 50, 20);
    assert!(s.contains("(m: whole)"), "{s}");
    snap("review_status_cut_points_to_the_log", &m, 50, 20);
}

#[test]
fn the_message_log_shows_every_line_whole() {
    let mut m = talked();
    act(&mut m, &[Action::Messages]);
    assert_eq!(m.popup, Some(Popup::Log));
    let s = screen(&m, 80, 24);
    assert!(s.contains("3 messages"), "{s}");
    assert!(
        s.contains("config.json); nothing was") && s.contains("changed, fix the permissions and try again."),
        "wrapped whole:\n{s}"
    );
    snap("review_log_popup", &m, 80, 24);
    snap("review_log_popup_140x40", &m, 140, 40);
}

#[test]
fn the_message_log_scrolls_to_older_lines() {
    let mut m = testing::model(testing::populated());
    for i in 0..40 {
        m.say(Tone::Info, format!("Message number {i}"));
    }
    act(&mut m, &[Action::Messages]);
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("Message number 39") && !s.contains("Message number 0 "),
        "{s}"
    );
    act(&mut m, &[Action::First]);
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("Message number 0") && !s.contains("Message number 39"),
        "{s}"
    );
    snap("review_log_popup_oldest", &m, 80, 24);
}

#[test]
fn an_empty_log_says_so() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Messages]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("Nothing was said yet"), "{s}");
}

#[test]
fn another_mailbox_of_an_app_i_already_have() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::New, Action::Right, Action::Right]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("Use an app I already have"), "{s}");
    assert!(
        !s.contains("With a client secret or without?"),
        "the app answers it:\n{s}"
    );
    snap("wizard_1_choose_existing_app", &m, 80, 24);
    act(&mut m, &[Action::Open]);
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("Contoso mail") && s.contains("Old app") && s.contains("\"Billing\""),
        "{s}"
    );
    snap("wizard_1_existing_apps", &m, 80, 24);
    snap("wizard_1_existing_apps_140x40", &m, 140, 40);
    act(&mut m, &[Action::Open]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("Another mailbox of the app"), "{s}");
    snap("wizard_4_form_like_existing_app", &m, 80, 24);
}

#[test]
fn import_from_the_app_checks_first_and_names_every_bad_row() {
    use crate::tui::state::review::import::ImportFailure;
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Import]);
    typed(&mut m, "~/desks.csv");
    snap("review_import_path", &m, 80, 24);
    let run = start(&mut m, Action::Submit);
    send(
        &mut m,
        [Msg::Imported {
            run,
            dry_run: true,
            result: Err(ImportFailure {
                message: "/home/admin/desks.csv: 3 bad fields; nothing was imported".into(),
                rows: vec![
                    "line 3, app: no Azure app named \"Contoso\"; inbound apps lists them".into(),
                    "line 4, username: not an email address".into(),
                    "line 7, name: \"Desk 1\" is on line 2 too".into(),
                ],
            }),
        }],
    );
    let s = screen(&m, 80, 24);
    for line in ["line 3, app", "line 4, username", "line 7, name"] {
        assert!(s.contains(line), "{line}:\n{s}");
    }
    snap("review_import_bad_rows", &m, 80, 24);
    snap("review_import_bad_rows_140x40", &m, 140, 40);
    let run = start(&mut m, Action::Submit);
    send(
        &mut m,
        [Msg::Imported {
            run,
            dry_run: true,
            result: Ok((1..=12).map(|i| format!("Desk {i}")).collect()),
        }],
    );
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("12 servers would be added") && s.contains("and 4"),
        "{s}"
    );
    snap("review_import_dry_run", &m, 80, 24);
}

#[test]
fn long_stages_show_their_elapsed_time_and_time_out() {
    // A refresh under way: how long it runs, against the HTTP client's time-out.
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Refresh]);
    assert!(m.refresh_since.contains_key("Support inbox"));
    send(&mut m, [Msg::Tick(now() + SignedDuration::from_secs(4))]);
    let s = screen(&m, 80, 24);
    assert!(s.contains("↻ refreshing… 4 s (time-out 30 s)"), "{s}");
    snap("review_refresh_elapsed", &m, 80, 24);
    // A Test & Confirm stage under way.
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Test]);
    let run = m.wizard().and_then(|w| w.check.run).expect("a test runs");
    send(
        &mut m,
        [
            Msg::Test {
                run,
                event: TestEvent::Progress(ProbeEvent::Started(Stage::Connect)),
            },
            Msg::Tick(now() + SignedDuration::from_secs(7)),
        ],
    );
    let s = screen(&m, 80, 24);
    assert!(s.contains("7 s (time-out"), "{s}");
    snap("wizard_7_test_stage_elapsed", &m, 80, 24);
}
