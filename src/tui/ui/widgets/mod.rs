//! Small building blocks shared by the screens.

pub mod demo;
pub mod field;
pub mod hints;
pub mod link;
pub mod pinned;
pub mod text;
