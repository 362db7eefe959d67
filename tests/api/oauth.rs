//! The OAuth v2 install flow through HTTP, against the fake Slack: install,
//! consent, redirect; the install's own token used for its workspace (and
//! the single-workspace token still for its own); states that are reused,
//! expired, from another browser or cancelled; token rotation, once even
//! under concurrent use and across replicas; and uninstalls.

use crate::support::fake_slack::{APP_ID, CLIENT_ID, CLIENT_SECRET, Grant};
use crate::support::*;
use oneonone::store::Db;
use std::collections::HashMap;

/// Like `both_engines!`, with the app spawned with OAuth on.
macro_rules! with_oauth {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: &TestApp) $body
            #[tokio::test]
            async fn on_sqlite() {
                let app = TestApp::spawn_with_oauth(Engine::Sqlite).await.unwrap();
                run(&app).await;
            }
            #[tokio::test]
            async fn on_postgres() {
                if let Some(app) = TestApp::spawn_with_oauth(Engine::Postgres).await {
                    run(&app).await;
                }
            }
        }
    };
}

const T2: &str = "T0BBBBBBB";
const BOSS: &str = "U0BBBOSS01";
const WORKER: &str = "U0BBWORK01";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn grant(team: &str, name: &str, expires_in: Option<i64>) -> Grant {
    Grant {
        team_id: team.into(),
        team_name: name.into(),
        expires_in,
        enterprise_install: false,
    }
}

fn query_of(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// An install begun in a browser: the consent page's URL and the cookie.
struct Begun {
    consent: String,
    cookie: String,
    state: String,
}

async fn begin(app: &TestApp) -> Begun {
    let res = no_redirects().get(app.url("/slack/install")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 302);
    let consent = res.headers()["location"].to_str().unwrap().to_owned();
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let state = query_of(&consent)["state"].clone();
    Begun { consent, cookie, state }
}

/// The person answers on Slack's consent page; returns the query Slack
/// sends the browser back with.
async fn consent(begun: &Begun) -> String {
    let res = no_redirects().get(&begun.consent).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 302, "{}", res.text().await.unwrap());
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(REDIRECT_URI), "{back}");
    url::Url::parse(&back).unwrap().query().unwrap().to_owned()
}

/// The browser comes back to the app (at its real port) with `query`.
async fn finish(app: &TestApp, query: &str, cookie: Option<&str>) -> (u16, String, Option<String>) {
    let mut req = no_redirects().get(app.url(&format!("/slack/oauth_redirect?{query}")));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let set_cookie = res.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
    (status, res.text().await.unwrap(), set_cookie)
}

/// The whole install of one workspace; returns its bot token.
async fn install(app: &TestApp, g: Grant) -> String {
    let team = g.team_id.clone();
    app.slack.next_install(g);
    let begun = begin(app).await;
    let query = consent(&begun).await;
    let (status, body, _) = finish(app, &query, Some(&begun.cookie)).await;
    assert_eq!(status, 200, "{body}");
    app.slack.bot_token_of(&team).expect("the fake issued a token")
}

fn add_team_users(app: &TestApp) {
    app.slack
        .add_user(BOSS, "Bea Boss", "Europe/Berlin", "bea@second.example");
    app.slack
        .add_user(WORKER, "Wes Worker", "Asia/Kolkata", "wes@second.example");
}

async fn command_in(app: &TestApp, team: &str, user: &str, text: &str) -> serde_json::Value {
    let form = serde_urlencoded::to_string([
        ("team_id", team),
        ("team_domain", "second"),
        ("channel_id", "D0DMCHAN02"),
        ("user_id", user),
        ("user_name", user),
        ("command", "/oneonone"),
        ("text", text),
        ("response_url", "http://127.0.0.1:9/hooks/unused"),
        ("trigger_id", "1.2.3"),
    ])
    .unwrap();
    let res = app
        .post_signed("/slack/commands", "application/x-www-form-urlencoded", &form)
        .await;
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.unwrap()
}

async fn event_in(app: &TestApp, team: &str, event_id: &str, event: serde_json::Value) {
    let body = serde_json::json!({
        "token": "legacy",
        "team_id": team,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_764_316_900,
        "event": event,
    })
    .to_string();
    let res = app.post_signed("/slack/events", "application/json", &body).await;
    assert_eq!(res.status().as_u16(), 200);
}

/// Raw bytes of every stored column of the team's install row.
async fn raw_row(db: &Db, team: &str) -> Vec<u8> {
    const Q: &str = "select bot_token, bot_refresh_token, team_id, team_name, app_id, bot_user_id, bot_id, bot_scopes
        from slack_installations where team_id = $1";
    type Raw = (Vec<u8>, Option<Vec<u8>>, String, String, String, String, String, String);
    let row: Raw = match db {
        Db::Sqlite(s) => sqlx::query_as(Q).bind(team).fetch_one(&s.pool).await.unwrap(),
        Db::Postgres(p) => sqlx::query_as(Q).bind(team).fetch_one(p).await.unwrap(),
    };
    let mut all = row.0;
    all.extend(row.1.unwrap_or_default());
    for s in [row.2, row.3, row.4, row.5, row.6, row.7] {
        all.extend(s.into_bytes());
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn wait_until_uninstalled(app: &TestApp, team: &str) {
    for _ in 0..100 {
        if app.db.slack_installation(team).await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{team}'s install was not deleted");
}

fn refreshes(app: &TestApp) -> usize {
    app.slack
        .calls_to("oauth.v2.access")
        .iter()
        .filter(|c| c.body["grant_type"] == "refresh_token")
        .count()
}

// ---------------------------------------------------------------- install

with_oauth!(
    install_redirects_to_slack_with_the_catalogs_scopes_and_a_state_bound_to_a_cookie,
    |app| {
        let res = no_redirects().get(app.url("/slack/install")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 302);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&app.slack.authorize_url()), "{location}");
        let q = query_of(&location);
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["redirect_uri"], REDIRECT_URI);
        let scopes: Vec<&str> = q["scope"].split(',').collect();
        let catalog: Vec<&str> = oneonone::slack::catalog::bot_scopes().into_iter().collect();
        assert_eq!(scopes, catalog);
        assert_eq!(q["user_scope"], "");
        let state = &q["state"];
        assert!(state.len() >= 40, "a long random state: {state}");
        let cookie = res.headers()["set-cookie"].to_str().unwrap();
        assert_eq!(
            cookie,
            format!("oneonone_slack_oauth_state={state}; HttpOnly; Secure; SameSite=Lax; Path=/slack; Max-Age=600")
        );
        let again = begin(app).await;
        assert_ne!(&again.state, state, "a new state each time");
    }
);

with_oauth!(
    the_install_flow_stores_an_encrypted_install_and_the_workspace_uses_its_own_token,
    |app| {
        add_team_users(app);
        app.slack.next_install(grant(T2, "Second <Workspace>", None));
        let begun = begin(app).await;
        let query = consent(&begun).await;
        let (status, body, cleared) = finish(app, &query, Some(&begun.cookie)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("oneonone is installed"), "{body}");
        assert!(body.contains("Second &lt;Workspace&gt;"), "escaped: {body}");
        assert!(
            body.contains(&format!("/app_redirect?app={APP_ID}&amp;team={T2}")),
            "links to the app: {body}"
        );
        assert!(cleared.unwrap().contains("Max-Age=0"), "the state cookie is cleared");

        // The exchange: POST, Basic auth, form with code and redirect_uri.
        let exchange = &app.slack.calls_to("oauth.v2.access")[0];
        assert_eq!(exchange.http_method, "POST");
        assert_eq!(
            exchange.basic_auth.as_deref(),
            Some(format!("{CLIENT_ID}:{CLIENT_SECRET}").as_str())
        );
        assert!(
            exchange
                .content_type
                .as_deref()
                .unwrap()
                .starts_with("application/x-www-form-urlencoded")
        );
        assert_eq!(exchange.body["redirect_uri"], REDIRECT_URI);
        assert!(exchange.body["code"].as_str().unwrap().starts_with("code-"));
        let token = app.slack.bot_token_of(T2).unwrap();
        let auth_test = app.slack.calls_to("auth.test");
        assert_eq!(auth_test.last().unwrap().token.as_deref(), Some(token.as_str()));

        let stored = app.db.slack_installation(T2).await.unwrap().expect("install saved");
        assert_eq!(
            (
                stored.team_name.as_str(),
                stored.app_id.as_str(),
                stored.bot_id.as_str()
            ),
            ("Second <Workspace>", APP_ID, "BT0BBBBBBB")
        );
        assert_eq!(stored.bot_user_id, "UT0BBBBBBBBOT");
        assert_eq!(stored.installer_user_id, "U0INSTALLER");
        assert!(stored.bot_scopes.contains("chat:write"));
        assert_eq!((stored.bot_refresh_token, stored.bot_token_expires_at), (None, None));
        let raw = raw_row(&app.db, T2).await;
        assert!(!contains(&raw, &token), "the token is not in the database in the clear");
        assert!(!contains(&raw, "xoxb-"), "no token prefix either");

        // A command from the new workspace: its profile lookups use its token.
        let before = app.slack.calls_to("users.info").len();
        let answer = command_in(
            app,
            T2,
            BOSS,
            &format!("setup <@{WORKER}|wes> weekly on tuesday at 10:00 tz Europe/Berlin"),
        )
        .await;
        assert!(answer["text"].as_str().unwrap().contains("Wes"), "{answer}");
        let lookups = app.slack.calls_to("users.info")[before..].to_vec();
        assert!(!lookups.is_empty());
        assert!(
            lookups.iter().all(|c| c.token.as_deref() == Some(token.as_str())),
            "{lookups:?}"
        );
        // The notice to the report goes out with it too.
        let notice = app.slack.wait_for("chat.postMessage", 1).await;
        assert_eq!(notice[0].token.as_deref(), Some(token.as_str()));

        // The bot-token workspace still uses SLACK_BOT_TOKEN (both modes at once).
        let before = app.slack.calls_to("users.info").len();
        app.with_pair().await;
        let lookups = app.slack.calls_to("users.info")[before..].to_vec();
        assert!(!lookups.is_empty());
        assert!(lookups.iter().all(|c| c.token.as_deref() == Some("xoxb-test-token")));

        // The scheduler sends each workspace's agendas with its own token.
        let posted = app.slack.calls_to("chat.postMessage").len();
        let (_, worked) = app
            .tick(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap())
            .await;
        assert_eq!(worked.sent, 4, "{worked:?}");
        let sent = app.slack.calls_to("chat.postMessage")[posted..].to_vec();
        for c in &sent {
            let to = c.body["channel"].as_str().unwrap();
            let expected = if to == BOSS || to == WORKER {
                token.as_str()
            } else {
                "xoxb-test-token"
            };
            assert_eq!(c.token.as_deref(), Some(expected), "{to}");
        }
    }
);

with_oauth!(a_reinstall_replaces_the_workspaces_token, |app| {
    let first = install(app, grant(T2, "Second", None)).await;
    let second = install(app, grant(T2, "Second", None)).await;
    assert_ne!(first, second);
    let token = app.slack_state().token(T2).await.unwrap().unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&token), second);
});

// ---------------------------------------------------------------- refused

with_oauth!(
    a_reused_state_is_refused_with_a_page_and_nothing_more_is_exchanged,
    |app| {
        let begun = begin(app).await;
        let query = consent(&begun).await;
        let (status, _, _) = finish(app, &query, Some(&begun.cookie)).await;
        assert_eq!(status, 200);
        app.db.delete_slack_installation(T2).await.unwrap();
        let (status, body, _) = finish(app, &query, Some(&begun.cookie)).await;
        assert_eq!(status, 400);
        assert!(body.contains("already used"), "{body}");
        assert!(body.contains("href=\"/slack/install\""), "{body}");
        assert_eq!(
            app.slack.calls_to("oauth.v2.access").len(),
            1,
            "the code is exchanged once"
        );
        assert!(app.db.slack_installation(T2).await.unwrap().is_none());
    }
);

with_oauth!(an_expired_state_is_refused_and_nothing_is_stored, |app| {
    let begun = begin(app).await;
    let query = consent(&begun).await;
    app.clock.advance(chrono::Duration::minutes(11));
    let (status, body, _) = finish(app, &query, Some(&begun.cookie)).await;
    assert_eq!(status, 400);
    assert!(body.contains("expired"), "{body}");
    assert!(app.slack.calls_to("oauth.v2.access").is_empty());
    assert!(app.db.slack_installation(T2).await.unwrap().is_none());
});

with_oauth!(a_state_from_another_browser_or_without_a_cookie_is_refused, |app| {
    let mine = begin(app).await;
    let query = consent(&mine).await;
    // An attacker's browser has its own (valid) state, not this one.
    let theirs = begin(app).await;
    for cookie in [None, Some(theirs.cookie.as_str()), Some("oneonone_slack_oauth_state=")] {
        let (status, body, _) = finish(app, &query, cookie).await;
        assert_eq!(status, 400, "{cookie:?}");
        assert!(body.contains("another browser"), "{body}");
    }
    let (status, body, _) = finish(app, "code=abc", Some(&mine.cookie)).await;
    assert_eq!(status, 400);
    assert!(body.contains("incomplete"), "{body}");
    assert!(app.slack.calls_to("oauth.v2.access").is_empty());
    assert!(app.db.slack_installation(T2).await.unwrap().is_none());
    // The rightful browser can still finish.
    let (status, _, _) = finish(app, &query, Some(&mine.cookie)).await;
    assert_eq!(status, 200);
});

with_oauth!(
    a_cancelled_install_shows_a_page_stores_nothing_and_spends_the_state,
    |app| {
        app.slack.cancel_next_authorize();
        let begun = begin(app).await;
        let query = consent(&begun).await;
        assert!(query.contains("error=access_denied"), "{query}");
        let (status, body, _) = finish(app, &query, Some(&begun.cookie)).await;
        assert_eq!(status, 400);
        assert!(body.contains("cancelled"), "{body}");
        assert!(app.slack.calls_to("oauth.v2.access").is_empty());
        assert!(app.db.slack_installation(T2).await.unwrap().is_none());
        let forged = format!("code=x&state={}", begun.state);
        let (status, body, _) = finish(app, &forged, Some(&begun.cookie)).await;
        assert_eq!(status, 400);
        assert!(body.contains("already used"), "{body}");
    }
);

with_oauth!(a_code_slack_refuses_and_an_org_wide_install_are_friendly_pages, |app| {
    let begun = begin(app).await;
    let (status, body, _) = finish(app, &format!("code=forged&state={}", begun.state), Some(&begun.cookie)).await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid_code"), "{body}");

    app.slack.next_install(Grant {
        enterprise_install: true,
        ..grant("T0GRIDGRID", "Grid", None)
    });
    let begun = begin(app).await;
    let query = consent(&begun).await;
    let (status, body, _) = finish(app, &query, Some(&begun.cookie)).await;
    assert_eq!(status, 400);
    assert!(body.contains("org-wide"), "{body}");
    assert!(app.db.slack_installation("T0GRIDGRID").await.unwrap().is_none());
});

#[tokio::test]
async fn without_client_credentials_the_install_routes_do_not_exist() {
    let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
    for path in ["/slack/install", "/slack/oauth_redirect?code=x&state=y"] {
        let res = no_redirects().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
}

// ---------------------------------------------------------------- rotation

with_oauth!(
    a_rotating_token_is_refreshed_once_before_it_expires_even_under_concurrent_commands,
    |app| {
        add_team_users(app);
        app.slack
            .add_user("U0BBTHIRD1", "Tia Third", "Europe/Berlin", "tia@second.example");
        let first = install(app, grant(T2, "Second", Some(12 * 3600))).await;
        assert!(first.starts_with("xoxe.xoxb-"));
        let stored = app.db.slack_installation(T2).await.unwrap().unwrap();
        assert!(stored.bot_refresh_token.is_some());
        let raw = raw_row(&app.db, T2).await;
        assert!(!contains(&raw, "xoxe"), "neither token in the clear");

        // 12 h of life: used as is.
        command_in(app, T2, BOSS, "help").await;
        assert_eq!(refreshes(app), 0);

        // 10 h later fewer than 2 h remain: three people at once, one refresh.
        app.clock
            .advance(chrono::Duration::hours(10) + chrono::Duration::minutes(1));
        let before = app.slack.calls_to("users.info").len();
        let (a, b, c) = tokio::join!(
            command_in(app, T2, WORKER, "help"),
            command_in(app, T2, "U0BBTHIRD1", "help"),
            command_in(app, T2, BOSS, "actions"),
        );
        for answer in [a, b, c] {
            assert!(answer["text"].is_string(), "{answer}");
        }
        assert_eq!(refreshes(app), 1);
        let refresh = app
            .slack
            .calls_to("oauth.v2.access")
            .into_iter()
            .find(|c| c.body["grant_type"] == "refresh_token")
            .unwrap();
        assert_eq!(refresh.http_method, "POST");
        assert_eq!(
            refresh.basic_auth.as_deref(),
            Some(format!("{CLIENT_ID}:{CLIENT_SECRET}").as_str())
        );
        assert!(refresh.body["refresh_token"].as_str().unwrap().starts_with("xoxe-1-"));
        let second = app.slack.bot_token_of(T2).unwrap();
        assert_ne!(first, second);
        let lookups = app.slack.calls_to("users.info")[before..].to_vec();
        assert!(!lookups.is_empty());
        assert!(
            lookups.iter().all(|c| c.token.as_deref() == Some(second.as_str())),
            "{lookups:?}"
        );
        let stored = app.db.slack_installation(T2).await.unwrap().unwrap();
        assert_eq!(
            stored.bot_token_expires_at,
            Some(app.clock.now() + chrono::Duration::hours(12))
        );
    }
);

with_oauth!(
    two_replicas_refresh_a_token_once_and_the_loser_uses_the_winners_token,
    |app| {
        install(app, grant(T2, "Second", Some(3600))).await;
        let (one, two) = (app.slack_state(), app.slack_state());
        let calls = (0..6).map(|i| {
            let replica = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { replica.token(T2).await.unwrap().unwrap() })
        });
        let mut seen = std::collections::BTreeSet::new();
        for call in calls.collect::<Vec<_>>() {
            seen.insert(secrecy::ExposeSecret::expose_secret(&call.await.unwrap()).to_owned());
        }
        assert_eq!(refreshes(app), 1, "one refresh for both replicas");
        // Each caller got a working token: the refreshed one, or the old one
        // while the other replica was still refreshing (it is valid for an hour).
        let newest = app.slack.bot_token_of(T2).unwrap();
        assert!(seen.contains(&newest), "{seen:?}");
        let now = one.token(T2).await.unwrap().unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&now), &newest);
    }
);

// ---------------------------------------------------------------- uninstall

with_oauth!(
    app_uninstalled_deletes_the_workspaces_tokens_and_nothing_more_is_sent_there,
    |app| {
        add_team_users(app);
        let token = install(app, grant(T2, "Second", None)).await;
        command_in(
            app,
            T2,
            BOSS,
            &format!("setup <@{WORKER}|wes> weekly on tuesday at 10:00 tz Europe/Berlin"),
        )
        .await;
        // The set-up's notice is out (with the token). Neither has opened the
        // App Home, so no Home is published.
        app.slack.wait_for("chat.postMessage", 1).await;

        event_in(
            app,
            T2,
            "Ev0UNINST01",
            serde_json::json!({"type": "app_uninstalled", "event_ts": "1764317300.000800"}),
        )
        .await;
        wait_until_uninstalled(app, T2).await;
        let uninstalled_at = app.slack.calls().len();
        assert!(app.slack_state().token(T2).await.unwrap().is_none());

        let posted = app.slack.calls_to("chat.postMessage").len();
        let (_, worked) = app
            .tick(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 30, 9, 0, 0).unwrap())
            .await;
        assert_eq!((worked.sent, worked.failed), (0, 2), "{worked:?}");
        assert_eq!(
            app.slack.calls_to("chat.postMessage").len(),
            posted,
            "nothing sent to the workspace"
        );
        // A DM to the bot from there is not answered either.
        event_in(
            app,
            T2,
            "Ev0DMAFTER1",
            serde_json::json!({"type": "message", "channel_type": "im", "channel": "D0DMCHAN02",
                           "user": BOSS, "text": "agenda", "ts": "1764317400.000100"}),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let after = &app.slack.calls()[uninstalled_at..];
        assert!(
            after.iter().all(|c| c.token.as_deref() != Some(token.as_str())),
            "{after:?}"
        );
        assert!(after.iter().all(|c| c.method != "chat.postMessage"), "{after:?}");
    }
);

with_oauth!(
    tokens_revoked_for_the_bot_deletes_the_install_and_for_users_only_does_not,
    |app| {
        install(app, grant(T2, "Second", None)).await;
        event_in(
            app,
            T2,
            "Ev0REVOKE01",
            serde_json::json!({"type": "tokens_revoked", "tokens": {"oauth": ["U0SOMEONE1"], "bot": []}}),
        )
        .await;
        // Give the (no-op) handler time to run, then check nothing was deleted.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(app.db.slack_installation(T2).await.unwrap().is_some());

        event_in(
            app,
            T2,
            "Ev0REVOKE02",
            serde_json::json!({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UT0BBBBBBBBOT"]}}),
        )
        .await;
        wait_until_uninstalled(app, T2).await;
        // The single-workspace team is untouched by another team's uninstall.
        assert!(app.slack_state().token(TEAM).await.unwrap().is_some());
    }
);
