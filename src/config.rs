//! Typed configuration from the environment (SPEC §2). Every setting is an
//! environment variable and also a `serve` flag; each is parsed and validated
//! at start-up and every error names its variable. Secrets are `SecretString`
//! so they cannot reach a log by accident.

use secrecy::SecretString;
use std::net::SocketAddr;

/// A setting that is missing or malformed: one line, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The Slack side of the configuration; absent when `SLACK_SIGNING_SECRET` is not set.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub signing_secret: SecretString,
    /// Single-workspace mode: the bot token for every call.
    pub bot_token: Option<SecretString>,
    /// Base URL of the Web API, always ending in `/`.
    pub api_url: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub slack: Option<SlackConfig>,
    pub log_format: LogFormat,
    /// When the scheduler runs a pass; `None` with `--no-scheduler`.
    pub tick: Option<cron::Schedule>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://oneonone.db";
pub const DEFAULT_LISTEN: &str = "0.0.0.0:3000";
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api/";
pub const DEFAULT_TICK: &str = "0 * * * * *";

/// Raw values as they arrive from flags or the environment (clap fills them).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RawConfig {
    /// `sqlite://PATH` or `postgres://…`
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Listen address, e.g. 0.0.0.0:3000
    #[arg(long, env = "ONEONONE_LISTEN")]
    pub listen: Option<String>,
    /// Slack signing secret (required to accept any Slack request)
    #[arg(long, env = "SLACK_SIGNING_SECRET", hide_env_values = true)]
    pub slack_signing_secret: Option<String>,
    /// Slack bot token (single-workspace mode)
    #[arg(long, env = "SLACK_BOT_TOKEN", hide_env_values = true)]
    pub slack_bot_token: Option<String>,
    /// Base URL of the Slack Web API
    #[arg(long, env = "SLACK_API_URL")]
    pub slack_api_url: Option<String>,
    /// `text` or `json`
    #[arg(long, env = "ONEONONE_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Cron expression (with seconds) of the scheduler loop
    #[arg(long, env = "ONEONONE_TICK")]
    pub tick: Option<String>,
    /// Serve without the in-process scheduler (run `oneonone tick` from cron instead)
    #[arg(long)]
    pub no_scheduler: bool,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl RawConfig {
    pub fn database_url(&self) -> Result<String, ConfigError> {
        let url = non_empty(&self.database_url).unwrap_or(DEFAULT_DATABASE_URL);
        if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(url.to_string())
        } else {
            Err(invalid("DATABASE_URL", "must start with sqlite:// or postgres://"))
        }
    }

    pub fn log_format(&self) -> Result<LogFormat, ConfigError> {
        match non_empty(&self.log_format).map(str::to_ascii_lowercase).as_deref() {
            None | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(invalid(
                "ONEONONE_LOG_FORMAT",
                format!("expected text or json, got {other:?}"),
            )),
        }
    }

    pub fn into_config(self) -> Result<Config, ConfigError> {
        let database_url = self.database_url()?;
        let log_format = self.log_format()?;
        let listen_raw = non_empty(&self.listen).unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_raw.parse().map_err(|_| {
            invalid(
                "ONEONONE_LISTEN",
                format!("expected HOST:PORT like 0.0.0.0:3000, got {listen_raw:?}"),
            )
        })?;

        let api_url = non_empty(&self.slack_api_url).unwrap_or(DEFAULT_SLACK_API_URL);
        let parsed = url::Url::parse(api_url).map_err(|e| invalid("SLACK_API_URL", format!("not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("SLACK_API_URL", "must be an http:// or https:// URL"));
        }
        let mut api_url = api_url.to_string();
        if !api_url.ends_with('/') {
            api_url.push('/');
        }
        let bot_token = non_empty(&self.slack_bot_token).map(|t| SecretString::from(t.to_string()));
        if let Some(t) = non_empty(&self.slack_bot_token)
            && !t.starts_with("xox")
        {
            return Err(invalid(
                "SLACK_BOT_TOKEN",
                "does not look like a Slack bot token (xoxb-…)",
            ));
        }
        let slack = match non_empty(&self.slack_signing_secret) {
            Some(secret) => Some(SlackConfig {
                signing_secret: SecretString::from(secret.to_string()),
                bot_token,
                api_url,
            }),
            None if bot_token.is_some() => {
                return Err(invalid(
                    "SLACK_SIGNING_SECRET",
                    "required when SLACK_BOT_TOKEN is set (every Slack request is verified with it)",
                ));
            }
            None => None,
        };
        let tick_raw = non_empty(&self.tick).unwrap_or(DEFAULT_TICK);
        let tick: cron::Schedule = tick_raw.parse().map_err(|e: cron::error::Error| {
            // The cron crate's message spans lines; a start-up error is one line.
            let reason = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            invalid(
                "ONEONONE_TICK",
                format!("not a cron expression with seconds like \"0 * * * * *\" ({reason})"),
            )
        })?;
        Ok(Config {
            database_url,
            listen,
            slack,
            log_format,
            tick: (!self.no_scheduler).then_some(tick),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_sqlite_on_port_3000_with_slack_off() {
        let c = RawConfig::default().into_config().unwrap();
        assert_eq!(c.database_url, "sqlite://oneonone.db");
        assert_eq!(c.listen.port(), 3000);
        assert!(c.slack.is_none());
    }

    #[test]
    fn each_malformed_setting_names_its_variable() {
        let cases = [
            RawConfig {
                database_url: Some("mysql://x".into()),
                ..Default::default()
            },
            RawConfig {
                listen: Some("nope".into()),
                ..Default::default()
            },
            RawConfig {
                slack_api_url: Some("::".into()),
                ..Default::default()
            },
            RawConfig {
                log_format: Some("xml".into()),
                ..Default::default()
            },
            RawConfig {
                tick: Some("every minute".into()),
                ..Default::default()
            },
            RawConfig {
                slack_bot_token: Some("xoxb-1".into()),
                ..Default::default()
            },
            RawConfig {
                slack_signing_secret: Some("s".into()),
                slack_bot_token: Some("bad".into()),
                ..Default::default()
            },
        ];
        let vars = [
            "DATABASE_URL",
            "ONEONONE_LISTEN",
            "SLACK_API_URL",
            "ONEONONE_LOG_FORMAT",
            "ONEONONE_TICK",
            "SLACK_SIGNING_SECRET",
            "SLACK_BOT_TOKEN",
        ];
        for (raw, var) in cases.into_iter().zip(vars) {
            let err = raw.into_config().unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(var));
        }
    }

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let c = RawConfig {
            slack_signing_secret: Some("topsecretvalue".into()),
            slack_bot_token: Some("xoxb-supersecret".into()),
            ..Default::default()
        }
        .into_config()
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("topsecretvalue") && !dbg.contains("supersecret"));
    }

    #[test]
    fn slack_api_url_gets_a_trailing_slash() {
        let c = RawConfig {
            slack_signing_secret: Some("s".into()),
            slack_api_url: Some("http://127.0.0.1:9/api".into()),
            ..Default::default()
        }
        .into_config()
        .unwrap();
        assert_eq!(c.slack.unwrap().api_url, "http://127.0.0.1:9/api/");
    }
}
