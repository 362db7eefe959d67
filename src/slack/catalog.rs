//! TEMPORARY stand-in until the manifest branch is merged.
pub const MESSAGE_SHORTCUT_CALLBACK: &str = "add_to_agenda";
