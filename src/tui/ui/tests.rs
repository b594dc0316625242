//! One named snapshot per screen state, at 80×24 (and the busiest at 60×20). The model is
//! driven through `update` with the same messages the app would see; time is fixed (UTC).

use super::render;
use crate::model::health::Level;
use crate::model::{AuthKind, Blocker, RecordedError};
use crate::ops::consent::Connected;
use crate::services::browser::Situation;
use crate::services::imap::ProbeEvent;
use crate::services::imap::Stage;
use crate::services::oauth::device::PollEvent;
use crate::tui::state::Model;
use crate::tui::state::cmd::Cmd;
use crate::tui::state::keymap::Action;
use crate::tui::state::msg::{
    ConsentEvent, Failure, Msg, PreflightEvent, ProbeFailure, RunId, SaveError, TestEvent,
};
use crate::tui::testing::{self, now};
use crate::tui::ui::theme::Theme;
use jiff::SignedDuration;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

const AUTH_URL: &str = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize?response_type=code&client_id=2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58&state=Qk2v9x&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%3A8400%2Fmicrosoft_outlook%2Fconfirm&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+offline_access+openid+email+profile&response_mode=query&prompt=select_account&login_hint=support%40contoso.com";

fn snap(name: &str, model: &Model, w: u16, h: u16) {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(model, f)).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r"localhost:\d{2,5}", "localhost:[PORT]");
    settings.bind(|| insta::assert_snapshot!(name, t.backend()));
}

/// Microsoft's refusal as the token endpoint sends it (one code, one line).
fn ms_error(error: &str, code: u64, description: &str) -> crate::services::oauth::MsError {
    crate::services::oauth::MsError {
        error: error.into(),
        error_description: Some(description.into()),
        error_codes: vec![code],
        timestamp: None,
        trace_id: None,
        correlation_id: None,
        error_uri: None,
        suberror: None,
    }
}

/// A failed device-code sign-in as the core words it for "Support inbox".
fn device_error(e: crate::services::oauth::device::DeviceError) -> crate::ops::Error {
    crate::ops::Error::Device {
        server: "Support inbox".into(),
        message: e.to_string(),
        hint: e.hint(),
        fix: e.fix("Support inbox").map(Box::new),
    }
}

/// The screen as text (for assertions beside a snapshot).
fn screen_text(model: &Model, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(model, f)).unwrap();
    t.backend().to_string()
}

fn send(m: &mut Model, msgs: impl IntoIterator<Item = Msg>) {
    for msg in msgs {
        m.update(msg);
    }
}

fn act(m: &mut Model, actions: &[Action]) {
    send(m, actions.iter().map(|a| Msg::Action(*a)));
}

/// `action`, and the run of the one command it started.
fn start(m: &mut Model, action: Action) -> RunId {
    run_of(&m.update(Msg::Action(action)))
}

/// The run of the one command in `cmds` that started work: read from what `update` returned,
/// never guessed from the model's run counter.
fn run_of(cmds: &[Cmd]) -> RunId {
    match cmds {
        [
            Cmd::Preflight { run, .. }
            | Cmd::Save { run, .. }
            | Cmd::Connect { run, .. }
            | Cmd::AdminConsent { run, .. }
            | Cmd::DeviceSignIn { run, .. }
            | Cmd::RotateSecret { run, .. }
            | Cmd::Import { run, .. }
            | Cmd::Test { run, .. },
        ] => *run,
        other => panic!("expected one command that starts work, got {other:?}"),
    }
}

/// The run of the sign-in the wizard is waiting for.
fn sign_in_run(m: &Model) -> RunId {
    m.wizard().and_then(|w| w.connect.run()).expect("a sign-in runs")
}

/// The run of the device-code sign-in the wizard is waiting for.
fn device_run(m: &Model) -> RunId {
    m.wizard()
        .and_then(|w| w.device.run())
        .expect("a device-code sign-in runs")
}

fn typed(m: &mut Model, text: &str) {
    for c in text.chars() {
        m.update(Msg::Text(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
}

/// A new-server wizard on the portal path, on step 1's fields.
fn at_portal() -> Model {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::New, Action::Right, Action::Open]);
    m
}

/// A new-server wizard on the form (step 4), the expiry typed on step 2.
fn at_form() -> Model {
    let mut m = at_portal();
    act(&mut m, &[Action::Open, Action::NextField]);
    typed(&mut m, "2027-05-01");
    act(&mut m, &[Action::Open, Action::Open]);
    m
}

/// The form filled for a new OAuth2 server with a new app.
fn filled_form() -> Model {
    let mut m = at_form();
    typed(&mut m, "Shared mailbox");
    act(
        &mut m,
        &[
            Action::NextField,
            Action::NextField,
            Action::NextField,
            Action::NextField,
        ],
    );
    typed(&mut m, "shared@contoso.com");
    // Past "Sign in as" and the app choice to the secret.
    act(&mut m, &[Action::NextField, Action::NextField, Action::NextField]);
    typed(&mut m, testing::SECRET);
    act(&mut m, &[Action::NextField]);
    typed(&mut m, testing::CLIENT_ID);
    act(&mut m, &[Action::NextField]);
    typed(&mut m, "contoso.com");
    m
}

/// The new wizard after saving "Support inbox" (already in the store): waiting for sign-in.
/// Enter on the form, with the pre-flight answered `list`: what that answer started.
fn submit_checked(m: &mut Model, list: crate::ops::preflight::Checklist) -> Vec<Cmd> {
    let run = start(m, Action::Submit);
    m.update(Msg::Preflight {
        run,
        event: PreflightEvent::Done(Ok(Some(list))),
    })
}

fn connecting(situation: Situation) -> Model {
    let mut m = filled_form();
    m.env.situation = situation;
    let save_run = run_of(&submit_checked(&mut m, testing::checklist_passed()));
    let run = run_of(&m.update(Msg::Saved {
        run: save_run,
        result: Ok("Support inbox".into()),
    }));
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Ready {
            auth_url: AUTH_URL.into(),
            port: 8400,
            deadline: now() + SignedDuration::from_secs(252),
        },
    });
    m
}

fn token_view(account: &str) -> Connected {
    Connected {
        server: "Support".into(),
        username: "support@contoso.com".into(),
        tokens: crate::model::TokenSet {
            access_token: crate::secret::Secret::new("at"),
            refresh_token: Some(crate::secret::Secret::new("rt")),
            issued_at: now(),
            expires_at: now() + SignedDuration::from_mins(59),
            refreshed_at: now(),
            consented_at: now(),
            scope: "https://outlook.office.com/IMAP.AccessAsUser.All openid profile email".into(),
            account: Some(account.into()),
            flow: crate::model::Flow::AuthorizationCode,
            principal_id: None,
        },
        // The core's own data: the screen words it as the app does.
        mismatch: (account != "support@contoso.com").then(|| crate::model::health::Mismatch {
            account: account.into(),
            mailbox: "support@contoso.com".into(),
            delegate: None,
            server: "Support".into(),
        }),
    }
}

fn token_valid(account: &str) -> Model {
    let mut m = connecting(Situation {
        ssh: false,
        display: true,
        ssh_target: None,
    });
    let run = sign_in_run(&m);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Connected(token_view(account)),
    });
    m
}

fn testing_stages(finish: Option<Result<u32, ProbeFailure>>) -> Model {
    let mut m = token_valid("support@contoso.com");
    let run = start(&mut m, Action::Test);
    let ms = Duration::from_millis;
    let mut events = vec![
        TestEvent::Progress(ProbeEvent::Started(Stage::Connect)),
        TestEvent::Progress(ProbeEvent::Passed {
            stage: Stage::Connect,
            detail: "outlook.office365.com:993".into(),
            elapsed: ms(38),
        }),
        TestEvent::Progress(ProbeEvent::Started(Stage::Tls)),
        TestEvent::Progress(ProbeEvent::Passed {
            stage: Stage::Tls,
            detail: "certificate ok".into(),
            elapsed: ms(41),
        }),
        TestEvent::Progress(ProbeEvent::Started(Stage::Greeting)),
        TestEvent::Progress(ProbeEvent::Passed {
            stage: Stage::Greeting,
            detail: "* OK The Microsoft Exchange IMAP4 service is ready.".into(),
            elapsed: ms(3),
        }),
        TestEvent::Progress(ProbeEvent::Started(Stage::Capabilities)),
        TestEvent::Progress(ProbeEvent::Passed {
            stage: Stage::Capabilities,
            detail: "AUTH=XOAUTH2 SASL-IR".into(),
            elapsed: ms(12),
        }),
        TestEvent::Progress(ProbeEvent::Started(Stage::Authenticate)),
    ];
    match finish {
        None => {}
        Some(Ok(n)) => events.extend([
            TestEvent::Progress(ProbeEvent::Passed {
                stage: Stage::Authenticate,
                detail: "XOAUTH2 as support@contoso.com".into(),
                elapsed: ms(212),
            }),
            TestEvent::Progress(ProbeEvent::Started(Stage::Inbox)),
            TestEvent::Progress(ProbeEvent::Passed {
                stage: Stage::Inbox,
                detail: format!("{n} messages"),
                elapsed: ms(55),
            }),
            TestEvent::Progress(ProbeEvent::Started(Stage::Logout)),
            TestEvent::Progress(ProbeEvent::Passed {
                stage: Stage::Logout,
                detail: "bye".into(),
                elapsed: ms(4),
            }),
            TestEvent::Finished(Ok(n)),
        ]),
        Some(Err(f)) => events.push(TestEvent::Finished(Err(f))),
    }
    send(&mut m, events.into_iter().map(|event| Msg::Test { run, event }));
    m
}

#[test]
fn review_empty() {
    snap("review_empty", &testing::model(testing::empty()), 80, 24);
}

#[test]
fn review_populated_every_badge() {
    snap("review_populated", &testing::model(testing::populated()), 80, 24);
}

#[test]
fn review_secret_revealed() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Reveal]);
    snap("review_secret_revealed", &m, 80, 24);
    // Leaving the server masks it again.
    act(&mut m, &[Action::Down, Action::Up]);
    assert!(!m.reveal);
}

#[test]
fn review_needs_reconsent_and_basic_failed() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Down, Action::Down]);
    snap("review_needs_reconsent", &m, 80, 24);
    act(&mut m, &[Action::Down, Action::Down]);
    snap("review_basic_test_failed", &m, 80, 24);
}

#[test]
fn review_narrow_one_pane_at_a_time() {
    let mut m = testing::model(testing::populated());
    snap("review_narrow_list", &m, 60, 20);
    act(&mut m, &[Action::Open]);
    snap("review_narrow_details", &m, 60, 20);
}

#[test]
fn wizard_steps_1_to_3() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::New]);
    snap("wizard_1_choose", &m, 80, 24);
    act(&mut m, &[Action::Right, Action::Down, Action::Right]);
    snap("wizard_1_choose_portal_public", &m, 80, 24);
    let mut m = at_portal();
    snap("wizard_1_register", &m, 80, 24);
    typed(&mut m, testing::CLIENT_ID);
    act(&mut m, &[Action::NextField]);
    typed(&mut m, "contoso.com");
    snap("wizard_1_register_filled", &m, 80, 24);
    act(&mut m, &[Action::Open]);
    typed(&mut m, testing::SECRET);
    act(&mut m, &[Action::NextField]);
    typed(&mut m, "2027-05-01");
    snap("wizard_2_secret", &m, 80, 24);
    act(&mut m, &[Action::Open]);
    snap("wizard_3_permissions", &m, 80, 24);
}

#[test]
fn wizard_public_client_register() {
    let mut m = testing::model(testing::populated());
    act(
        &mut m,
        &[
            Action::New,
            Action::Right,
            Action::Down,
            Action::Right,
            Action::Open,
        ],
    );
    snap("wizard_1_register_public_client", &m, 80, 24);
}

#[test]
fn wizard_secret_expiry_invalid() {
    let mut m = at_portal();
    act(&mut m, &[Action::Open, Action::NextField]);
    typed(&mut m, "05/01/2027");
    act(&mut m, &[Action::Open]);
    snap("wizard_2_secret_invalid_date", &m, 80, 24);
}

#[test]
fn wizard_secret_id_and_past_expiry_refused() {
    let mut m = at_portal();
    act(&mut m, &[Action::Open]);
    typed(&mut m, "8f0e7b2a-1c3d-4e5f-9a8b-7c6d5e4f3a2b");
    act(&mut m, &[Action::NextField]);
    typed(&mut m, "2020-01-01");
    act(&mut m, &[Action::Open]);
    snap("wizard_2_secret_id_and_past_expiry", &m, 80, 24);
}

/// A setup code as the script prints it.
fn setup_code(admin_consent: bool) -> String {
    crate::ops::setup::SetupCode {
        tenant: "contoso.onmicrosoft.com".into(),
        client_id: testing::CLIENT_ID.into(),
        secret: Some(crate::secret::Secret::new(testing::SECRET)),
        secret_expires: "2027-05-01".parse().ok(),
        redirect_uri: Some(crate::model::registered_redirect_uri(&Default::default())),
        public_client: false,
        admin_consent,
        app_only: false,
        mailboxes: Vec::new(),
    }
    .encode()
    .expose()
    .to_string()
}

#[test]
fn wizard_script_path() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::New, Action::Open]);
    snap("wizard_1_script", &m, 80, 24);
    snap("wizard_1_script_60x20", &m, 60, 20);
    act(&mut m, &[Action::Right, Action::ScrollDown]);
    snap("wizard_1_script_pwsh_scrolled", &m, 80, 24);
    act(&mut m, &[Action::Left, Action::NextField]);
    typed(&mut m, "inbound-setup:1:abc");
    act(&mut m, &[Action::Submit]);
    snap("wizard_1_script_bad_code", &m, 80, 24);
    snap("wizard_1_script_bad_code_60x20", &m, 60, 20);
    let code = setup_code(false);
    m.update(Msg::Paste(code));
    act(&mut m, &[Action::Submit]);
    snap("wizard_4_form_from_setup_code", &m, 80, 24);
}

#[test]
fn wizard_step_3_with_admin_consent_link() {
    let mut m = filled_form();
    act(&mut m, &[Action::Back]);
    snap("wizard_3_permissions_admin_link", &m, 80, 24);
}

#[test]
fn wizard_form_states() {
    let mut m = at_form();
    snap("wizard_4_form_empty", &m, 80, 24);
    act(&mut m, &[Action::Submit]);
    snap("wizard_4_form_errors", &m, 80, 24);
    let m = filled_form();
    snap("wizard_4_form_filled", &m, 80, 24);
}

#[test]
fn an_unfocused_client_id_is_shown_whole_at_80_columns() {
    let m = filled_form();
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| render(&m, f)).unwrap();
    let screen = format!("{}", t.backend());
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Azure Client ID"))
        .expect("the field is on screen");
    let value = |l: &str| {
        l.trim_matches(|c: char| c == '"' || c == '│' || c == ' ')
            .rsplit(['│', ' '])
            .next()
            .unwrap_or("")
            .to_string()
    };
    let whole = format!("{}{}", value(lines[at]), value(lines[at + 1]));
    assert_eq!(whole, testing::CLIENT_ID, "cut or lost:\n{screen}");
}

#[test]
fn wizard_form_basic() {
    let mut m = at_form();
    act(&mut m, &[Action::NextField]);
    act(&mut m, &[Action::Left]);
    snap("wizard_4_form_basic", &m, 80, 24);
}

#[test]
fn wizard_form_save_error_from_store() {
    let mut m = filled_form();
    let run = run_of(&submit_checked(&mut m, testing::checklist_passed()));
    m.update(Msg::Saved {
        run,
        result: Err(SaveError::Fields(vec![crate::model::validate::FieldError::new(
            crate::model::validate::Field::CaFile,
            "/nope.pem is not a readable file",
        )])),
    });
    snap("wizard_4_form_save_error", &m, 80, 24);
}

#[test]
fn wizard_connect_waiting() {
    let m = connecting(Situation {
        ssh: false,
        display: false,
        ssh_target: None,
    });
    snap("wizard_5_connect_waiting", &m, 80, 24);
    snap("wizard_5_connect_waiting_narrow", &m, 60, 20);
}

#[test]
fn wizard_connect_over_ssh() {
    let m = connecting(Situation {
        ssh: true,
        display: false,
        ssh_target: Some("admin@mail01".into()),
    });
    snap("wizard_5_connect_ssh", &m, 80, 24);
}

#[test]
fn wizard_connect_over_ssh_at_60x20_scrolls_with_an_indicator() {
    let mut m = connecting(Situation {
        ssh: true,
        display: false,
        ssh_target: Some("admin@mail01".into()),
    });
    snap("wizard_5_connect_ssh_60x20", &m, 60, 20);
    let screen = |m: &Model| {
        let mut t = Terminal::new(TestBackend::new(60, 20)).unwrap();
        t.draw(|f| render(m, f)).unwrap();
        format!("{}", t.backend())
    };
    assert!(screen(&m).contains("more lines below"), "{}", screen(&m));
    for _ in 0..5 {
        m.update(Msg::Action(Action::ScrollDown));
    }
    let end = screen(&m);
    assert!(
        end.contains("Tab, then paste") && end.contains("device code"),
        "{end}"
    );
    assert!(end.contains("above"), "{end}");
    assert!(end.contains("? help"), "{end}");
    snap("wizard_5_connect_ssh_60x20_scrolled", &m, 60, 20);
}

#[test]
fn help_grows_with_the_terminal_and_says_when_it_scrolls() {
    let mut m = testing::model(testing::populated());
    m.update(Msg::Action(Action::Help));
    let screen = |m: &Model, w: u16, h: u16| {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| render(m, f)).unwrap();
        format!("{}", t.backend())
    };
    let small = screen(&m, 80, 24);
    assert!(small.contains("more below"), "{small}");
    let big = screen(&m, 140, 50);
    assert!(!big.contains("more below") && big.contains("Log file"), "{big}");
    for _ in 0..40 {
        m.update(Msg::Action(Action::Down));
    }
    let end = screen(&m, 80, 24);
    assert!(end.contains("more above") && end.contains("Log file"), "{end}");
}

#[test]
fn settings_popup() {
    let mut m = testing::model(testing::populated());
    m.update(Msg::Action(Action::Settings));
    snap("settings_popup", &m, 80, 24);
    for c in "abc".chars() {
        m.update(Msg::Text(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
    m.update(Msg::Action(Action::Submit));
    snap("settings_popup_error", &m, 80, 24);
}

#[test]
fn wizard_connect_browser_failed_to_start() {
    let mut m = connecting(Situation {
        ssh: false,
        display: true,
        ssh_target: None,
    });
    let run = sign_in_run(&m);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Browser(Err(crate::services::browser::BrowserError::Failed {
            program: "/bin/false".into(),
            status: "exit status: 1".into(),
        })),
    });
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| render(&m, f)).unwrap();
    let screen = format!("{}", t.backend());
    assert!(!screen.contains("should show"), "{screen}");
    assert!(screen.contains("paste"), "the other ways are offered:\n{screen}");
    snap("wizard_5_connect_browser_failed", &m, 80, 24);
}

#[test]
fn wizard_connect_failed() {
    let mut m = connecting(Situation {
        ssh: false,
        display: true,
        ssh_target: None,
    });
    let run = sign_in_run(&m);
    // The core's error for a refused redemption, as the sign-in returns it.
    let e = crate::ops::Error::OAuth {
        server: "Support inbox".into(),
        source: crate::services::oauth::OAuthError::Microsoft(Box::new(ms_error(
            "invalid_client",
            7000215,
            "AADSTS7000215: Invalid client secret provided.",
        ))),
    };
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(crate::tui::app::effects::failure(&e)),
    });
    snap("wizard_5_connect_failed", &m, 80, 24);
}

#[test]
fn wizard_token_valid_and_mismatch() {
    snap(
        "wizard_6_token_valid",
        &token_valid("support@contoso.com"),
        80,
        24,
    );
    snap(
        "wizard_6_token_mismatch",
        &token_valid("admin@contoso.com"),
        80,
        24,
    );
}

/// The warning's fix is a key on the token step: e opens the server's form on Sign in as,
/// filled with the account that signed in.
#[test]
fn token_mismatch_names_a_key_that_opens_sign_in_as() {
    let mut m = token_valid("admin@contoso.com");
    let mismatch = token_view("admin@contoso.com").mismatch.expect("a mismatch");
    let words = crate::tui::ui::fix::mismatch(&m, &mismatch);
    assert!(words.ends_with("set Sign in as (press e)"), "{words}");
    act(&mut m, &[Action::Edit]);
    let w = m.wizard().expect("still in the wizard");
    assert_eq!(w.step, crate::tui::state::wizard::Step::Form);
    assert_eq!(w.form.fields.focus, crate::tui::state::ids::FieldId::SignInAs);
    assert_eq!(
        w.form.value(crate::tui::state::ids::FieldId::SignInAs),
        "admin@contoso.com"
    );
}

/// A claim that is no mail address (here with an escape sequence) is never put in the field.
#[test]
fn token_mismatch_leaves_a_hostile_claim_out_of_the_field() {
    let mut m = token_valid("admin@contoso.com");
    if let crate::tui::state::Screen::Wizard(w) = &mut m.screen
        && let Some(t) = w.token.as_mut()
        && let Some(mm) = t.mismatch.as_mut()
    {
        mm.account = "evil\u{1b}[2J@contoso.com".into();
    }
    act(&mut m, &[Action::Edit]);
    let w = m.wizard().expect("still in the wizard");
    assert_eq!(w.step, crate::tui::state::wizard::Step::Form);
    assert_eq!(w.form.fields.focus, crate::tui::state::ids::FieldId::SignInAs);
    assert_eq!(w.form.value(crate::tui::state::ids::FieldId::SignInAs), "");
}

#[test]
fn wizard_test_states() {
    snap("wizard_7_test_running", &testing_stages(None), 80, 24);
    let failed = testing_stages(Some(Err(ProbeFailure {
        stage: Some(Stage::Authenticate),
        message: "the server refused the login: AUTHENTICATE failed.".into(),
        hint: Some(
            "check that you signed in as the mailbox in Username and that IMAP is enabled for it".into(),
        ),
        fix: None,
    })));
    snap("wizard_7_test_failed", &failed, 80, 24);
    snap("wizard_7_confirmed", &testing_stages(Some(Ok(1204))), 80, 24);
}

#[test]
fn help_popups() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Help]);
    snap("help_review", &m, 80, 24);
    let mut m = at_form();
    act(&mut m, &[Action::Help]);
    snap("help_form", &m, 80, 24);
}

#[test]
fn confirmations() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Delete]);
    snap("confirm_delete", &m, 80, 24);
    let mut m = connecting(Situation {
        ssh: false,
        display: false,
        ssh_target: None,
    });
    act(&mut m, &[Action::Quit]);
    snap("confirm_quit", &m, 80, 24);
}

#[test]
fn non_tty_message() {
    insta::assert_snapshot!("non_tty_message", crate::tui::non_tty_message());
}

#[test]
fn no_secret_or_token_in_any_frame() {
    let mut m = testing::model(testing::populated());
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| render(&m, f)).unwrap();
    let text = format!("{}", t.backend());
    assert!(!text.contains(testing::SECRET) && !text.contains("access-token"));
    act(&mut m, &[Action::Down, Action::Down, Action::Down, Action::Down]);
    assert_eq!(m.selected_server().map(|s| s.auth), Some(AuthKind::Basic));
    t.draw(|f| render(&m, f)).unwrap();
    assert!(!format!("{}", t.backend()).contains("hunter2"));
}

#[test]
fn no_escape_or_bidi_character_from_a_hand_edited_store_reaches_a_cell() {
    let mut data = testing::populated();
    let hostile = "A\u{1b}]0;x\u{7}\u{9b}2J\u{202E}gnp.exe\u{2066}\u{61c}";
    for s in &mut data.config.servers {
        s.name = format!("{}{hostile}", s.name);
        s.username = format!("u{hostile}@contoso.com");
        s.host = format!("imap{hostile}");
    }
    for a in &mut data.config.apps {
        a.tenant = format!("contoso{hostile}");
    }
    let m = testing::model(data);
    let mut t = Terminal::new(TestBackend::new(120, 30)).unwrap();
    t.draw(|f| render(&m, f)).unwrap();
    let bad = |c: char| {
        c.is_control()
            || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    for cell in &t.backend().buffer().content {
        assert!(
            !cell.symbol().chars().any(bad),
            "a cell holds {:?}",
            cell.symbol()
        );
    }
}

// ---- Consent without a browser: the three paths, the paste field, device code ----

fn ssh() -> Situation {
    Situation {
        ssh: true,
        display: false,
        ssh_target: Some("admin@mail01".into()),
    }
}

#[test]
fn wizard_connect_paste_error_under_the_field() {
    let mut m = connecting(ssh());
    let run = sign_in_run(&m);
    act(&mut m, &[Action::NextField]);
    typed(
        &mut m,
        "http://localhost:8400/microsoft_outlook/confirm?code=0.AXkA1b2&state=Qk2",
    );
    act(&mut m, &[Action::Submit]);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::PasteRejected("the address looks cut off; paste the rest of it".into()),
    });
    snap("wizard_5_connect_paste_error", &m, 80, 24);
}

/// Step 5 with device code started from the SSH screen.
fn device_code(poll: Option<PollEvent>) -> Model {
    let mut m = connecting(ssh());
    let run = start(&mut m, Action::DeviceCode);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::DeviceCode {
            user_code: "FQK7TWXNL".into(),
            uri: "https://microsoft.com/devicelogin".into(),
            deadline: now() + SignedDuration::from_secs(14 * 60 + 32),
            interval: 5,
        },
    });
    if let Some(p) = poll {
        m.update(Msg::Consent {
            run,
            event: ConsentEvent::DevicePoll(p),
        });
    }
    m
}

#[test]
fn wizard_device_code_screens() {
    snap(
        "wizard_5_device_code",
        &device_code(Some(PollEvent::Pending)),
        80,
        24,
    );
    snap(
        "wizard_5_device_code_slow_down",
        &device_code(Some(PollEvent::SlowDown {
            interval: Duration::from_secs(10),
        })),
        80,
        24,
    );
    let mut m = device_code(None);
    let run = device_run(&m);
    let e = device_error(crate::services::oauth::device::DeviceError::OAuth(
        crate::services::oauth::OAuthError::Microsoft(Box::new(ms_error(
            "invalid_client",
            7000218,
            "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ))),
    ));
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(crate::tui::app::effects::failure(&e)),
    });
    snap("wizard_5_device_code_failed", &m, 80, 24);
}

// ---- Health in the details, one snapshot per state ----

fn select(m: &mut Model, name: &str) {
    let i = m.servers().iter().position(|s| s.name == name).unwrap();
    m.selected = i;
}

fn recorded(message: &str, hint: &str, transient: bool) -> Option<RecordedError> {
    Some(RecordedError {
        at: now() - SignedDuration::from_mins(7),
        message: message.into(),
        hint: Some(hint.into()),
        transient,
    })
}

fn health_of(name: &str, change: impl FnOnce(&mut crate::tui::state::msg::Snapshot)) -> Model {
    let mut data = testing::populated();
    change(&mut data);
    let mut m = testing::model(data);
    select(&mut m, name);
    m
}

#[test]
fn health_states_in_the_details() {
    snap("health_healthy", &health_of("Support inbox", |_| {}), 80, 24);
    let m = health_of("Support inbox", |d| {
        d.config.apps[0].secret_expires = "2026-12-18".parse().ok();
    });
    snap("health_secret_expiring_20d", &m, 80, 24);
    let m = health_of("Support inbox", |d| {
        d.config.apps[0].secret_expires = "2026-11-20".parse().ok();
        if let Some(f) = d.tokens.get_mut("Support inbox") {
            f.blocker = Some(Blocker::SecretExpired);
            f.last_error = recorded(
                "invalid_client: AADSTS7000222: The provided client secret keys for app '2c7f5e1a-…' are expired.",
                "the client secret expired: create a new one (Certificates & secrets) and record it with s",
                false,
            );
        }
    });
    snap("health_secret_expired", &m, 80, 24);
    let m = health_of("Billing", |d| {
        if let Some(f) = d.tokens.get_mut("Billing") {
            f.last_error = recorded(
                "invalid_grant: AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.",
                "the refresh token is dead: sign in again (c)",
                false,
            );
        }
    });
    snap("health_needs_reconsent", &m, 80, 24);
    let m = health_of("Support inbox", |d| {
        if let Some(f) = d.tokens.get_mut("Support inbox") {
            f.last_error = recorded(
                "network: connection to login.microsoftonline.com timed out",
                "a network problem, not a refusal: the refresh is retried with back-off",
                true,
            );
            f.failures = 2;
        }
    });
    snap("health_transient_error", &m, 80, 24);
    snap("health_draft_never_tested", &health_of("Sales", |_| {}), 80, 24);
    let m = health_of("Support inbox", |d| {
        if let Some(t) = d.config.servers[0].last_test.as_mut() {
            t.ok = false;
            t.messages = None;
            t.summary = "authenticate: the server refused the login: AUTHENTICATE failed.".into();
        }
    });
    snap("health_last_test_failed", &m, 80, 24);
    // A delegate without FullAccess: another test cannot fix it, so no test key is offered.
    let m = health_of("Support inbox", |d| {
        if let Some(t) = d.config.servers[0].last_test.as_mut() {
            t.ok = false;
            t.messages = None;
            t.summary = "authenticate: the server refused the login (AUTHENTICATE failed.): me@contoso.com signed in as configured, but may not open the shared mailbox support@contoso.com".into();
            t.needs = Some(crate::model::TestNeeds::MailboxPermission);
        }
    });
    snap("health_last_test_needs_mailbox_permission", &m, 80, 24);
    let text = screen_text(&m, 80, 24);
    assert!(text.contains("FullAccess"), "{text}");
    assert!(!text.contains("(press t)"), "{text}");
    let m = health_of("Support inbox", |d| d.config.apps[0].secret_expires = None);
    snap("health_secret_expiry_unknown", &m, 80, 24);
}

#[test]
fn list_badges_never_green_when_refused_or_failed() {
    let mut data = testing::populated();
    // One more of each bad kind: secret expired, and a Confirmed OAuth2 server whose test failed.
    let mut expired = data.config.servers[0].clone();
    expired.name = "Expired secret".into();
    let mut failed = data.config.servers[0].clone();
    failed.name = "Test failed".into();
    if let Some(t) = failed.last_test.as_mut() {
        t.ok = false;
        t.summary = "authenticate: AUTHENTICATE failed.".into();
    }
    data.config.servers.push(expired);
    data.config.servers.push(failed);
    let mut f = testing::tokens("Expired secret", "support@contoso.com", 30, "support@contoso.com");
    f.blocker = Some(Blocker::SecretExpired);
    data.tokens.insert("Expired secret".into(), f);
    data.tokens.insert(
        "Test failed".into(),
        testing::tokens("Test failed", "support@contoso.com", 30, "support@contoso.com"),
    );
    let m = testing::model(data);
    for s in m.servers() {
        let h = m.health(s);
        let refused = h.token.is_bad() || s.last_test.as_ref().is_some_and(|t| !t.ok);
        if refused {
            assert_eq!(h.level, Level::Critical, "{}", s.name);
            let style = Theme::new(true).badge(s.state, h.level);
            assert_ne!(style.fg, Some(ratatui::style::Color::Green), "{}", s.name);
        }
    }
    snap("list_all_badges", &m, 80, 24);
}

// ---- Secret rotation ----

#[test]
fn rotate_secret_form() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Rotate]);
    snap("rotate_form_empty", &m, 80, 24);
    typed(&mut m, "0f8fad5b-d9cb-469f-a165-70867728950e");
    act(&mut m, &[Action::NextField]);
    typed(&mut m, "2026-02-30");
    act(&mut m, &[Action::Submit]);
    let text = {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| render(&m, f)).unwrap();
        format!("{}", t.backend())
    };
    assert!(!text.contains("0f8fad5b"), "the typed secret is masked");
    snap("rotate_form_errors", &m, 80, 24);
}

/// Microsoft could not check the new secret: the question, with the old secret kept.
#[test]
fn rotate_secret_offline_asks_before_saving_unchecked() {
    let mut m = testing::model(testing::populated());
    act(&mut m, &[Action::Rotate]);
    typed(&mut m, "new8Q~NEWSECRETVALUEabcdefghijklmnopqrstu");
    act(&mut m, &[Action::NextField]);
    typed(&mut m, "2027-11-01");
    let run = start(&mut m, Action::Submit);
    let mut list = crate::ops::preflight::Checklist::default();
    list.set(
        crate::ops::preflight::CheckItem::Secret,
        crate::ops::preflight::Outcome::Unknown {
            why: "could not reach https://login.microsoftonline.com (dns error)".into(),
        },
    );
    m.update(Msg::SecretSaved {
        run,
        result: Err(crate::tui::state::msg::SaveError::Core(std::sync::Arc::new(
            crate::ops::Error::Unverified(Box::new(list)),
        ))),
    });
    snap("rotate_offline_save_unchecked", &m, 80, 24);
}

/// The wizard's renewal (the form's new secret for a stored registration) when Microsoft
/// could not be asked: the same question as the rotation's, with the stored secret kept.
#[test]
fn wizard_renewal_offline_asks_before_saving_unchecked() {
    let mut m = filled_form();
    // The stored registration with a new secret: a renewal of "Contoso mail".
    if let crate::tui::state::Screen::Wizard(w) = &mut m.screen {
        w.form.set_value(
            crate::tui::state::wizard::form::FieldId::Secret,
            "renewed8Q~NEWSECRETVALUEabcdefghijklmnopq",
        );
    }
    let run = start(&mut m, Action::Submit);
    let mut list = crate::ops::preflight::Checklist::default();
    list.set(
        crate::ops::preflight::CheckItem::Secret,
        crate::ops::preflight::Outcome::Unknown {
            why: "could not reach https://login.microsoftonline.com (dns error)".into(),
        },
    );
    m.update(Msg::Preflight {
        run,
        event: PreflightEvent::Done(Err(crate::tui::state::msg::SaveError::Core(std::sync::Arc::new(
            crate::ops::Error::Unverified(Box::new(list)),
        )))),
    });
    assert_eq!(m.popup, Some(crate::tui::state::Popup::ConfirmUnchecked(None)));
    snap("wizard_4_renewal_offline_save_unchecked", &m, 80, 24);
}

mod app_only;
mod demo;
mod review_list;
mod review_tools;
mod serve;
mod walk;

#[test]
fn wizard_form_preflight_states() {
    let mut m = filled_form();
    submit_checked(&mut m, testing::checklist_passed());
    snap("wizard_4_preflight_passed", &m, 80, 24);
    let mut m = filled_form();
    submit_checked(&mut m, testing::checklist_secret_id());
    snap("wizard_4_preflight_secret_id_pasted", &m, 80, 24);
    let mut m = filled_form();
    if let crate::tui::state::Screen::Wizard(w) = &mut m.screen {
        w.form.just_created = true;
    }
    let run = start(&mut m, Action::Submit);
    let wait = crate::ops::preflight::Wait {
        attempt: 1,
        retry_in: Duration::from_secs(8),
    };
    m.update(Msg::Preflight {
        run,
        event: PreflightEvent::Waiting(wait.message()),
    });
    snap("wizard_4_preflight_waiting_for_replication", &m, 80, 24);
}

#[test]
fn wizard_form_sign_in_as_and_cloud() {
    let mut m = filled_form();
    // From Tenant, past Secret expires: Cloud, then US Government (Server Name and Authority
    // follow).
    act(&mut m, &[Action::NextField, Action::NextField, Action::Right]);
    snap("wizard_4_form_cloud_us_government", &m, 80, 24);
    act(&mut m, &[Action::PrevField; 6]);
    typed(&mut m, "delegate@contoso.com");
    snap("wizard_4_form_sign_in_as", &m, 80, 24);
}

fn admin_need() -> crate::ops::consent::AdminConsentNeeded {
    crate::ops::consent::AdminConsentNeeded {
        server: "Support inbox".into(),
        app: "Contoso mail".into(),
        // As the core makes it (AzureApp::admin_consent_link with the registered redirect).
        admin_link: "https://login.microsoftonline.com/contoso.com/v2.0/adminconsent?client_id=2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+offline_access+openid+email+profile&redirect_uri=http%3A%2F%2Flocalhost%2Fmicrosoft_outlook%2Fconfirm".into(),
        microsoft: "AADSTS90094: Admin consent is required for the permissions requested by this application.".into(),
        declined: false,
    }
}

const ADMIN_URL: &str = "https://login.microsoftonline.com/contoso.com/v2.0/adminconsent?client_id=2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All&redirect_uri=http%3A%2F%2Flocalhost%3A8400%2Fmicrosoft_outlook%2Fconfirm&state=Zr81aQ";

/// The sign-in stopped at "Need admin approval".
fn admin_consent() -> Model {
    let mut m = connecting(Situation {
        ssh: false,
        display: true,
        ssh_target: None,
    });
    let run = sign_in_run(&m);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::NeedsAdminConsent(Box::new(admin_need())),
    });
    m
}

/// "Return to the application" from "Need admin approval" comes back as a declined consent:
/// both ways forward.
#[test]
fn wizard_admin_consent_after_a_declined_consent() {
    let mut m = connecting(Situation {
        ssh: false,
        display: true,
        ssh_target: None,
    });
    let run = sign_in_run(&m);
    let mut need = admin_need();
    need.declined = true;
    need.microsoft = "AADSTS65004: User declined to consent to access the app.".into();
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::NeedsAdminConsent(Box::new(need)),
    });
    snap("wizard_5_admin_consent_declined", &m, 80, 24);
}

#[test]
fn wizard_admin_consent_states() {
    let mut m = admin_consent();
    snap("wizard_5_admin_consent", &m, 80, 24);
    snap("wizard_5_admin_consent_60x20", &m, 60, 20);
    let run = start(&mut m, Action::GrantAdmin);
    send(
        &mut m,
        [
            Msg::Consent {
                run,
                event: ConsentEvent::Ready {
                    auth_url: ADMIN_URL.into(),
                    port: 8400,
                    deadline: now() + SignedDuration::from_secs(252),
                },
            },
            Msg::Consent {
                run,
                event: ConsentEvent::Browser(Ok(())),
            },
        ],
    );
    snap("wizard_5_admin_consent_waiting", &m, 80, 24);
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(Failure::new(
            "the account that signed in cannot grant consent for the organization (AADSTS90094: …); sign in as a Cloud Application Administrator, Application Administrator or Privileged Role Administrator, or send this link to one",
            None,
        )),
    });
    snap("wizard_5_admin_consent_not_an_admin", &m, 80, 24);
}

#[test]
fn wizard_device_code_blocked_by_conditional_access() {
    let mut m = device_code(None);
    let run = device_run(&m);
    // The core's error, as the sign-in returns it.
    let e = device_error(crate::services::oauth::device::DeviceError::BlockedByPolicy(
        Box::new(ms_error(
            "access_denied",
            53003,
            "AADSTS53003: Access has been blocked by Conditional Access policies.",
        )),
    ));
    m.update(Msg::Consent {
        run,
        event: ConsentEvent::Failed(crate::tui::app::effects::failure(&e)),
    });
    snap("wizard_5_device_code_blocked", &m, 80, 24);
    // Back to the link: the sign-in still waits there.
    act(&mut m, &[Action::Back]);
    assert!(matches!(
        m.wizard().map(|w| &w.connect),
        Some(crate::tui::state::wizard::connect::Connect::Waiting { .. })
    ));
}
