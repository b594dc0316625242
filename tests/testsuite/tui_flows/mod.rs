//! Pure `update` tests for each TUI flow: feed messages, assert the model and the commands.
//! No terminal, no tokio, no clock. The steps they share are in `drive`.

mod drive;

mod admin;
mod app_only;
mod guide;
mod no_browser;
mod preflight;
mod review;
mod rotation;
mod signin;
mod test_confirm;
mod wizard_form;
