//! `manifests/slack/manifest.yml` against `oneonone::slack::catalog`, the list
//! of what the code uses: the same command, paths, events, shortcut and bot
//! scopes, nothing missing and nothing extra; every path is really served; and
//! the code calls no Web API method the catalog does not list.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{Engine, TestApp};
use oneonone::slack::catalog::{
    API_METHODS, BOT_EVENTS, COMMANDS_PATH, EVENTS_PATH, INTERACTIVITY_PATH, MESSAGE_SHORTCUT_CALLBACK,
    OAUTH_REDIRECT_PATH, SLASH_COMMAND, bot_scopes,
};
use serde_yaml_ng::Value;
use slack_morphism::prelude::*;
use url::Url;

const MANIFEST: &str = include_str!("../../manifests/slack/manifest.yml");

/// The manifest read into slack-morphism's own model of it: required fields,
/// types and URLs are checked on the way in.
fn manifest() -> SlackAppManifest {
    serde_yaml_ng::from_str(MANIFEST).expect("manifest.yml is a Slack app manifest")
}

/// The manifest as plain YAML, for what the typed model leaves out.
fn raw() -> Value {
    serde_yaml_ng::from_str(MANIFEST).expect("manifest.yml is YAML")
}

fn set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    items.into_iter().collect()
}

/// Fails with what is missing from and what is extra in `actual`.
fn assert_same(what: &str, actual: &BTreeSet<&str>, expected: &BTreeSet<&str>) {
    let missing: Vec<_> = expected.difference(actual).collect();
    let extra: Vec<_> = actual.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing from the manifest {missing:?}, not used by the code {extra:?}"
    );
}

/// Every key of the mapping at `path` is one Slack's manifest schema knows,
/// so a misspelt field cannot be silently ignored.
fn assert_known_keys(doc: &Value, path: &[&str], known: &[&str]) {
    let mut v = doc;
    for p in path {
        v = &v[*p];
    }
    let items: Vec<&Value> = match v {
        Value::Sequence(items) => items.iter().collect(),
        Value::Mapping(_) => vec![v],
        Value::Null => return,
        other => panic!("{path:?} is neither a mapping nor a list: {other:?}"),
    };
    for item in items {
        let Value::Mapping(map) = item else {
            panic!("{path:?} holds a non-mapping: {item:?}")
        };
        for key in map.keys() {
            let key = key.as_str().expect("string keys");
            assert!(known.contains(&key), "unknown manifest field {path:?}.{key}");
        }
    }
}

/// Every URL anywhere in the manifest, found by walking the whole document.
fn urls_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|i| urls_in(i, out)),
        Value::Mapping(map) => map.values().for_each(|i| urls_in(i, out)),
        Value::Tagged(t) => urls_in(&t.value, out),
        _ => {}
    }
}

/// The three request URLs Slack posts to: slash command, events, interactivity.
fn request_urls(m: &SlackAppManifest) -> [Url; 3] {
    let features = m.features.as_ref().expect("features");
    let commands = features.slash_commands.as_deref().expect("slash_commands");
    assert_eq!(commands.len(), 1, "exactly one slash command");
    let settings = m.settings.as_ref().expect("settings");
    let events = settings.event_subscriptions.as_ref().expect("event_subscriptions");
    let interactivity = settings.interactivity.as_ref().expect("interactivity");
    [
        commands[0].url.clone().expect("slash command url"),
        events.request_url.clone().expect("event_subscriptions.request_url"),
        interactivity.request_url.clone().expect("interactivity.request_url"),
    ]
}

#[test]
fn the_manifest_is_a_complete_version_1_1_slack_app_manifest_with_only_known_fields() {
    let m = manifest();
    let meta = m.metadata.as_ref().expect("_metadata");
    assert_eq!((meta.major_version, meta.minor_version), (Some(1), Some(1)));

    let info = &m.display_information;
    assert!(!info.name.is_empty() && info.name.len() <= 35, "name: {}", info.name);
    let description = info.description.as_deref().expect("description");
    assert!((1..=140).contains(&description.chars().count()), "{description}");
    if let Some(long) = &info.long_description {
        assert!((175..=4000).contains(&long.chars().count()), "long_description length");
    }

    let features = m.features.as_ref().expect("features");
    let home = features.app_home.as_ref().expect("features.app_home");
    assert_eq!(home.home_tab_enabled, Some(true), "App Home tab");
    assert_eq!(home.messages_tab_enabled, Some(true), "people DM the bot");
    assert_eq!(
        home.messages_tab_read_only_enabled,
        Some(false),
        "the DM tab is writable"
    );
    let bot = features.bot_user.as_ref().expect("features.bot_user");
    assert!(!bot.display_name.is_empty());

    let settings = m.settings.as_ref().expect("settings");
    assert_eq!(settings.org_deploy_enabled, Some(false));
    assert_eq!(
        settings.socket_mode_enabled,
        Some(false),
        "HTTP request URLs, not Socket Mode"
    );
    assert!(settings.interactivity.as_ref().expect("interactivity").is_enabled);
    let doc = raw();
    assert_eq!(
        doc["settings"]["token_rotation_enabled"].as_bool(),
        Some(false),
        "off by default: a single-workspace SLACK_BOT_TOKEN cannot be refreshed"
    );

    assert_known_keys(
        &doc,
        &[],
        &[
            "_metadata",
            "display_information",
            "features",
            "oauth_config",
            "settings",
        ],
    );
    assert_known_keys(&doc, &["_metadata"], &["major_version", "minor_version"]);
    assert_known_keys(
        &doc,
        &["display_information"],
        &["name", "description", "long_description", "background_color"],
    );
    assert_known_keys(
        &doc,
        &["features"],
        &[
            "app_home",
            "bot_user",
            "shortcuts",
            "slash_commands",
            "unfurl_domains",
            "workflow_steps",
        ],
    );
    assert_known_keys(
        &doc,
        &["features", "app_home"],
        &[
            "home_tab_enabled",
            "messages_tab_enabled",
            "messages_tab_read_only_enabled",
        ],
    );
    assert_known_keys(&doc, &["features", "bot_user"], &["display_name", "always_online"]);
    assert_known_keys(
        &doc,
        &["features", "slash_commands"],
        &["command", "url", "description", "usage_hint", "should_escape"],
    );
    assert_known_keys(
        &doc,
        &["features", "shortcuts"],
        &["name", "type", "callback_id", "description"],
    );
    assert_known_keys(
        &doc,
        &["oauth_config"],
        &["redirect_urls", "scopes", "token_management_enabled"],
    );
    assert_known_keys(&doc, &["oauth_config", "scopes"], &["bot", "user"]);
    assert_known_keys(
        &doc,
        &["settings"],
        &[
            "allowed_ip_address_ranges",
            "event_subscriptions",
            "incoming_webhooks",
            "interactivity",
            "org_deploy_enabled",
            "socket_mode_enabled",
            "token_rotation_enabled",
        ],
    );
    assert_known_keys(
        &doc,
        &["settings", "event_subscriptions"],
        &["request_url", "bot_events", "user_events", "metadata_subscriptions"],
    );
    assert_known_keys(
        &doc,
        &["settings", "interactivity"],
        &["is_enabled", "request_url", "message_menu_options_url"],
    );
}

#[test]
fn the_slash_command_is_the_catalogs_posts_to_the_commands_path_and_escapes_mentions() {
    let m = manifest();
    let commands = m
        .features
        .as_ref()
        .and_then(|f| f.slash_commands.clone())
        .expect("slash_commands");
    assert_eq!(commands.len(), 1, "exactly one slash command");
    let c = &commands[0];
    assert_eq!(c.command, SLASH_COMMAND);
    assert_eq!(c.url.as_ref().map(Url::path), Some(COMMANDS_PATH));
    assert_eq!(c.should_escape, Some(true), "mentions must arrive as <@U…> ids");
    assert!(!c.description.is_empty());
    assert!(c.usage_hint.as_deref().is_some_and(|h| !h.is_empty()), "usage_hint");
}

#[test]
fn events_and_interactivity_post_to_the_catalogs_paths() {
    let m = manifest();
    let [commands, events, interactivity] = request_urls(&m);
    assert_eq!(commands.path(), COMMANDS_PATH);
    assert_eq!(events.path(), EVENTS_PATH);
    assert_eq!(interactivity.path(), INTERACTIVITY_PATH);
    let settings = m.settings.as_ref().expect("settings");
    let interactivity = settings.interactivity.as_ref().expect("interactivity");
    assert!(
        interactivity.message_menu_options_url.is_none(),
        "no external select menus"
    );
}

#[test]
fn the_manifest_subscribes_to_exactly_the_catalogs_bot_events_and_no_user_events() {
    let m = manifest();
    let subs = m
        .settings
        .as_ref()
        .and_then(|s| s.event_subscriptions.clone())
        .expect("event_subscriptions");
    let bot_events = subs.bot_events.clone().unwrap_or_default();
    let listed = set(bot_events.iter().map(|e| e.0.as_str()));
    assert_eq!(listed.len(), bot_events.len(), "an event listed twice");
    assert_same("bot_events", &listed, &set(BOT_EVENTS.iter().copied()));
    assert!(subs.user_events.unwrap_or_default().is_empty(), "no user events");
}

#[test]
fn the_only_shortcut_is_the_add_to_agenda_message_shortcut() {
    let m = manifest();
    let shortcuts = m
        .features
        .as_ref()
        .and_then(|f| f.shortcuts.clone())
        .expect("shortcuts");
    assert_eq!(shortcuts.len(), 1, "{shortcuts:?}");
    let s = &shortcuts[0];
    assert_eq!(s.ty, SlackShortcutType::Message);
    assert_eq!(s.callback_id.0, MESSAGE_SHORTCUT_CALLBACK);
    assert_eq!(s.name, "Add to 1:1 agenda");
    assert!(!s.description.is_empty());
}

#[test]
fn the_manifest_asks_for_exactly_the_catalogs_bot_scopes_and_no_user_scopes() {
    let m = manifest();
    let scopes = m
        .oauth_config
        .as_ref()
        .and_then(|o| o.scopes.clone())
        .expect("oauth_config.scopes");
    let bot = scopes.bot.clone().unwrap_or_default();
    let listed = set(bot.iter().map(|s| s.0.as_str()));
    assert_eq!(listed.len(), bot.len(), "a scope listed twice");
    assert_same("oauth_config.scopes.bot", &listed, &bot_scopes());
    assert!(scopes.user.unwrap_or_default().is_empty(), "no user scopes");
}

#[test]
fn the_oauth_redirect_url_is_the_catalogs_redirect_path() {
    let m = manifest();
    let redirects = m
        .oauth_config
        .as_ref()
        .and_then(|o| o.redirect_urls.clone())
        .expect("oauth_config.redirect_urls");
    assert_eq!(redirects.len(), 1, "{redirects:?}");
    assert_eq!(redirects[0].path(), OAUTH_REDIRECT_PATH);
}

#[test]
fn every_url_in_the_manifest_is_https_on_one_host() {
    let mut urls = Vec::new();
    urls_in(&raw(), &mut urls);
    assert!(urls.len() >= 3, "commands, events and interactivity URLs: {urls:?}");
    let origins: BTreeSet<String> = urls
        .iter()
        .map(|u| {
            let url = Url::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
            assert_eq!(url.scheme(), "https", "{u}");
            assert!(url.query().is_none() && url.fragment().is_none(), "{u}");
            url.origin().ascii_serialization()
        })
        .collect();
    assert_eq!(origins.len(), 1, "one server for every URL: {origins:?}");
    // The typed view finds the same three request URLs.
    for url in request_urls(&manifest()) {
        assert!(urls.contains(&url.to_string()), "{url}");
    }
}

#[tokio::test]
async fn every_request_url_path_in_the_manifest_is_served_and_refuses_unsigned_requests() {
    let app = TestApp::spawn(Engine::Sqlite).await.expect("SQLite app");
    let paths: Vec<String> = request_urls(&manifest()).iter().map(|u| u.path().to_owned()).collect();
    assert_eq!(paths, [COMMANDS_PATH, EVENTS_PATH, INTERACTIVITY_PATH]);
    for path in paths {
        for (content_type, body) in [
            ("application/x-www-form-urlencoded", "text=help"),
            ("application/json", r#"{"type":"event_callback"}"#),
        ] {
            let res = app.post_with(&path, content_type, body, None).await;
            assert_eq!(res.status().as_u16(), 401, "unsigned POST {path} ({content_type})");
        }
    }
    assert!(app.slack.calls().is_empty(), "no Slack call for a refused request");
}

// ---------------------------------------------------------------- the code's Web API calls

/// The Slack method a slack-morphism session method calls: the part before
/// the first `_` is the family, the rest is lowerCamelCase
/// (`chat_post_message` → `chat.postMessage`). Methods whose names have
/// more dots are listed.
fn slack_method(rust: &str) -> String {
    const DOTTED: &[(&str, &str)] = &[
        ("users_profile_get", "users.profile.get"),
        ("users_profile_set", "users.profile.set"),
        ("team_profile_get", "team.profile.get"),
        ("apps_manifest_create", "apps.manifest.create"),
        ("apps_manifest_delete", "apps.manifest.delete"),
        ("apps_manifest_export", "apps.manifest.export"),
        ("apps_manifest_update", "apps.manifest.update"),
        ("apps_manifest_validate", "apps.manifest.validate"),
        ("apps_connections_open", "apps.connections.open"),
        ("oauth2_access", "oauth.v2.access"),
    ];
    if let Some((_, m)) = DOTTED.iter().find(|(r, _)| *r == rust) {
        return (*m).to_owned();
    }
    let (family, rest) = rust.split_once('_').unwrap_or((rust, ""));
    let mut out = format!("{family}.");
    for (i, word) in rest.split('_').enumerate() {
        let mut chars = word.chars();
        match chars.next() {
            Some(first) if i > 0 => {
                out.push(first.to_ascii_uppercase());
                out.extend(chars);
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// Every `session.<name>(` call in `text`: how the code calls the Web API
/// through a slack-morphism `SlackClientSession`.
fn session_calls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("session.") {
        let rest = &text[i + "session.".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && rest[name.len()..].starts_with('(') {
            out.push(name);
        }
    }
    out
}

fn rust_sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn rust_method_names_map_to_slack_web_api_method_names() {
    for (rust, slack) in [
        ("users_info", "users.info"),
        ("conversations_open", "conversations.open"),
        ("chat_post_message", "chat.postMessage"),
        ("chat_post_ephemeral", "chat.postEphemeral"),
        ("chat_update", "chat.update"),
        ("chat_get_permalink", "chat.getPermalink"),
        ("views_open", "views.open"),
        ("views_update", "views.update"),
        ("views_publish", "views.publish"),
        ("reactions_add", "reactions.add"),
        ("users_profile_get", "users.profile.get"),
    ] {
        assert_eq!(slack_method(rust), slack, "{rust}");
    }
    assert_eq!(
        session_calls("let r = session.chat_post_message(&req); session.\n x(); my_session.views_open(&v)"),
        ["chat_post_message", "views_open"]
    );
}

#[test]
fn the_code_calls_no_web_api_method_missing_from_the_catalog() {
    let listed = set(API_METHODS.iter().map(|(m, _)| *m));
    let client = session_calls(include_str!("../../src/slack/client.rs"));
    assert!(
        client.iter().any(|c| c == "users_info"),
        "the scan finds the client's calls: {client:?}"
    );
    let mut sources = Vec::new();
    rust_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut sources);
    let mut unlisted = Vec::new();
    for (file, text) in &sources {
        for call in session_calls(text) {
            let method = slack_method(&call);
            if !listed.contains(method.as_str()) {
                unlisted.push(format!("{file}: session.{call}() calls {method}"));
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "add these to catalog::API_METHODS with their scope, then to the manifest: {unlisted:#?}"
    );
}
