//! Step 1's third answer, "use an app I already have": another mailbox of a stored Azure app.
//! The app is chosen from a list (with the servers that use it), and the wizard goes straight
//! to the server form with the app, host, port, cloud and CA file of that app's other server
//! (the core's `servers::like`, which `inbound add --like` uses too); the portal steps are
//! skipped, since the app is registered already.

use super::form::Form;
use super::page::Page;
use super::{Effect, Step, StepCtx, Wizard};
use crate::model::{Cloud, Config};
use crate::ops::servers;
use crate::tui::state::ids::FieldId;
use crate::tui::state::keymap::Action;

/// A stored app as the list shows it: its name and the servers that use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRow {
    pub name: String,
    pub client_id: String,
    pub tenant: String,
    pub servers: Vec<String>,
}

/// Every stored app, in the store's order.
pub fn rows(config: &Config) -> Vec<AppRow> {
    config
        .apps
        .iter()
        .map(|a| AppRow {
            name: a.name.clone(),
            client_id: a.client_id.clone(),
            tenant: a.tenant.clone(),
            servers: config
                .servers_using(&a.name)
                .into_iter()
                .map(str::to_string)
                .collect(),
        })
        .collect()
}

/// Keys on the list of apps: ↑↓ choose, Enter takes it to the form, Esc back to the
/// questions.
pub(super) fn update(w: &mut Wizard, ctx: &mut StepCtx, action: Action) -> Vec<Effect> {
    let count = ctx.config.apps.len();
    match action {
        Action::Up => w.guide.app_choice = w.guide.app_choice.saturating_sub(1),
        Action::Down => w.guide.app_choice = (w.guide.app_choice + 1).min(count.saturating_sub(1)),
        Action::Back => w.guide.page = Page::Choose,
        Action::Open => {
            let Some(app) = ctx.config.apps.get(w.guide.app_choice) else {
                return Vec::new();
            };
            w.form = like_app(ctx.config, &app.name);
            return vec![Effect::Enter(Step::Form)];
        }
        _ => {}
    }
    Vec::new()
}

/// The form of a new mailbox of the stored app `app`: like the app's first server (its
/// authentication, host, port and CA file) when it has one; name and username are left to
/// type.
pub fn like_app(config: &Config, app: &str) -> Form {
    let mut form = Form::new(config);
    let stored = config.app(app);
    let template = config.servers_using(app).first().map(|s| s.to_string());
    let like = template
        .as_deref()
        .and_then(|other| servers::like(config, other, "", "").ok());
    if let Some(input) = &like {
        form.auth = input.auth;
        form.set_value(FieldId::Host, &input.host);
        form.set_value(FieldId::Port, &input.port);
        if let Some(ca) = &input.ca_file {
            form.set_value(FieldId::CaFile, &ca.display().to_string());
        }
    }
    form.app = Some(app.to_string());
    form.public_client = stored.is_some_and(|a| a.public_client);
    // The IMAP host tells GCC High from DoD (one authority serves both).
    let by_authority = stored.and_then(|a| Cloud::of_authority(&a.authority));
    form.cloud = Cloud::of_imap_host(form.value(FieldId::Host))
        .or(by_authority)
        .unwrap_or_default();
    form.note = Some(match &template {
        Some(other) => format!(
            "Another mailbox of the app \"{app}\": host, port and CA file as \"{other}\". Type this mailbox's name and username."
        ),
        None => format!("Another mailbox of the app \"{app}\". Type this mailbox's name and username."),
    });
    form.fields.focus = FieldId::Name;
    form
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuthKind;
    use crate::tui::state::Model;
    use crate::tui::state::msg::Msg;
    use crate::tui::testing;

    fn wizard(m: &Model) -> &Wizard {
        m.wizard().expect("the wizard")
    }

    #[test]
    fn the_first_question_offers_a_stored_app_and_skips_to_the_form() {
        let mut data = testing::populated();
        data.config.servers[0].host = "partner.outlook.cn".into();
        data.config.servers[0].port = 1993;
        data.config.servers[0].ca_file = Some("/etc/ssl/contoso-ca.pem".into());
        let mut m = testing::model(data);
        m.update(Msg::Action(Action::New));
        // Script → portal → an app I already have.
        m.update(Msg::Action(Action::Right));
        m.update(Msg::Action(Action::Right));
        assert_eq!(wizard(&m).guide.path, super::super::guide::Path::Existing);
        m.update(Msg::Action(Action::Open));
        assert_eq!(wizard(&m).guide.page, Page::Apps);
        let rows = rows(&m.data.config);
        assert_eq!(rows[0].servers, ["Support inbox", "Sales", "Helpdesk"]);
        m.update(Msg::Action(Action::Open));
        let w = wizard(&m);
        assert_eq!(w.step, Step::Form);
        assert_eq!(w.form.app.as_deref(), Some("Contoso mail"));
        assert_eq!(w.form.auth, AuthKind::OAuth2);
        assert_eq!(w.form.value(FieldId::Host), "partner.outlook.cn");
        assert_eq!(w.form.value(FieldId::Port), "1993");
        assert_eq!(w.form.value(FieldId::CaFile), "/etc/ssl/contoso-ca.pem");
        assert_eq!(w.form.cloud, Cloud::China);
        assert_eq!(w.form.value(FieldId::Name), "");
        assert_eq!(w.form.value(FieldId::Username), "");
        assert!(
            !w.form.visible().contains(&FieldId::ClientId),
            "the app's fields are not asked again"
        );
        // Esc on the form goes back to the list of apps, not the portal steps.
        m.update(Msg::Action(Action::Back));
        let w = wizard(&m);
        assert_eq!((w.step, w.guide.page), (Step::Register, Page::Apps));
    }

    #[test]
    fn the_second_app_and_back_to_the_questions() {
        let mut m = testing::model(testing::populated());
        for a in [
            Action::New,
            Action::Right,
            Action::Right,
            Action::Open,
            Action::Down,
            Action::Down,
        ] {
            m.update(Msg::Action(a));
        }
        assert_eq!(wizard(&m).guide.app_choice, 1, "never past the last app");
        m.update(Msg::Action(Action::Open));
        assert_eq!(wizard(&m).form.app.as_deref(), Some("Old app"));
        let mut m = testing::model(testing::populated());
        for a in [
            Action::New,
            Action::Right,
            Action::Right,
            Action::Open,
            Action::Back,
        ] {
            m.update(Msg::Action(a));
        }
        assert_eq!(wizard(&m).guide.page, Page::Choose);
    }

    #[test]
    fn without_a_stored_app_there_are_two_answers() {
        let mut m = testing::model(testing::empty());
        m.update(Msg::Action(Action::New));
        m.update(Msg::Action(Action::Right));
        m.update(Msg::Action(Action::Right));
        assert_eq!(wizard(&m).guide.path, super::super::guide::Path::Script);
    }

    #[test]
    fn an_app_without_servers_keeps_the_defaults() {
        let mut data = testing::populated();
        data.config.apps.push(testing::app("Fresh app", "2027-01-01"));
        let form = like_app(&data.config, "Fresh app");
        assert_eq!(form.app.as_deref(), Some("Fresh app"));
        assert_eq!(form.value(FieldId::Host), crate::model::DEFAULT_HOST);
    }
}
