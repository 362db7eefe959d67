//! Which bot token a workspace's calls use, and keeping it fresh.
//!
//! With OAuth on, every workspace that installed the app has its own token in
//! `slack_installations` (encrypted, `crate::crypto`); it takes precedence
//! over `SLACK_BOT_TOKEN`, which still serves the one workspace it belongs
//! to. With token rotation on, a token lives 12 hours: it is refreshed when
//! fewer than [`REFRESH_MARGIN_MINUTES`] remain (python-slack-sdk's rule),
//! before it is used.
//!
//! Two refreshes of one token must never race: each exchange revokes the
//! refresh token it used. Inside a process a per-team `tokio::sync::Mutex`
//! queues them; across replicas the row's `token_version` does — a replica
//! claims the refresh in the database for [`REFRESH_CLAIM_SECONDS`] before it
//! calls Slack, writes only if the version is unchanged, and the others
//! re-read (using the old token meanwhile while it is still valid).

use super::oauth::{OAuthClient, OAuthError};
use crate::clock::Clock;
use crate::config::SlackOAuthConfig;
use crate::crypto::{CryptoError, TokenCipher};
use crate::store::{Db, SlackInstallation, StoreError};
use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Refresh when fewer than this many minutes of a token's life remain.
pub const REFRESH_MARGIN_MINUTES: i64 = 120;
/// How long a replica's claim on a refresh lasts (a crashed one's lapses).
pub const REFRESH_CLAIM_SECONDS: i64 = 30;
/// How often, and how many times, a replica that finds another one
/// refreshing an already expired token looks again.
const WAIT_STEP: std::time::Duration = std::time::Duration::from_millis(200);
const WAIT_STEPS: u32 = 50;

/// The associated-data labels of the two encrypted columns.
pub const BOT_TOKEN: &str = "bot_token";
pub const REFRESH_TOKEN: &str = "bot_refresh_token";

/// Why no token could be had right now (as opposed to "this workspace has none").
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("installation lookup failed")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("token refresh failed")]
    Refresh(#[source] OAuthError),
    #[error("the token expired and another replica's refresh did not finish")]
    RefreshPending,
    #[error("cannot tell which workspace SLACK_BOT_TOKEN belongs to (auth.test)")]
    BotTokenOwner(#[source] super::client::SlackApiError),
}

/// The OAuth installs: lookup, decryption, rotation.
#[derive(Clone)]
pub struct Installations {
    db: Db,
    clock: Clock,
    cipher: TokenCipher,
    oauth: Arc<OAuthClient>,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

fn needs_refresh(i: &SlackInstallation, now: DateTime<Utc>) -> bool {
    i.bot_refresh_token.is_some()
        && i.bot_token_expires_at
            .is_some_and(|at| at - now < Duration::minutes(REFRESH_MARGIN_MINUTES))
}

fn expired(i: &SlackInstallation, now: DateTime<Utc>) -> bool {
    i.bot_token_expires_at.is_some_and(|at| at <= now)
}

impl Installations {
    pub fn new(config: &SlackOAuthConfig, api_url: &str, db: Db, clock: Clock) -> anyhow::Result<Self> {
        Ok(Installations {
            db,
            clock,
            cipher: TokenCipher::new(&config.encryption_key),
            oauth: Arc::new(OAuthClient::new(config, api_url)?),
            locks: Arc::default(),
        })
    }

    pub fn oauth(&self) -> &OAuthClient {
        &self.oauth
    }

    pub fn cipher(&self) -> &TokenCipher {
        &self.cipher
    }

    /// The workspace's bot token from its install, refreshed first if it is
    /// about to expire; `None` when the app is not installed there by OAuth.
    pub async fn bot_token(&self, team_id: &str) -> Result<Option<SecretString>, TokenError> {
        let Some(install) = self.db.slack_installation(team_id).await? else {
            return Ok(None);
        };
        if needs_refresh(&install, self.clock.now()) {
            return self.refresh(team_id).await;
        }
        Ok(Some(self.cipher.decrypt(team_id, BOT_TOKEN, &install.bot_token)?))
    }

    /// Forgets the workspace's install (uninstalled, or its tokens revoked).
    pub async fn forget(&self, team_id: &str) -> Result<bool, StoreError> {
        self.db.delete_slack_installation(team_id).await
    }

    fn lock_for(&self, team_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(team_id.to_owned()).or_default().clone()
    }

    async fn refresh(&self, team_id: &str) -> Result<Option<SecretString>, TokenError> {
        let lock = self.lock_for(team_id);
        let _one_at_a_time = lock.lock().await;
        for _ in 0..WAIT_STEPS {
            // Re-read under the lock: whoever held it may have refreshed already.
            let Some(install) = self.db.slack_installation(team_id).await? else {
                return Ok(None);
            };
            let now = self.clock.now();
            let (true, Some(refresh_enc)) = (needs_refresh(&install, now), &install.bot_refresh_token) else {
                return Ok(Some(self.cipher.decrypt(team_id, BOT_TOKEN, &install.bot_token)?));
            };
            let until = now + Duration::seconds(REFRESH_CLAIM_SECONDS);
            if !self
                .db
                .claim_slack_token_refresh(team_id, install.token_version, now, until)
                .await?
            {
                // Another replica is refreshing (or just did: the next read shows it).
                if !expired(&install, now) {
                    return Ok(Some(self.cipher.decrypt(team_id, BOT_TOKEN, &install.bot_token)?));
                }
                tokio::time::sleep(WAIT_STEP).await;
                continue;
            }
            let refresh_token = self.cipher.decrypt(team_id, REFRESH_TOKEN, refresh_enc)?;
            let tokens = match self.oauth.refresh(&refresh_token).await {
                Ok(tokens) => tokens,
                Err(e) => {
                    let _ = self
                        .db
                        .release_slack_token_refresh(team_id, install.token_version)
                        .await;
                    if !expired(&install, now) {
                        tracing::warn!(error = %e, slack.team = %team_id, "token refresh failed; the current token is still valid");
                        return Ok(Some(self.cipher.decrypt(team_id, BOT_TOKEN, &install.bot_token)?));
                    }
                    return Err(TokenError::Refresh(e));
                }
            };
            // Slack always sends a new refresh token; keep the old one if not.
            let new_refresh = match &tokens.refresh_token {
                Some(r) => self.cipher.encrypt(team_id, REFRESH_TOKEN, r),
                None => refresh_enc.clone(),
            };
            let written = self
                .db
                .rotate_slack_tokens(
                    team_id,
                    install.token_version,
                    &self.cipher.encrypt(team_id, BOT_TOKEN, &tokens.access_token),
                    &new_refresh,
                    tokens.expires_in.map(|s| now + Duration::seconds(s)),
                    now,
                )
                .await?;
            if written {
                tracing::info!(slack.team = %team_id, "bot token rotated");
                return Ok(Some(tokens.access_token));
            }
            // A reinstall landed meanwhile: its tokens win; read them.
        }
        Err(TokenError::RefreshPending)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::TimeZone;

    fn install(expires_in_minutes: Option<i64>, refresh: bool) -> SlackInstallation {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
        SlackInstallation {
            team_id: "T1".into(),
            enterprise_id: None,
            team_name: String::new(),
            app_id: "A1".into(),
            bot_user_id: "U1".into(),
            bot_id: "B1".into(),
            bot_scopes: String::new(),
            bot_token: vec![],
            bot_refresh_token: refresh.then(Vec::new),
            bot_token_expires_at: expires_in_minutes.map(|m| now + Duration::minutes(m)),
            installer_user_id: String::new(),
            installed_at: now,
            token_version: 0,
            refresh_claimed_until: None,
        }
    }

    #[test]
    fn a_token_is_refreshed_only_with_less_than_two_hours_left_and_a_refresh_token() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
        assert!(!needs_refresh(&install(None, false), now), "a token that never expires");
        assert!(!needs_refresh(&install(Some(121), true), now));
        assert!(needs_refresh(&install(Some(119), true), now));
        assert!(needs_refresh(&install(Some(-5), true), now), "an expired one too");
        assert!(
            !needs_refresh(&install(Some(10), false), now),
            "nothing to refresh with"
        );
        assert!(expired(&install(Some(0), true), now));
        assert!(!expired(&install(Some(1), true), now));
    }
}
