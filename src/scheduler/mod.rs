//! The scheduler of SPEC §8: deciding which notifications are due (agenda,
//! follow-up, overdue 1:1, action digest, stuck topic), recording each in the
//! delivery table before it is sent, and delivering it.
//!
//! - [`plan`]: the pure timing rules (working hours, away, lead times).
//! - [`pass`]: one planning pass — what is due, queued idempotently.
//! - [`worker`]: claims due deliveries with a lease, renders, sends, records.
//! - [`pace`]: per-workspace and per-channel send rates (token buckets).
//! - [`runner`]: one pass (`oneonone tick`) or a pass on every `ONEONONE_TICK`.
//!
//! The scheduler depends on `domain`, `store` and the command layer's
//! renderers; chat platforms reach it through the `ChatSender` seam, never by
//! import.

pub mod pace;
pub mod pass;
pub mod plan;
pub mod runner;
pub mod worker;
