//! The platform-neutral core: the model, the command grammar, schedule math,
//! the reply model and the built-in content. Pure: imports none of axum, sqlx
//! or reqwest, and never reads the clock (callers pass `now`).

pub mod command;
pub mod content;
pub mod grammar;
pub mod model;
pub mod reply;
pub mod schedule;
