//! One module per screen.

pub mod connect;
pub mod details;
pub mod exchange;
pub mod form;
pub mod guide;
pub mod list;
pub mod test;
pub mod token;
pub mod wizard;
