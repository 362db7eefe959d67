//! Slack OAuth installs (`slack_installations`) and the single-use install
//! states (`slack_oauth_states`), migration 0007. The store keeps tokens as
//! the opaque ciphertexts `slack::tokens` hands it; it never sees a token.
//!
//! Two replicas may try to rotate one workspace's token at once. The
//! `token_version` column fences that: a refresh is claimed for a short
//! lease (`claim_slack_token_refresh`) and written only if the version is
//! still the one it started from (`rotate_slack_tokens`); the loser re-reads.

use super::rows::row;
use super::{Db, Result, ts_of};
use chrono::{DateTime, Utc};

/// One workspace's install. Token fields are ciphertexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackInstallation {
    pub team_id: String,
    pub enterprise_id: Option<String>,
    pub team_name: String,
    pub app_id: String,
    pub bot_user_id: String,
    pub bot_id: String,
    /// Comma-separated, as granted.
    pub bot_scopes: String,
    pub bot_token: Vec<u8>,
    pub bot_refresh_token: Option<Vec<u8>>,
    /// `None`: the token does not expire (token rotation off).
    pub bot_token_expires_at: Option<DateTime<Utc>>,
    pub installer_user_id: String,
    pub installed_at: DateTime<Utc>,
    /// Read-only: bumped by every save and rotation.
    pub token_version: i64,
    /// Read-only: a refresh is under way until then.
    pub refresh_claimed_until: Option<DateTime<Utc>>,
}

/// What became of an install's `state` when the browser came back with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthStateCheck {
    /// Known and fresh: consumed now, it can never be used again.
    Valid,
    /// Known but older than its 10 minutes (consumed as well).
    Expired,
    /// Never issued, or already used.
    Unknown,
}

row! {
    struct Row {
        team_id: String,
        enterprise_id: Option<String>,
        team_name: String,
        app_id: String,
        bot_user_id: String,
        bot_id: String,
        bot_scopes: String,
        bot_token: Vec<u8>,
        bot_refresh_token: Option<Vec<u8>>,
        bot_token_expires_at: Option<i64>,
        token_version: i64,
        refresh_claimed_until: Option<i64>,
        installer_user_id: String,
        installed_at: i64,
    }
}

fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

impl From<Row> for SlackInstallation {
    fn from(r: Row) -> Self {
        SlackInstallation {
            team_id: r.team_id,
            enterprise_id: r.enterprise_id,
            team_name: r.team_name,
            app_id: r.app_id,
            bot_user_id: r.bot_user_id,
            bot_id: r.bot_id,
            bot_scopes: r.bot_scopes,
            bot_token: r.bot_token,
            bot_refresh_token: r.bot_refresh_token,
            bot_token_expires_at: r.bot_token_expires_at.map(instant),
            installer_user_id: r.installer_user_id,
            installed_at: instant(r.installed_at),
            token_version: r.token_version,
            refresh_claimed_until: r.refresh_claimed_until.map(instant),
        }
    }
}

impl Db {
    /// Saves a (re)install: a new workspace's row, or new tokens and details
    /// for a known one (which also ends any refresh in progress: its old
    /// refresh token is dead now).
    pub async fn save_slack_installation(&self, i: &SlackInstallation, now: DateTime<Utc>) -> Result<()> {
        const Q: &str = "insert into slack_installations
                (team_id, enterprise_id, team_name, app_id, bot_user_id, bot_id, bot_scopes, bot_token,
                 bot_refresh_token, bot_token_expires_at, installer_user_id, installed_at, updated_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
            on conflict (team_id) do update set
                enterprise_id = excluded.enterprise_id, team_name = excluded.team_name,
                app_id = excluded.app_id, bot_user_id = excluded.bot_user_id, bot_id = excluded.bot_id,
                bot_scopes = excluded.bot_scopes, bot_token = excluded.bot_token,
                bot_refresh_token = excluded.bot_refresh_token,
                bot_token_expires_at = excluded.bot_token_expires_at,
                installer_user_id = excluded.installer_user_id, installed_at = excluded.installed_at,
                updated_at = excluded.updated_at,
                token_version = slack_installations.token_version + 1,
                refresh_claimed_until = null";
        on_db!(self, p => sqlx::query(Q)
            .bind(i.team_id.clone())
            .bind(i.enterprise_id.clone())
            .bind(i.team_name.clone())
            .bind(i.app_id.clone())
            .bind(i.bot_user_id.clone())
            .bind(i.bot_id.clone())
            .bind(i.bot_scopes.clone())
            .bind(i.bot_token.clone())
            .bind(i.bot_refresh_token.clone())
            .bind(i.bot_token_expires_at.map(ts_of))
            .bind(i.installer_user_id.clone())
            .bind(ts_of(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The workspace's install, if the app is installed there through OAuth.
    pub async fn slack_installation(&self, team_id: &str) -> Result<Option<SlackInstallation>> {
        const Q: &str = "select team_id, enterprise_id, team_name, app_id, bot_user_id, bot_id, bot_scopes,
                bot_token, bot_refresh_token, bot_token_expires_at, token_version, refresh_claimed_until,
                installer_user_id, installed_at
            from slack_installations where team_id = $1";
        let row: Option<Row> = read!(self, optional Q, team_id.to_string())?;
        Ok(row.map(Into::into))
    }

    /// Claims the refresh of `team_id`'s token at `version` until `until`.
    /// `false`: another replica holds a live claim, or the token has already
    /// been rotated (re-read it).
    pub async fn claim_slack_token_refresh(
        &self,
        team_id: &str,
        version: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool> {
        const Q: &str = "update slack_installations set refresh_claimed_until = $4
            where team_id = $1 and token_version = $2
              and (refresh_claimed_until is null or refresh_claimed_until <= $3)";
        let n = on_db!(self, p => sqlx::query(Q)
            .bind(team_id.to_string()).bind(version).bind(ts_of(now)).bind(ts_of(until))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Gives a claimed refresh up (the exchange failed), so another attempt
    /// need not wait for the lease.
    pub async fn release_slack_token_refresh(&self, team_id: &str, version: i64) -> Result<()> {
        const Q: &str = "update slack_installations set refresh_claimed_until = null
            where team_id = $1 and token_version = $2";
        on_db!(self, p => sqlx::query(Q)
            .bind(team_id.to_string()).bind(version)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Writes the tokens a refresh returned, if the row is still at
    /// `version`; `false` when someone else rotated or reinstalled meanwhile.
    pub async fn rotate_slack_tokens(
        &self,
        team_id: &str,
        version: i64,
        bot_token: &[u8],
        bot_refresh_token: &[u8],
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        const Q: &str = "update slack_installations set
                bot_token = $3, bot_refresh_token = $4, bot_token_expires_at = $5, updated_at = $6,
                token_version = token_version + 1, refresh_claimed_until = null
            where team_id = $1 and token_version = $2";
        let n = on_db!(self, p => sqlx::query(Q)
            .bind(team_id.to_string()).bind(version)
            .bind(bot_token.to_vec()).bind(bot_refresh_token.to_vec())
            .bind(expires_at.map(ts_of)).bind(ts_of(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Forgets the workspace's install and its tokens (`app_uninstalled`,
    /// `tokens_revoked`). `true` if there was one.
    pub async fn delete_slack_installation(&self, team_id: &str) -> Result<bool> {
        const Q: &str = "delete from slack_installations where team_id = $1";
        let n = on_db!(self, p => sqlx::query(Q)
            .bind(team_id.to_string())
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Records a new install `state` (by its hash) valid until `expires_at`,
    /// and clears away states that expired unused.
    pub async fn issue_oauth_state(
        &self,
        state_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        const PURGE: &str = "delete from slack_oauth_states where expires_at <= $1";
        const Q: &str = "insert into slack_oauth_states (state_hash, expires_at) values ($1, $2)";
        on_db!(self, p => sqlx::query(PURGE).bind(ts_of(now)).execute(p).await.map(|r| r.rows_affected()))?;
        on_db!(self, p => sqlx::query(Q)
            .bind(state_hash.to_string()).bind(ts_of(expires_at))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Consumes a `state` (by its hash): one `delete … returning`, so of two
    /// requests with the same state — on one replica or two — exactly one
    /// finds it.
    pub async fn consume_oauth_state(&self, state_hash: &str, now: DateTime<Utc>) -> Result<OAuthStateCheck> {
        const Q: &str = "delete from slack_oauth_states where state_hash = $1 returning expires_at";
        let expires: Option<i64> = on_db!(self, p => sqlx::query_scalar(Q)
            .bind(state_hash.to_string())
            .fetch_optional(p).await)?;
        Ok(match expires {
            Some(at) if at > ts_of(now) => OAuthStateCheck::Valid,
            Some(_) => OAuthStateCheck::Expired,
            None => OAuthStateCheck::Unknown,
        })
    }
}
