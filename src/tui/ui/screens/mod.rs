//! One module per screen.

pub mod connect;
pub mod details;
pub mod form;
pub mod guide;
pub mod list;
pub mod script;
pub mod test;
pub mod token;
pub mod wizard;
