//! Test harness: the real `App` on port 0 with a frozen clock, a fake Slack
//! Web API on loopback, and helpers to send signed Slack requests.

#![allow(dead_code)]

pub mod fake_slack;
pub mod fake_teams;
pub mod slack_signing;

use chrono::{DateTime, TimeZone, Utc};
use fake_slack::FakeSlack;
use oneonone::app::App;
use oneonone::clock::Clock;
use oneonone::config::{Config, LogFormat, SlackConfig, SlackOAuthConfig};
use oneonone::store::{Db, testing};
use secrecy::SecretString;
use serde_json::Value;

pub const SECRET: &str = "test-signing-secret-0123456789abcdef";
pub const TEAM: &str = "T0AAAAAAA";
pub const MANAGER: &str = "U0MANAGER1";
pub const REPORT: &str = "U0REPORT01";
pub const OTHER: &str = "U0OTHER001";
pub const REPORT2: &str = "U0REPORT02";
/// `ONEONONE_ENCRYPTION_KEY` of apps spawned with OAuth on.
pub const ENCRYPTION_KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";
/// `SLACK_REDIRECT_URI` of apps spawned with OAuth on: the public URL a real
/// deployment would have; tests call the app's own port instead.
pub const REDIRECT_URI: &str = "https://bot.example.com/slack/oauth_redirect";

#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Monday 30 November 2026, 08:00 UTC (09:00 in Berlin).
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

pub struct TestApp {
    pub base: String,
    pub slack: FakeSlack,
    pub teams: fake_teams::FakeTeams,
    pub teams_config: oneonone::config::TeamsConfig,
    /// The Slack settings the app runs with (the scheduler's sender reuses them).
    pub slack_config: SlackConfig,
    pub clock: Clock,
    pub db: Db,
    pub http: reqwest::Client,
}

/// One command's answer: status, the JSON body and its plain text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub text: String,
}

impl TestApp {
    /// `None` when the PostgreSQL half is skipped (no ONEONONE_TEST_POSTGRES_URL).
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        Self::spawn_with(engine, None).await
    }

    /// Like `spawn`, with the in-process scheduler running on `tick`.
    pub async fn spawn_with(engine: Engine, tick: Option<&str>) -> Option<TestApp> {
        Self::spawn_opts(engine, tick, false).await
    }

    /// Like `spawn`, with the OAuth install flow on too (`SLACK_CLIENT_ID`,
    /// `SLACK_CLIENT_SECRET`, `SLACK_REDIRECT_URI`, `ONEONONE_ENCRYPTION_KEY`)
    /// beside the single-workspace bot token of `TEAM`.
    pub async fn spawn_with_oauth(engine: Engine) -> Option<TestApp> {
        Self::spawn_opts(engine, None, true).await
    }

    pub async fn spawn_opts(engine: Engine, tick: Option<&str>, oauth: bool) -> Option<TestApp> {
        if std::env::var_os("ONEONONE_TEST_LOG").is_some() {
            oneonone::telemetry::init(LogFormat::Text);
        }
        let db = match engine {
            Engine::Sqlite => testing::fresh_sqlite().await,
            Engine::Postgres => testing::fresh_postgres().await?,
        };
        let slack = FakeSlack::start().await;
        let teams = fake_teams::FakeTeams::start().await;
        slack.add_user(MANAGER, "maria", "Europe/Berlin", "maria@example.com");
        slack.add_user(REPORT, "rahul", "Asia/Kolkata", "rahul@example.com");
        slack.add_user(REPORT2, "sam", "America/New_York", "sam@example.com");
        slack.add_user(OTHER, "olga", "Europe/Berlin", "olga@example.com");
        let clock = Clock::frozen(monday_morning());
        let config = Config {
            database_url: "unused://".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            slack: Some(SlackConfig {
                signing_secret: SecretString::from(SECRET.to_string()),
                bot_token: Some(SecretString::from("xoxb-test-token".to_string())),
                api_url: slack.base_url.clone(),
                oauth: oauth.then(|| SlackOAuthConfig {
                    client_id: fake_slack::CLIENT_ID.into(),
                    client_secret: SecretString::from(fake_slack::CLIENT_SECRET.to_string()),
                    redirect_uri: REDIRECT_URI.into(),
                    authorize_url: slack.authorize_url(),
                    encryption_key: oneonone::crypto::EncryptionKey::from_base64(ENCRYPTION_KEY).unwrap(),
                }),
            }),
            teams: Some(oneonone::config::TeamsConfig {
                app_id: fake_teams::APP_ID.into(),
                app_password: SecretString::from(fake_teams::APP_PASSWORD.to_string()),
                app_type: oneonone::config::AppType::SingleTenant,
                tenant_id: Some(fake_teams::TENANT.into()),
                openid_metadata_url: teams.metadata_url(),
                token_url: teams.token_url(),
                trusted_service_urls: oneonone::teams::connector::TrustedUrls::parse(&teams.service_url())
                    .expect("the fake's service URL is a valid trusted URL"),
            }),
            log_format: LogFormat::Text,
            // Most tests drive passes themselves (`scheduler::runner::run_once`).
            tick: tick.map(|t| t.parse().unwrap()),
        };
        let teams_config = config.teams.clone().expect("Teams is configured");
        let slack_config = config.slack.clone().expect("Slack is configured");
        let app = App::with_db(config, db.clone(), clock.clone())
            .await
            .expect("app builds");
        let port = app.port();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        Some(TestApp {
            base: format!("http://127.0.0.1:{port}"),
            slack,
            teams,
            teams_config,
            slack_config,
            clock,
            db,
            http: reqwest::Client::new(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `body` signed with the test secret at the app clock's time.
    pub async fn post_signed(&self, path: &str, content_type: &str, body: &str) -> reqwest::Response {
        let ts = self.clock.now().timestamp();
        self.post_with(
            path,
            content_type,
            body,
            Some((ts, slack_signing::sign(SECRET, ts, body))),
        )
        .await
    }

    pub async fn post_with(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        signed: Option<(i64, String)>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some((ts, sig)) = signed {
            req = req
                .header("x-slack-request-timestamp", ts.to_string())
                .header("x-slack-signature", sig);
        }
        req.send().await.expect("request sent")
    }

    pub fn command_form(user: &str, text: &str) -> String {
        serde_urlencoded::to_string([
            ("token", "legacy"),
            ("team_id", TEAM),
            ("team_domain", "example"),
            ("channel_id", "D0DMCHAN01"),
            ("user_id", user),
            ("user_name", user),
            ("command", "/oneonone"),
            ("text", text),
            ("response_url", "http://127.0.0.1:9/hooks/unused"),
            ("trigger_id", "1.2.3"),
        ])
        .unwrap()
    }

    /// Runs `/oneonone TEXT` as `user` and returns the answer.
    pub async fn command(&self, user: &str, text: &str) -> Answer {
        let res = self
            .post_signed(
                "/slack/commands",
                "application/x-www-form-urlencoded",
                &Self::command_form(user, text),
            )
            .await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let text = json["text"].as_str().unwrap_or_default().to_string();
        Answer { status, json, text }
    }

    /// The scheduler's Slack sender, pointed at the fake.
    pub fn sender(&self) -> oneonone::slack::sender::SlackSender {
        oneonone::slack::sender::SlackSender {
            slack: self.slack_state(),
        }
    }

    /// A Slack state like the app's, on the same database: another replica.
    pub fn slack_state(&self) -> oneonone::slack::SlackState {
        oneonone::slack::SlackState::new(&self.slack_config, self.db.clone(), self.clock.clone()).unwrap()
    }

    /// The scheduler's senders for both platforms, pointed at the fakes.
    pub fn senders(&self) -> oneonone::scheduler::worker::Senders {
        let teams = oneonone::teams::TeamsState::new(&self.teams_config, self.db.clone(), self.clock.clone())
            .expect("the Teams state builds");
        oneonone::scheduler::worker::Senders(vec![Box::new(self.sender()), Box::new(teams.sender)])
    }

    /// One scheduler pass as of `now` (what `oneonone tick --now` does).
    pub async fn tick(
        &self,
        now: DateTime<Utc>,
    ) -> (oneonone::scheduler::pass::Planned, oneonone::scheduler::worker::Worked) {
        self.clock.set(now);
        oneonone::scheduler::runner::run_once(&self.db, now, &self.senders())
            .await
            .unwrap()
    }

    /// Runs a command and asserts it answered 200 with valid Block Kit.
    pub async fn ok(&self, user: &str, text: &str) -> String {
        let a = self.command(user, text).await;
        assert_eq!(a.status, 200, "`{text}` answered {}: {:?}", a.status, a.json);
        assert_eq!(a.json["response_type"], "ephemeral", "`{text}`");
        let problems = oneonone::slack::render::validate_blocks(&a.json["blocks"], 50);
        assert!(problems.is_empty(), "`{text}` rendered invalid blocks: {problems:?}");
        a.text
    }

    /// The standard pair: maria manages rahul, weekly on Tuesday at 10:00 Berlin.
    pub async fn with_pair(&self) {
        let t = self
            .ok(
                MANAGER,
                &format!("setup <@{REPORT}|rahul> weekly on tuesday at 10:00 tz Europe/Berlin"),
            )
            .await;
        assert!(t.contains("rahul"), "{t}");
    }
}

/// Generates one test per engine from an async body taking `&TestApp`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: &$crate::support::TestApp) $body
            #[tokio::test]
            async fn on_sqlite() {
                let app = $crate::support::TestApp::spawn($crate::support::Engine::Sqlite).await.unwrap();
                run(&app).await;
            }
            #[tokio::test]
            async fn on_postgres() {
                if let Some(app) = $crate::support::TestApp::spawn($crate::support::Engine::Postgres).await {
                    run(&app).await;
                }
            }
        }
    };
}
