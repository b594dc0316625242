//! A stand-in for the person at the browser, given to the runtime by the face that has one
//! (`inbound demo` plays the user against its own sign-in service). The app only knows this
//! trait: whoever starts it chooses the player, so nothing here depends on the demo.

use crate::tui::state::cmd::StandInVisit;
use futures_util::future::BoxFuture;

pub trait StandInUser: Send + Sync {
    /// Does what a person would for a sign-in: opens the link and accepts, or enters the user
    /// code. Success shows through the sign-in itself; an error says what went wrong.
    fn visit(&self, visit: StandInVisit) -> BoxFuture<'static, Result<(), String>>;
}
