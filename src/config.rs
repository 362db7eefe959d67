//! Typed configuration from the environment (SPEC §2). Every setting is an
//! environment variable and also a `serve` flag; each is parsed and validated
//! at start-up and every error names its variable. Secrets are `SecretString`
//! so they cannot reach a log by accident.

use secrecy::SecretString;
use std::net::SocketAddr;

use crate::crypto::EncryptionKey;
use crate::teams::connector::{TrustedUrls, secure_or_loopback};

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
    /// Many workspaces: the OAuth v2 install flow; `None` when
    /// `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` are not set.
    pub oauth: Option<SlackOAuthConfig>,
}

/// The OAuth v2 install flow for many workspaces (`SLACK_CLIENT_ID`,
/// `SLACK_CLIENT_SECRET`, `SLACK_REDIRECT_URI`, `ONEONONE_ENCRYPTION_KEY`).
#[derive(Debug, Clone)]
pub struct SlackOAuthConfig {
    pub client_id: String,
    pub client_secret: SecretString,
    /// The public URL of `/slack/oauth_redirect`, exactly as listed in the
    /// app's `oauth_config.redirect_urls`.
    pub redirect_uri: String,
    /// Slack's consent page, `oauth/v2/authorize` beside the Web API's `api/`
    /// (`https://slack.com/oauth/v2/authorize` for the default API URL).
    pub authorize_url: String,
    /// Encrypts the installations' tokens at rest.
    pub encryption_key: EncryptionKey,
}

/// How the Azure Bot registration was created (`MICROSOFT_APP_TYPE`). It only
/// changes where outbound tokens come from; inbound tokens are checked the same
/// way for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppType {
    /// The default for new registrations (since 2025-07-31): tokens come from
    /// the bot's home tenant, so `MICROSOFT_APP_TENANT_ID` is required.
    SingleTenant,
    /// Older registrations: tokens come from the `botframework.com` tenant.
    MultiTenant,
}

/// The Microsoft Teams side of the configuration; absent when
/// `MICROSOFT_APP_ID` and `MICROSOFT_APP_PASSWORD` are not set.
#[derive(Debug, Clone)]
pub struct TeamsConfig {
    /// The Azure Bot's Microsoft App ID (a GUID): the audience of inbound tokens.
    pub app_id: String,
    /// The client secret of the app registration; sent only to `token_url`.
    pub app_password: SecretString,
    /// Single- or multi-tenant registration.
    pub app_type: AppType,
    /// The bot's home tenant; required for [`AppType::SingleTenant`].
    pub tenant_id: Option<String>,
    /// Where the inbound-token signing keys are found (OpenID metadata).
    pub openid_metadata_url: String,
    /// The OAuth 2.0 token endpoint for outbound (client-credentials) tokens.
    pub token_url: String,
    /// The service URLs that may receive the bot's token.
    pub trusted_service_urls: TrustedUrls,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub slack: Option<SlackConfig>,
    /// Microsoft Teams; `None` turns Teams off.
    pub teams: Option<TeamsConfig>,
    pub log_format: LogFormat,
    /// When the scheduler runs a pass; `None` with `--no-scheduler`.
    pub tick: Option<cron::Schedule>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://oneonone.db";
pub const DEFAULT_LISTEN: &str = "0.0.0.0:3000";
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api/";
pub const DEFAULT_TICK: &str = "0 * * * * *";
/// The Bot Framework's OpenID metadata (public cloud), a static URL per the
/// Bot Connector authentication docs.
pub const DEFAULT_OPENID_METADATA_URL: &str = "https://login.botframework.com/v1/.well-known/openidconfiguration";
/// The Teams Connector hosts: public cloud, GCC, GCC High and DoD.
pub const DEFAULT_TRUSTED_SERVICE_URLS: &str = "https://smba.trafficmanager.net/,\
https://smba.infra.gcc.teams.microsoft.com/,\
https://smba.infra.gov.teams.microsoft.us/,\
https://smba.infra.dod.teams.microsoft.us/";

/// The Microsoft identity platform's token endpoint for `tenant`
/// (`botframework.com` for multi-tenant bots).
pub fn default_token_url(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
}

/// The name of every setting (environment variable): the `env` of each
/// [`RawConfig`] flag, read from its clap definition so the list cannot drift,
/// and `RUST_LOG` (read by `telemetry`). The deployment files
/// (`.env`, the Dockerfile, `manifests/kubernetes/`) are tested against it.
pub fn settings() -> Vec<String> {
    use clap::Args;
    let serve = RawConfig::augment_args(clap::Command::new("serve"));
    let mut vars: Vec<String> = serve
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect();
    vars.push(tracing_subscriber::EnvFilter::DEFAULT_ENV.to_string());
    vars
}

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
    /// Slack app's client id (with the secret: the OAuth install flow for many workspaces)
    #[arg(long, env = "SLACK_CLIENT_ID")]
    pub slack_client_id: Option<String>,
    /// Slack app's client secret
    #[arg(long, env = "SLACK_CLIENT_SECRET", hide_env_values = true)]
    pub slack_client_secret: Option<String>,
    /// Public URL of /slack/oauth_redirect (required with OAuth)
    #[arg(long, env = "SLACK_REDIRECT_URI")]
    pub slack_redirect_uri: Option<String>,
    /// 32 random bytes in base64 (`openssl rand -base64 32`) that encrypt stored OAuth tokens
    #[arg(long, env = "ONEONONE_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// `text` or `json`
    #[arg(long, env = "ONEONONE_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Cron expression (with seconds) of the scheduler loop
    #[arg(long, env = "ONEONONE_TICK")]
    pub tick: Option<String>,
    /// Microsoft App ID of the Azure Bot (Teams is off without it)
    #[arg(long, env = "MICROSOFT_APP_ID")]
    pub microsoft_app_id: Option<String>,
    /// Client secret of the Azure Bot's app registration
    #[arg(long, env = "MICROSOFT_APP_PASSWORD", hide_env_values = true)]
    pub microsoft_app_password: Option<String>,
    /// Home tenant of the bot (required for SingleTenant)
    #[arg(long, env = "MICROSOFT_APP_TENANT_ID")]
    pub microsoft_app_tenant_id: Option<String>,
    /// `SingleTenant` (default) or `MultiTenant`
    #[arg(long, env = "MICROSOFT_APP_TYPE")]
    pub microsoft_app_type: Option<String>,
    /// OpenID metadata URL of the inbound-token signing keys
    #[arg(long, env = "MICROSOFT_OPENID_METADATA_URL")]
    pub microsoft_openid_metadata_url: Option<String>,
    /// OAuth 2.0 token endpoint for outbound tokens
    #[arg(long, env = "MICROSOFT_TOKEN_URL")]
    pub microsoft_token_url: Option<String>,
    /// Comma-separated service URLs that may receive the bot's token
    #[arg(long, env = "TEAMS_TRUSTED_SERVICE_URLS")]
    pub teams_trusted_service_urls: Option<String>,
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

    pub fn listen(&self) -> Result<SocketAddr, ConfigError> {
        let raw = non_empty(&self.listen).unwrap_or(DEFAULT_LISTEN);
        raw.parse().map_err(|_| {
            invalid(
                "ONEONONE_LISTEN",
                format!("expected HOST:PORT like 0.0.0.0:3000, got {raw:?}"),
            )
        })
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

    /// The Teams settings: `None` when neither `MICROSOFT_APP_ID` nor
    /// `MICROSOFT_APP_PASSWORD` is set; an error when only one is, or when
    /// any other Teams setting is malformed.
    pub fn teams(&self) -> Result<Option<TeamsConfig>, ConfigError> {
        let (app_id, password) = match (
            non_empty(&self.microsoft_app_id),
            non_empty(&self.microsoft_app_password),
        ) {
            (None, None) => return Ok(None),
            (Some(id), Some(password)) => (id, password),
            (Some(_), None) => {
                return Err(invalid(
                    "MICROSOFT_APP_PASSWORD",
                    "required when MICROSOFT_APP_ID is set (the bot needs its client secret to send messages)",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "MICROSOFT_APP_ID",
                    "required when MICROSOFT_APP_PASSWORD is set",
                ));
            }
        };
        if !is_guid(app_id) {
            return Err(invalid(
                "MICROSOFT_APP_ID",
                "expected the Azure Bot's Microsoft App ID, a GUID like 00000000-0000-0000-0000-000000000000",
            ));
        }
        let app_type = match non_empty(&self.microsoft_app_type)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("singletenant") => AppType::SingleTenant,
            Some("multitenant") => AppType::MultiTenant,
            Some(other) => {
                return Err(invalid(
                    "MICROSOFT_APP_TYPE",
                    format!(
                        "expected SingleTenant or MultiTenant, got {other:?} (managed identities are not supported)"
                    ),
                ));
            }
        };
        let tenant_id = non_empty(&self.microsoft_app_tenant_id);
        if let Some(t) = tenant_id
            && !t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        {
            return Err(invalid(
                "MICROSOFT_APP_TENANT_ID",
                "expected a tenant id (a GUID) or a tenant domain name",
            ));
        }
        let token_tenant = match (app_type, tenant_id) {
            (AppType::SingleTenant, Some(t)) => t,
            (AppType::SingleTenant, None) => {
                return Err(invalid(
                    "MICROSOFT_APP_TENANT_ID",
                    "required for a SingleTenant bot (the default MICROSOFT_APP_TYPE); \
                     set MICROSOFT_APP_TYPE=MultiTenant for an older multi-tenant registration",
                ));
            }
            // Multi-tenant bots get their tokens from the Bot Framework's own
            // tenant, whatever their home tenant is.
            (AppType::MultiTenant, _) => "botframework.com",
        };
        let openid_metadata_url = endpoint_url(
            "MICROSOFT_OPENID_METADATA_URL",
            non_empty(&self.microsoft_openid_metadata_url).unwrap_or(DEFAULT_OPENID_METADATA_URL),
        )?;
        let token_url = match non_empty(&self.microsoft_token_url) {
            Some(url) => endpoint_url("MICROSOFT_TOKEN_URL", url)?,
            None => default_token_url(token_tenant),
        };
        let trusted_raw = non_empty(&self.teams_trusted_service_urls).unwrap_or(DEFAULT_TRUSTED_SERVICE_URLS);
        let trusted_service_urls =
            TrustedUrls::parse(trusted_raw).map_err(|e| invalid("TEAMS_TRUSTED_SERVICE_URLS", e.to_string()))?;
        Ok(Some(TeamsConfig {
            app_id: app_id.to_ascii_lowercase(),
            app_password: SecretString::from(password.to_string()),
            app_type,
            tenant_id: tenant_id.map(str::to_string),
            openid_metadata_url,
            token_url,
            trusted_service_urls,
        }))
    }

    pub fn into_config(self) -> Result<Config, ConfigError> {
        let database_url = self.database_url()?;
        let log_format = self.log_format()?;
        let listen = self.listen()?;

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
        let oauth = self.slack_oauth(&api_url)?;
        let slack = match non_empty(&self.slack_signing_secret) {
            Some(secret) => Some(SlackConfig {
                signing_secret: SecretString::from(secret.to_string()),
                bot_token,
                api_url,
                oauth,
            }),
            None if bot_token.is_some() => {
                return Err(invalid(
                    "SLACK_SIGNING_SECRET",
                    "required when SLACK_BOT_TOKEN is set (every Slack request is verified with it)",
                ));
            }
            None if oauth.is_some() => {
                return Err(invalid(
                    "SLACK_SIGNING_SECRET",
                    "required when SLACK_CLIENT_ID is set (every Slack request is verified with it)",
                ));
            }
            None => None,
        };
        let teams = self.teams()?;
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
            teams,
            log_format,
            tick: (!self.no_scheduler).then_some(tick),
        })
    }
}

impl RawConfig {
    /// The OAuth install flow's settings: `None` when neither client id nor
    /// secret is set; then a redirect URI and an encryption key are required.
    /// `api_url` is `SLACK_API_URL` ending in `/`: Slack's consent page sits
    /// beside it (`…/api/` → `…/oauth/v2/authorize`), so a test's fake
    /// Slack serves both.
    fn slack_oauth(&self, api_url: &str) -> Result<Option<SlackOAuthConfig>, ConfigError> {
        // A key is checked whenever it is set: a malformed one is a mistake either way.
        let key = non_empty(&self.encryption_key)
            .map(|k| EncryptionKey::from_base64(k).map_err(|reason| invalid("ONEONONE_ENCRYPTION_KEY", reason)))
            .transpose()?;
        let (client_id, secret) = match (non_empty(&self.slack_client_id), non_empty(&self.slack_client_secret)) {
            (None, None) => return Ok(None),
            (Some(id), Some(secret)) => (id, secret),
            (Some(_), None) => {
                return Err(invalid(
                    "SLACK_CLIENT_SECRET",
                    "required when SLACK_CLIENT_ID is set (Basic Info -> App Credentials in the Slack app's settings)",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid("SLACK_CLIENT_ID", "required when SLACK_CLIENT_SECRET is set"));
            }
        };
        if !client_id.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(invalid(
                "SLACK_CLIENT_ID",
                "expected the app's client id, digits and dots like 1234567890.1234567890",
            ));
        }
        let Some(redirect_raw) = non_empty(&self.slack_redirect_uri) else {
            return Err(invalid(
                "SLACK_REDIRECT_URI",
                "required when SLACK_CLIENT_ID is set: the public URL of /slack/oauth_redirect, \
                 e.g. https://bot.example.com/slack/oauth_redirect",
            ));
        };
        let redirect =
            url::Url::parse(redirect_raw).map_err(|e| invalid("SLACK_REDIRECT_URI", format!("not a URL ({e})")))?;
        if !secure_or_loopback(&redirect) || redirect.query().is_some() || redirect.fragment().is_some() {
            return Err(invalid(
                "SLACK_REDIRECT_URI",
                "must be an https:// URL without query or fragment (http:// only for 127.0.0.1 or localhost)",
            ));
        }
        let Some(encryption_key) = key else {
            return Err(invalid(
                "ONEONONE_ENCRYPTION_KEY",
                "required when SLACK_CLIENT_ID is set (it encrypts stored tokens); generate one with `openssl rand -base64 32`",
            ));
        };
        let authorize_url = url::Url::parse(api_url)
            .and_then(|u| u.join("../oauth/v2/authorize"))
            .map_err(|e| invalid("SLACK_API_URL", format!("no OAuth page beside it ({e})")))?;
        Ok(Some(SlackOAuthConfig {
            client_id: client_id.to_string(),
            client_secret: SecretString::from(secret.to_string()),
            redirect_uri: redirect_raw.to_string(),
            authorize_url: authorize_url.to_string(),
            encryption_key,
        }))
    }
}

/// `8-4-4-4-12` hex digits, the shape of every Entra application id.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// An endpoint the bot trusts with its keys or its secret: `https://`, or
/// plain `http://` on a loopback host for the local fakes in tests.
fn endpoint_url(var: &'static str, raw: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(raw).map_err(|e| invalid(var, format!("not a URL ({e})")))?;
    if !secure_or_loopback(&parsed) {
        return Err(invalid(
            var,
            "must be an https:// URL (http:// only for 127.0.0.1 or localhost)",
        ));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each configuration is refused with a one-line error naming its variable.
    fn assert_each_refused_naming<const N: usize>(cases: [(RawConfig, &str); N]) {
        for (raw, var) in cases {
            let err = raw.into_config().unwrap_err();
            assert_eq!(err.var, var, "{err}");
            assert!(err.to_string().starts_with(var));
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        }
    }

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
    fn the_settings_are_every_flags_variable_and_rust_log() {
        let settings = settings();
        for var in [
            "DATABASE_URL",
            "ONEONONE_LISTEN",
            "SLACK_SIGNING_SECRET",
            "SLACK_BOT_TOKEN",
            "MICROSOFT_APP_ID",
            "ONEONONE_TICK",
            "ONEONONE_LOG_FORMAT",
            "RUST_LOG",
        ] {
            assert!(settings.iter().any(|s| s == var), "{var} in {settings:?}");
        }
        let mut unique = settings.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), settings.len(), "{settings:?}");
        // Only flags with an `env` name a setting: `--no-scheduler` is a flag alone.
        assert!(!settings.iter().any(|s| s.contains("SCHEDULER")), "{settings:?}");
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

    const KEY: &str = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";

    fn oauth_raw() -> RawConfig {
        RawConfig {
            slack_signing_secret: Some("s".into()),
            slack_client_id: Some("1234567890.1234567890".into()),
            slack_client_secret: Some("client-secret-value".into()),
            slack_redirect_uri: Some("https://bot.example.com/slack/oauth_redirect".into()),
            encryption_key: Some(KEY.into()),
            ..Default::default()
        }
    }

    #[test]
    fn oauth_is_off_without_client_credentials_and_on_with_them() {
        let c = RawConfig {
            slack_signing_secret: Some("s".into()),
            ..Default::default()
        }
        .into_config()
        .unwrap();
        assert!(c.slack.unwrap().oauth.is_none());
        let o = oauth_raw().into_config().unwrap().slack.unwrap().oauth.unwrap();
        assert_eq!(o.client_id, "1234567890.1234567890");
        assert_eq!(o.redirect_uri, "https://bot.example.com/slack/oauth_redirect");
        assert_eq!(o.authorize_url, "https://slack.com/oauth/v2/authorize");
    }

    #[test]
    fn slacks_consent_page_sits_beside_the_api_url() {
        for api in ["http://127.0.0.1:9/api/", "http://127.0.0.1:9/api"] {
            let o = RawConfig {
                slack_api_url: Some(api.into()),
                ..oauth_raw()
            }
            .into_config()
            .unwrap()
            .slack
            .unwrap()
            .oauth
            .unwrap();
            assert_eq!(o.authorize_url, "http://127.0.0.1:9/oauth/v2/authorize", "{api}");
        }
    }

    #[test]
    fn both_modes_may_be_on_together() {
        let s = RawConfig {
            slack_bot_token: Some("xoxb-1".into()),
            ..oauth_raw()
        }
        .into_config()
        .unwrap()
        .slack
        .unwrap();
        assert!(s.bot_token.is_some() && s.oauth.is_some());
    }

    #[test]
    fn each_malformed_oauth_setting_names_its_variable_on_one_line() {
        let cases = [
            (
                RawConfig {
                    slack_client_secret: None,
                    ..oauth_raw()
                },
                "SLACK_CLIENT_SECRET",
            ),
            (
                RawConfig {
                    slack_client_id: None,
                    ..oauth_raw()
                },
                "SLACK_CLIENT_ID",
            ),
            (
                RawConfig {
                    slack_client_id: Some("my-app".into()),
                    ..oauth_raw()
                },
                "SLACK_CLIENT_ID",
            ),
            (
                RawConfig {
                    slack_redirect_uri: None,
                    ..oauth_raw()
                },
                "SLACK_REDIRECT_URI",
            ),
            (
                RawConfig {
                    slack_redirect_uri: Some("not a url".into()),
                    ..oauth_raw()
                },
                "SLACK_REDIRECT_URI",
            ),
            (
                RawConfig {
                    slack_redirect_uri: Some("http://bot.example.com/slack/oauth_redirect".into()),
                    ..oauth_raw()
                },
                "SLACK_REDIRECT_URI",
            ),
            (
                RawConfig {
                    encryption_key: None,
                    ..oauth_raw()
                },
                "ONEONONE_ENCRYPTION_KEY",
            ),
            (
                RawConfig {
                    encryption_key: Some("c2hvcnQ=".into()),
                    ..oauth_raw()
                },
                "ONEONONE_ENCRYPTION_KEY",
            ),
            (
                RawConfig {
                    encryption_key: Some("%%%".into()),
                    ..oauth_raw()
                },
                "ONEONONE_ENCRYPTION_KEY",
            ),
            (
                RawConfig {
                    slack_signing_secret: None,
                    ..oauth_raw()
                },
                "SLACK_SIGNING_SECRET",
            ),
            (
                RawConfig {
                    encryption_key: Some("nope".into()),
                    slack_client_id: None,
                    slack_client_secret: None,
                    ..oauth_raw()
                },
                "ONEONONE_ENCRYPTION_KEY",
            ),
        ];
        assert_each_refused_naming(cases);
    }

    #[test]
    fn the_client_secret_and_the_key_do_not_appear_in_debug_output_or_errors() {
        let c = oauth_raw().into_config().unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("client-secret-value") && !dbg.contains(KEY), "{dbg}");
        let err = RawConfig {
            slack_redirect_uri: None,
            ..oauth_raw()
        }
        .into_config()
        .unwrap_err();
        assert!(!err.to_string().contains("client-secret-value"));
    }

    const APP_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn teams_raw() -> RawConfig {
        RawConfig {
            microsoft_app_id: Some(APP_ID.into()),
            microsoft_app_password: Some("app-password-value".into()),
            microsoft_app_tenant_id: Some(TENANT.into()),
            ..Default::default()
        }
    }

    #[test]
    fn teams_is_off_without_an_app_id_and_password() {
        let c = RawConfig {
            microsoft_app_tenant_id: Some(TENANT.into()),
            ..Default::default()
        }
        .into_config()
        .unwrap();
        assert!(c.teams.is_none());
    }

    #[test]
    fn a_single_tenant_bot_gets_its_tokens_from_its_own_tenant_and_trusts_the_four_connector_hosts() {
        let t = teams_raw().into_config().unwrap().teams.unwrap();
        assert_eq!(t.app_type, AppType::SingleTenant);
        assert_eq!(t.app_id, APP_ID);
        assert_eq!(t.tenant_id.as_deref(), Some(TENANT));
        assert_eq!(
            t.token_url,
            format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
        );
        assert_eq!(t.openid_metadata_url, DEFAULT_OPENID_METADATA_URL);
        for url in [
            "https://smba.trafficmanager.net/emea/",
            "https://smba.infra.gcc.teams.microsoft.com/",
            "https://smba.infra.gov.teams.microsoft.us/",
            "https://smba.infra.dod.teams.microsoft.us/",
        ] {
            assert!(t.trusted_service_urls.is_trusted(url), "{url}");
        }
        assert!(!t.trusted_service_urls.is_trusted("https://webchat.botframework.com/"));
    }

    #[test]
    fn a_multi_tenant_bot_gets_its_tokens_from_the_botframework_tenant() {
        let t = RawConfig {
            microsoft_app_type: Some("multitenant".into()),
            microsoft_app_tenant_id: None,
            ..teams_raw()
        }
        .into_config()
        .unwrap()
        .teams
        .unwrap();
        assert_eq!(t.app_type, AppType::MultiTenant);
        assert_eq!(
            t.token_url,
            "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn teams_urls_can_point_at_local_fakes() {
        let t = RawConfig {
            microsoft_openid_metadata_url: Some("http://127.0.0.1:9/v1/.well-known/openidconfiguration".into()),
            microsoft_token_url: Some("http://localhost:9/token".into()),
            teams_trusted_service_urls: Some("http://127.0.0.1:9/teams/, https://*.botframework.com/".into()),
            ..teams_raw()
        }
        .into_config()
        .unwrap()
        .teams
        .unwrap();
        assert_eq!(t.token_url, "http://localhost:9/token");
        assert!(t.trusted_service_urls.is_trusted("http://127.0.0.1:9/teams/"));
        assert!(t.trusted_service_urls.is_trusted("https://webchat.botframework.com/"));
    }

    #[test]
    fn each_malformed_teams_setting_names_its_variable() {
        let cases = [
            (
                RawConfig {
                    microsoft_app_password: None,
                    ..teams_raw()
                },
                "MICROSOFT_APP_PASSWORD",
            ),
            (
                RawConfig {
                    microsoft_app_id: None,
                    ..teams_raw()
                },
                "MICROSOFT_APP_ID",
            ),
            (
                RawConfig {
                    microsoft_app_id: Some("my-bot".into()),
                    ..teams_raw()
                },
                "MICROSOFT_APP_ID",
            ),
            (
                RawConfig {
                    microsoft_app_tenant_id: None,
                    ..teams_raw()
                },
                "MICROSOFT_APP_TENANT_ID",
            ),
            (
                RawConfig {
                    microsoft_app_tenant_id: Some("a/b".into()),
                    ..teams_raw()
                },
                "MICROSOFT_APP_TENANT_ID",
            ),
            (
                RawConfig {
                    microsoft_app_type: Some("UserAssignedMSI".into()),
                    ..teams_raw()
                },
                "MICROSOFT_APP_TYPE",
            ),
            (
                RawConfig {
                    microsoft_openid_metadata_url: Some("http://login.example.com/meta".into()),
                    ..teams_raw()
                },
                "MICROSOFT_OPENID_METADATA_URL",
            ),
            (
                RawConfig {
                    microsoft_token_url: Some("not a url".into()),
                    ..teams_raw()
                },
                "MICROSOFT_TOKEN_URL",
            ),
            (
                RawConfig {
                    teams_trusted_service_urls: Some("http://smba.trafficmanager.net/".into()),
                    ..teams_raw()
                },
                "TEAMS_TRUSTED_SERVICE_URLS",
            ),
            (
                RawConfig {
                    teams_trusted_service_urls: Some(" , ".into()),
                    ..teams_raw()
                },
                "TEAMS_TRUSTED_SERVICE_URLS",
            ),
        ];
        assert_each_refused_naming(cases);
    }

    #[test]
    fn the_app_password_does_not_appear_in_debug_output_or_errors() {
        let c = teams_raw().into_config().unwrap();
        assert!(!format!("{c:?}").contains("app-password-value"));
        let err = RawConfig {
            microsoft_app_tenant_id: None,
            ..teams_raw()
        }
        .into_config()
        .unwrap_err();
        assert!(!err.to_string().contains("app-password-value"));
    }
}
