//! Microsoft Teams: a second thin adapter over the same commands, store and
//! scheduler, speaking the Bot Framework protocol directly (SPEC §7).
//!
//! - [`package`]: the Teams app package (manifest and icons) for one Azure Bot.

pub mod package;
