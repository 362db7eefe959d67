//! The scheduler of SPEC §8: deciding which notifications are due (agenda,
//! follow-up, overdue 1:1, action digest, stuck topic), recording each in the
//! delivery table before it is sent, and delivering it.
//!
//! It will hold the planner (what is due on a pass), the worker (the pass
//! itself) and the delivery kinds. Today it holds [`plan`], the pure timing
//! rules. The scheduler depends on `domain` and `store` only; the chat
//! platforms reach it through a seam, never by import.

pub mod plan;
