//! Test harness: the real `App` on port 0 with a frozen clock, a fake Slack
//! Web API on loopback, and helpers to send signed Slack requests.

#![allow(dead_code)]

pub mod fake_slack;
pub mod slack_signing;

use chrono::{DateTime, TimeZone, Utc};
use fake_slack::FakeSlack;
use oneonone::app::App;
use oneonone::clock::Clock;
use oneonone::config::{Config, LogFormat, SlackConfig};
use oneonone::store::{Db, testing};
use secrecy::SecretString;
use serde_json::Value;

pub const SECRET: &str = "test-signing-secret-0123456789abcdef";
pub const TEAM: &str = "T0AAAAAAA";
pub const MANAGER: &str = "U0MANAGER1";
pub const REPORT: &str = "U0REPORT01";
pub const OTHER: &str = "U0OTHER001";
pub const REPORT2: &str = "U0REPORT02";

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
        if std::env::var_os("ONEONONE_TEST_LOG").is_some() {
            oneonone::telemetry::init(LogFormat::Text);
        }
        let db = match engine {
            Engine::Sqlite => testing::fresh_sqlite().await,
            Engine::Postgres => testing::fresh_postgres().await?,
        };
        let slack = FakeSlack::start().await;
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
            }),
            teams: None,
            log_format: LogFormat::Text,
            // Most tests drive passes themselves (`scheduler::runner::run_once`).
            tick: tick.map(|t| t.parse().unwrap()),
        };
        let app = App::with_db(config, db.clone(), clock.clone())
            .await
            .expect("app builds");
        let port = app.port();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        Some(TestApp {
            base: format!("http://127.0.0.1:{port}"),
            slack,
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
        let config = SlackConfig {
            signing_secret: SecretString::from(SECRET.to_string()),
            bot_token: Some(SecretString::from("xoxb-test-token".to_string())),
            api_url: self.slack.base_url.clone(),
        };
        oneonone::slack::sender::SlackSender {
            slack: oneonone::slack::SlackState::new(&config, self.clock.clone()).unwrap(),
        }
    }

    /// One scheduler pass as of `now` (what `oneonone tick --now` does).
    pub async fn tick(
        &self,
        now: DateTime<Utc>,
    ) -> (oneonone::scheduler::pass::Planned, oneonone::scheduler::worker::Worked) {
        self.clock.set(now);
        oneonone::scheduler::runner::run_once(&self.db, now, &self.sender())
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
