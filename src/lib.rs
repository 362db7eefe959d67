//! oneonone: a self-hosted Slack and Microsoft Teams bot for good 1:1 meetings.
//!
//! The map of the crate is `docs/ARCHITECTURE.md`. In short: `domain` is pure
//! (model, grammar, schedule math, replies, content); `store` holds every SQL
//! statement; `commands` carries out a command for a verified caller; `slack`
//! and `console` are adapters that translate in and out; `http` and `app` wire
//! the service together.

pub mod app;
pub mod clock;
pub mod commands;
pub mod config;
pub mod console;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod lifecycle;
pub mod scheduler;
pub mod slack;
pub mod store;
pub mod teams;
pub mod telemetry;
