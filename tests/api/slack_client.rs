//! The Slack Web API client against the fake Slack: every method we use, and
//! the three ways a call fails.
use std::time::Duration;

use crate::support::fake_slack::FakeSlack;
use crate::support::slack_signing::sign;
use oneonone::slack::client::{SlackApi, SlackApiError};
use secrecy::SecretString;
use serde_json::json;
use slack_morphism::prelude::*;

const TEAM: &str = "T0AAAAAAA";

fn token() -> SecretString {
    SecretString::from("xoxb-test-token")
}

fn text(t: &str) -> SlackMessageContent {
    SlackMessageContent::new().with_text(t.to_owned())
}

async fn setup() -> (FakeSlack, SlackApi) {
    let fake = FakeSlack::start().await;
    let api = SlackApi::new(&fake.base_url).unwrap();
    (fake, api)
}

#[tokio::test]
async fn users_info_turns_a_slack_user_into_a_profile() {
    let (fake, api) = setup().await;
    fake.add_user("U0REPORT01", "Rahul Sharma", "Asia/Kolkata", "rahul@example.com");

    let profile = api.users_info(&token(), TEAM, "U0REPORT01").await.unwrap();

    assert_eq!(profile.external_id, "U0REPORT01");
    assert_eq!(profile.display_name, "Rahul Sharma");
    assert_eq!(profile.email.as_deref(), Some("rahul@example.com"));
    assert_eq!(profile.tz, Some(chrono_tz::Asia::Kolkata));
    assert!(!profile.is_bot && !profile.deleted);
    let calls = fake.calls_to("users.info");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].token.as_deref(), Some("xoxb-test-token"));
    assert_eq!(calls[0].body["user"], "U0REPORT01");
}

#[tokio::test]
async fn users_info_reports_bots_and_deactivated_users() {
    let (fake, api) = setup().await;
    fake.add_user_object(json!({
        "id": "U0BOT", "team_id": TEAM, "name": "deploybot", "deleted": true, "is_bot": true,
        "profile": {"display_name": "", "real_name": "Deploy Bot"}
    }));

    let profile = api.users_info(&token(), TEAM, "U0BOT").await.unwrap();

    assert_eq!(profile.display_name, "Deploy Bot");
    assert!(profile.is_bot && profile.deleted);
    assert_eq!(profile.tz, None);
    assert_eq!(profile.email, None);
}

#[tokio::test]
async fn an_unknown_user_is_slacks_user_not_found() {
    let (_fake, api) = setup().await;
    let err = api.users_info(&token(), TEAM, "U0NOBODY").await.unwrap_err();
    assert!(
        matches!(err, SlackApiError::Api(ref code) if code == "user_not_found"),
        "{err:?}"
    );
}

#[tokio::test]
async fn open_dm_returns_the_dm_channel_id() {
    let (fake, api) = setup().await;
    let channel = api.open_dm(&token(), TEAM, "U0REPORT01").await.unwrap();
    assert_eq!(channel, "DU0REPORT01");
    let calls = fake.calls_to("conversations.open");
    assert_eq!(calls[0].body["users"], json!(["U0REPORT01"]));
    assert_eq!(calls[0].token.as_deref(), Some("xoxb-test-token"));
}

#[tokio::test]
async fn post_message_returns_a_new_increasing_ts_each_time() {
    let (fake, api) = setup().await;
    let first = api.post_message(&token(), TEAM, "D0DM", text("hello")).await.unwrap();
    let second = api.post_message(&token(), TEAM, "D0DM", text("again")).await.unwrap();

    assert_ne!(first, second);
    assert!(first.parse::<f64>().unwrap() < second.parse::<f64>().unwrap());
    let calls = fake.wait_for("chat.postMessage", 2).await;
    assert_eq!(calls[0].body["channel"], "D0DM");
    assert_eq!(calls[0].body["text"], "hello");
    assert_eq!(calls[1].body["text"], "again");
}

#[tokio::test]
async fn update_message_sends_channel_ts_and_the_new_content() {
    let (fake, api) = setup().await;
    let ts = api.post_message(&token(), TEAM, "D0DM", text("v1")).await.unwrap();
    api.update_message(&token(), TEAM, "D0DM", &ts, text("v2"))
        .await
        .unwrap();

    let calls = fake.calls_to("chat.update");
    assert_eq!(calls[0].body["channel"], "D0DM");
    assert_eq!(calls[0].body["ts"], json!(ts));
    assert_eq!(calls[0].body["text"], "v2");
}

#[tokio::test]
async fn respond_posts_to_the_response_url_without_a_token() {
    let (fake, api) = setup().await;
    api.respond(&fake.response_url("cmd-1"), text("done"), true)
        .await
        .unwrap();

    let calls = fake.wait_for("response_url", 1).await;
    assert_eq!(calls[0].token, None);
    assert_eq!(calls[0].body["text"], "done");
    assert_eq!(calls[0].body["replace_original"], true);
    assert_eq!(calls[0].body["response_url_id"], "cmd-1");
}

#[tokio::test]
async fn a_base_url_without_trailing_slash_works_too() {
    let fake = FakeSlack::start().await;
    let api = SlackApi::new(fake.base_url.trim_end_matches('/')).unwrap();
    assert_eq!(api.open_dm(&token(), TEAM, "U1").await.unwrap(), "DU1");
}

#[tokio::test]
async fn a_429_is_rate_limited_with_slacks_retry_after() {
    let (fake, api) = setup().await;
    fake.fail_next(
        "chat.postMessage",
        429,
        json!({"ok": false, "error": "ratelimited"}),
        Some(3),
    );

    let err = api.post_message(&token(), TEAM, "D0DM", text("x")).await.unwrap_err();
    assert!(
        matches!(err, SlackApiError::RateLimited(Some(d)) if d == Duration::from_secs(3)),
        "{err:?}"
    );
    // The failure was scripted for one call only.
    api.post_message(&token(), TEAM, "D0DM", text("x")).await.unwrap();
    assert_eq!(fake.calls_to("chat.postMessage").len(), 2);
}

#[tokio::test]
async fn ok_false_is_an_api_error_with_slacks_code() {
    let (fake, api) = setup().await;
    for method in ["chat.postMessage", "chat.update", "conversations.open", "response_url"] {
        fake.fail_next(method, 200, json!({"ok": false, "error": "channel_not_found"}), None);
    }

    let results = [
        api.post_message(&token(), TEAM, "C0GONE", text("x")).await.err(),
        api.update_message(&token(), TEAM, "C0GONE", "1.2", text("x"))
            .await
            .err(),
        api.open_dm(&token(), TEAM, "U1").await.err(),
        api.respond(&fake.response_url("r"), text("x"), false).await.err(),
    ];
    for err in results {
        assert!(
            matches!(err, Some(SlackApiError::Api(ref code)) if code == "channel_not_found"),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_server_error_is_a_transport_error() {
    let (fake, api) = setup().await;
    fake.fail_next("users.info", 503, json!({"ok": false}), None);
    let err = api.users_info(&token(), TEAM, "U1").await.unwrap_err();
    assert!(matches!(err, SlackApiError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let api = SlackApi::new(&format!("http://{addr}/api/")).unwrap();
    let err = api.open_dm(&token(), TEAM, "U1").await.unwrap_err();
    assert!(matches!(err, SlackApiError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn a_call_that_hangs_times_out_as_a_transport_error() {
    // Accepts connections (the kernel does) but never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let api = SlackApi::new(&format!("http://{addr}/api/"))
        .unwrap()
        .with_timeout(Duration::from_millis(200));
    let err = api.open_dm(&token(), TEAM, "U1").await.unwrap_err();
    assert!(matches!(err, SlackApiError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn error_texts_carry_no_token() {
    let (fake, api) = setup().await;
    fake.fail_next("users.info", 503, json!({"ok": false}), None);
    let err = api.users_info(&token(), TEAM, "U1").await.unwrap_err();
    let mut chain = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain.push_str(&s.to_string());
        source = s.source();
    }
    assert!(!chain.contains("xoxb-test-token"), "{chain}");
}

#[tokio::test]
async fn the_fake_answers_unknown_methods_and_views_like_slack() {
    let (fake, _api) = setup().await;
    // Through slack-morphism directly, for the methods SlackApi does not wrap.
    // No root certificates: the fake is plain http, and CI may have none.
    let tls = rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let connector = SlackClientHyperConnector::from(
        hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build(),
    )
    .with_slack_api_url(fake.base_url.trim_end_matches('/'));
    let client = SlackClient::new(connector);
    let tok = SlackApiToken::new("xoxb-t".into()).with_team_id(TEAM.into());
    let s = client.open_session(&tok);

    let home = SlackView::Home(SlackHomeView::new(vec![]));
    let published = s
        .views_publish(&SlackApiViewsPublishRequest::new("U1".into(), home))
        .await
        .unwrap();
    assert_eq!(published.view.state_params.team_id.0, TEAM);
    let opened = s
        .views_open(&SlackApiViewsOpenRequest::new(
            "trigger".into(),
            SlackView::Modal(SlackModalView::new(pt!("Add"), vec![])),
        ))
        .await
        .unwrap();
    let updated = s
        .views_update(
            &SlackApiViewsUpdateRequest::new(SlackView::Modal(SlackModalView::new(pt!("Add"), vec![])))
                .with_view_id(opened.view.state_params.id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(updated.view.state_params.id, opened.view.state_params.id);
    s.chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
        "D1".into(),
        "U1".into(),
        text("psst"),
    ))
    .await
    .unwrap();
    s.reactions_add(&SlackApiReactionsAddRequest::new(
        "D1".into(),
        "white_check_mark".into(),
        "1.2".into(),
    ))
    .await
    .unwrap();
    let me = s.auth_test().await.unwrap();
    assert_eq!(me.team_id.0, TEAM);
    let err = s.users_list(&SlackApiUsersListRequest::new()).await.unwrap_err();
    assert!(err.to_string().contains("unknown_method"), "{err}");

    let methods: Vec<String> = fake.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(
        methods,
        [
            "views.publish",
            "views.open",
            "views.update",
            "chat.postEphemeral",
            "reactions.add",
            "auth.test",
            "users.list"
        ]
    );
}

#[tokio::test]
#[should_panic(expected = "for 1 call(s) to chat.postMessage, got 0; all calls:\n  conversations.open")]
async fn wait_for_names_what_it_saw_when_the_call_never_comes() {
    let (fake, api) = setup().await;
    api.open_dm(&token(), TEAM, "U1").await.unwrap();
    fake.wait_for_within("chat.postMessage", 1, Duration::from_millis(100))
        .await;
}

#[test]
fn sign_matches_the_crates_reference_vector() {
    assert_eq!(
        sign("fa2c05deeef5a4077494e89f54394de0", 1_531_420_618, "test-body"),
        "v0=baa91ef62d346e56607bbdd278a8acd570b91226854f15a382f43d33be42f666"
    );
}
