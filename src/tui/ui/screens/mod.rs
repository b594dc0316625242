//! One module per screen.

pub mod admin;
pub mod connect;
pub mod details;
pub mod exchange;
pub mod existing;
pub mod find;
pub mod form;
pub mod guide;
pub mod list;
pub mod preflight;
pub mod script;
pub mod table;
pub mod test;
pub mod token;
pub mod wizard;
