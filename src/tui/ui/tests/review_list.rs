//! The list as a review tool: the find field (matching and matching nothing), the orders, and
//! the table on wide terminals (140×40 with the details below, 200×50 beside), at 80×24 too.

use super::*;
use crate::tui::state::review::sort::SortKey;

fn screen(m: &Model, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(m, f)).unwrap();
    format!("{}", t.backend())
}

fn widths_fit(text: &str, w: usize) {
    for line in text.lines() {
        // Each line is quoted by the backend's Display: the quotes are not columns.
        let inner = line.trim_matches('"');
        assert!(crate::textwidth::cols(inner) <= w, "wider than {w}: {line}");
    }
}

#[test]
fn default_order_puts_the_worst_first() {
    let m = testing::model_default_order(testing::populated());
    assert_eq!(m.view.sort, SortKey::Health);
    snap("review_list_default_order", &m, 80, 24);
    let s = screen(&m, 80, 24);
    assert!(s.contains("by health") && s.contains("1/5"), "{s}");
}

#[test]
fn find_as_you_type() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Find]);
    typed(&mut m, "help");
    assert_eq!(m.selected_server().map(|s| s.name.as_str()), Some("Helpdesk"));
    snap("review_find_typing", &m, 80, 24);
    snap("review_find_typing_140x40", &m, 140, 40);
    let s = screen(&m, 80, 24);
    assert!(s.contains("1 of 5 match"), "{s}");
}

#[test]
fn find_with_no_match() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Find]);
    typed(&mut m, "zzzz");
    assert!(m.selected_server().is_none());
    for (w, h) in [(80, 24), (140, 40), (200, 50)] {
        let s = screen(&m, w, h);
        assert!(
            s.contains("No server matches") && s.contains("0 of 5 match"),
            "{s}"
        );
        widths_fit(&s, w as usize);
    }
    snap("review_find_no_match", &m, 80, 24);
    snap("review_find_no_match_140x40", &m, 140, 40);
    snap("review_find_no_match_200x50", &m, 200, 50);
    // Esc clears the find: every server is back.
    act(&mut m, &[Action::Back]);
    assert_eq!(m.view.shown.len(), 5);
    assert!(!m.view.typing);
}

#[test]
fn attention_only_at_80x24() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Attention]);
    snap("review_attention_only", &m, 80, 24);
}

#[test]
fn table_at_140x40_and_200x50() {
    let mut m = testing::model_default_order(testing::populated());
    act(&mut m, &[Action::Down]);
    for (w, h) in [(140, 40), (200, 50)] {
        let s = screen(&m, w, h);
        widths_fit(&s, w as usize);
        for col in [
            "Name",
            "State",
            "Health ▼",
            "Token until",
            "Secret until",
            "Last test",
            "App",
        ] {
            assert!(s.contains(col), "{col} missing at {w}×{h}:\n{s}");
        }
        assert!(s.contains("Support inbox") && s.contains("Contoso mail"), "{s}");
    }
    snap("review_table_140x40", &m, 140, 40);
    snap("review_table_200x50", &m, 200, 50);
    // Another order moves the marker to its column.
    m.set_sort(SortKey::TokenExpiry);
    let s = screen(&m, 140, 40);
    assert!(
        s.contains("Token until ▼") && s.contains("by token expiry"),
        "{s}"
    );
    snap("review_table_by_token_expiry_140x40", &m, 140, 40);
}

#[test]
fn a_long_name_is_cut_with_a_mark_in_the_table() {
    let mut data = testing::populated();
    data.config.servers[0].name = "Support inbox of the customer service department, Europe and Asia".into();
    let m = testing::model(data);
    let s = screen(&m, 140, 40);
    assert!(s.contains("Support inbox of the"), "{s}");
    assert!(s.contains('…'), "a cut cell ends in …:\n{s}");
    widths_fit(&s, 140);
}

#[test]
fn a_long_list_shows_its_position_and_jumps() {
    let mut data = testing::populated();
    let template = data.config.servers[1].clone();
    for i in 0..300 {
        let mut s = template.clone();
        s.name = format!("Mailbox {i:03}");
        s.id = crate::store::token_file_stem(&s.name);
        s.username = format!("box{i}@contoso.com");
        data.config.servers.push(s);
    }
    let mut m = testing::model(data);
    act(&mut m, &[Action::Last]);
    assert_eq!(m.position(), Some(304));
    let s = screen(&m, 80, 24);
    assert!(s.contains("305/305") && s.contains("Mailbox 299"), "{s}");
    act(&mut m, &[Action::First, Action::PageDown]);
    assert_eq!(m.position(), Some(10));
    act(&mut m, &[Action::PageUp, Action::PageUp]);
    assert_eq!(m.position(), Some(0));
    snap("review_list_300_position", &m, 80, 24);
}

/// Three servers marked (Space moves down after each mark).
fn three_marked() -> Model {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Mark, Action::Mark, Action::Mark]);
    m
}

#[test]
fn marks_in_the_list_and_the_table() {
    let m = three_marked();
    let s = screen(&m, 80, 24);
    assert!(s.contains(" *Sales") && s.contains("3 marked"), "{s}");
    snap("review_marks", &m, 80, 24);
    snap("review_marks_140x40", &m, 140, 40);
    snap("review_marks_200x50", &m, 200, 50);
}

#[test]
fn bulk_test_progress_and_summary() {
    use crate::services::imap::Stage;
    use crate::tui::state::cmd::Cmd;
    use crate::tui::state::msg::BulkEvent;
    let mut m = three_marked();
    let cmds = m.update(Msg::Action(Action::Test));
    let run = match cmds.as_slice() {
        [Cmd::BulkTest { run, .. }] => *run,
        other => panic!("{other:?}"),
    };
    let ev = |m: &mut Model, server: &str, event: BulkEvent| {
        m.update(Msg::Bulk {
            run,
            server: server.into(),
            event,
        });
    };
    ev(&mut m, "Support inbox", BulkEvent::Stage(Stage::Authenticate));
    ev(&mut m, "Sales", BulkEvent::Stage(Stage::Connect));
    m.update(Msg::Tick(now() + SignedDuration::from_secs(3)));
    for (w, h) in [(80, 24), (140, 40), (200, 50)] {
        let s = screen(&m, w, h);
        widths_fit(&s, w as usize);
        assert!(s.contains("authenticate… 3 s (time-out 30 s)"), "{s}");
    }
    snap("review_bulk_progress", &m, 80, 24);
    snap("review_bulk_progress_140x40", &m, 140, 40);
    snap("review_bulk_progress_200x50", &m, 200, 50);
    ev(
        &mut m,
        "Support inbox",
        BulkEvent::Passed("Confirmed · INBOX has 1204 messages".into()),
    );
    ev(
        &mut m,
        "Sales",
        BulkEvent::Failed {
            message: "\"Sales\" is not signed in yet: connect it first".into(),
            needs_sign_in: true,
        },
    );
    ev(&mut m, "Billing", BulkEvent::Stage(Stage::Inbox));
    ev(
        &mut m,
        "Billing",
        BulkEvent::Passed("Confirmed · INBOX has 12 messages".into()),
    );
    m.update(Msg::BulkFinished { run });
    let s = screen(&m, 80, 24);
    assert!(
        s.contains("2 passed, 1 failed") && s.contains("need a sign-in"),
        "{s}"
    );
    snap("review_bulk_summary", &m, 80, 24);
    snap("review_bulk_summary_140x40", &m, 140, 40);
}
