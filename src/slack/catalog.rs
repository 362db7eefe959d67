//! What the Slack app is made of, in one place: the slash command, the
//! request paths, the events it subscribes to, the message shortcut, every
//! Web API method it calls and every bot scope it asks for.
//!
//! The router takes its paths from here, and the manifest test
//! (`tests/api/manifest.rs`) checks `manifests/slack/manifest.yml` against it
//! both ways: nothing the code uses is missing from the manifest, and the
//! manifest asks for nothing the code does not use. Add a method or an event
//! here first, then to the manifest.

use std::collections::BTreeSet;

/// The slash command people type.
pub const SLASH_COMMAND: &str = "/oneonone";

/// Where Slack posts slash commands (form body).
pub const COMMANDS_PATH: &str = "/slack/commands";
/// Where Slack posts the Events API (JSON body).
pub const EVENTS_PATH: &str = "/slack/events";
/// Where Slack posts block actions, view submissions and shortcuts (form
/// body with a `payload` JSON field).
pub const INTERACTIVITY_PATH: &str = "/slack/interactivity";
/// Where people start an OAuth install (only with `SLACK_CLIENT_ID`).
pub const INSTALL_PATH: &str = "/slack/install";
/// Where Slack sends the browser back after consent (the manifest's
/// `oauth_config.redirect_urls`).
pub const OAUTH_REDIRECT_PATH: &str = "/slack/oauth_redirect";

/// The bot events the app subscribes to.
pub const BOT_EVENTS: &[&str] = &[
    // Refresh the person's App Home tab.
    "app_home_opened",
    // DMs to the bot: commands without the `/oneonone` prefix, and replies in
    // the thread of an agenda message the bot posted in that DM. Agenda
    // messages live only in DMs, so no `message.channels` / `message.groups`.
    "message.im",
    // Reactions on posted agenda messages (attend, skip, reschedule).
    "reaction_added",
    // Clean-up: delete the workspace's tokens.
    "app_uninstalled",
    "tokens_revoked",
];

/// The `callback_id` of the "Add to 1:1 agenda" message shortcut.
pub const MESSAGE_SHORTCUT_CALLBACK: &str = "add_to_agenda";

/// Every Web API method the bot calls, with the bot scope it needs ("" =
/// none). Posts to a `response_url` are not Web API calls and need no scope.
pub const API_METHODS: &[(&str, &str)] = &[
    ("users.info", "users:read"),
    ("conversations.open", "im:write"),
    ("chat.postMessage", "chat:write"),
    ("chat.update", "chat:write"),
    ("chat.getPermalink", ""),
    ("views.open", ""),
    ("views.update", ""),
    ("views.publish", ""),
    ("reactions.add", "reactions:write"),
    // OAuth installs: the code exchange and token refresh (client id and
    // secret, no token), and the new bot's own ids.
    ("oauth.v2.access", ""),
    ("auth.test", ""),
];

/// Bot scopes needed by events and features that are not Web API calls, each
/// with the reason.
pub const FEATURE_SCOPES: &[(&str, &str)] = &[
    (
        "commands",
        "the /oneonone slash command and the \"Add to 1:1 agenda\" message shortcut",
    ),
    (
        "im:history",
        "the message.im event: DMs to the bot and thread replies under agenda messages",
    ),
    ("reactions:read", "the reaction_added event on posted agenda messages"),
    (
        "users:read.email",
        "users.info returns the person's e-mail address only with this scope",
    ),
];

/// Every bot scope the app asks for: the union of [`API_METHODS`] and
/// [`FEATURE_SCOPES`], without the empty "no scope" marker.
pub fn bot_scopes() -> BTreeSet<&'static str> {
    let by_methods = API_METHODS.iter().map(|&(_, scope)| scope);
    let by_features = FEATURE_SCOPES.iter().map(|&(scope, _)| scope);
    by_methods
        .chain(by_features)
        .filter(|scope| !scope.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bot_scopes_are_the_least_set_every_feature_needs() {
        assert_eq!(
            bot_scopes().into_iter().collect::<Vec<_>>(),
            [
                "chat:write",
                "commands",
                "im:history",
                "im:write",
                "reactions:read",
                "reactions:write",
                "users:read",
                "users:read.email",
            ]
        );
    }

    #[test]
    fn no_method_event_or_scope_is_listed_twice() {
        let methods: BTreeSet<_> = API_METHODS.iter().map(|(m, _)| m).collect();
        assert_eq!(methods.len(), API_METHODS.len());
        let events: BTreeSet<_> = BOT_EVENTS.iter().collect();
        assert_eq!(events.len(), BOT_EVENTS.len());
        let features: BTreeSet<_> = FEATURE_SCOPES.iter().map(|(s, _)| s).collect();
        assert_eq!(features.len(), FEATURE_SCOPES.len());
        for (scope, why) in FEATURE_SCOPES {
            assert!(!scope.is_empty() && !why.is_empty(), "{scope}: {why}");
        }
    }

    #[test]
    fn the_paths_are_absolute_and_distinct() {
        let paths = [
            COMMANDS_PATH,
            EVENTS_PATH,
            INTERACTIVITY_PATH,
            INSTALL_PATH,
            OAUTH_REDIRECT_PATH,
        ];
        assert!(paths.iter().all(|p| p.starts_with("/slack/")));
        assert_eq!(paths.iter().collect::<BTreeSet<_>>().len(), 5);
    }
}
