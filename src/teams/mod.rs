//! Microsoft Teams: a second thin adapter over the same commands, store and
//! scheduler, speaking the Bot Framework protocol directly (SPEC §7).
//!
//! - [`activity`]: the activity fields the bot reads, and a message as a
//!   line of the command grammar (mentions rewritten).
//! - [`cards`]: `Reply` → Adaptive Card 1.5 (Universal Actions), and card
//!   actions read back.

pub mod activity;
pub mod actions;
pub mod cards;
