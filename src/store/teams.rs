//! Teams conversation references (`teams_conversations`): what the bot needs
//! to message a person proactively, and whether it can (SPEC §7). Written
//! from installation and conversation updates and every message; read by the
//! Teams sender.

use super::rows::row;
use super::{Db, Result, ts_of};
use crate::domain::model::PersonId;
use chrono::{DateTime, Utc};

/// A person's Teams conversation reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamsConversation {
    pub person_id: PersonId,
    /// The Connector endpoint to use for this person (already trusted when stored).
    pub service_url: String,
    /// The personal conversation (`a:…`), once known.
    pub conversation_id: Option<String>,
    pub tenant_id: String,
    pub aad_object_id: Option<String>,
    /// `false` after an uninstall or a 403 from Teams.
    pub installed: bool,
    /// Why not installed, as Teams said it.
    pub problem: Option<String>,
}

/// What an inbound activity tells about a person's reference.
#[derive(Debug, Clone)]
pub struct SeenConversation<'a> {
    pub person_id: PersonId,
    pub service_url: &'a str,
    /// Only a personal conversation's id is kept (never a channel's).
    pub conversation_id: Option<&'a str>,
    pub tenant_id: &'a str,
    pub aad_object_id: Option<&'a str>,
}

row! {
    struct Row {
        person_id: i64,
        service_url: String,
        conversation_id: Option<String>,
        tenant_id: String,
        aad_object_id: Option<String>,
        installed: i64,
        problem: Option<String>,
    }
}

impl From<Row> for TeamsConversation {
    fn from(r: Row) -> Self {
        TeamsConversation {
            person_id: PersonId(r.person_id),
            service_url: r.service_url,
            conversation_id: r.conversation_id,
            tenant_id: r.tenant_id,
            aad_object_id: r.aad_object_id,
            installed: r.installed != 0,
            problem: r.problem,
        }
    }
}

impl Db {
    /// Records that the person wrote to the bot or installed it: their
    /// reference is current and the app is installed. A known conversation id
    /// is kept when the activity carries none.
    pub async fn saw_teams_conversation(&self, seen: &SeenConversation<'_>, now: DateTime<Utc>) -> Result<()> {
        const Q: &str = "insert into teams_conversations
                (person_id, service_url, conversation_id, tenant_id, aad_object_id, installed, problem, updated_at)
            values ($1, $2, $3, $4, $5, 1, null, $6)
            on conflict (person_id) do update set
                service_url = excluded.service_url,
                conversation_id = coalesce(excluded.conversation_id, teams_conversations.conversation_id),
                tenant_id = excluded.tenant_id,
                aad_object_id = coalesce(excluded.aad_object_id, teams_conversations.aad_object_id),
                installed = 1, problem = null, updated_at = excluded.updated_at";
        on_db!(self, p => sqlx::query(Q)
            .bind(seen.person_id.0)
            .bind(seen.service_url.to_string())
            .bind(seen.conversation_id.map(str::to_string))
            .bind(seen.tenant_id.to_string())
            .bind(seen.aad_object_id.map(str::to_string))
            .bind(ts_of(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The person's reference, if the bot has ever seen them in Teams.
    pub async fn teams_conversation(&self, person: PersonId) -> Result<Option<TeamsConversation>> {
        const Q: &str = "select person_id, service_url, conversation_id, tenant_id, aad_object_id, installed, problem
            from teams_conversations where person_id = $1";
        let row: Option<Row> = read!(self, optional Q, person.0)?;
        Ok(row.map(Into::into))
    }

    /// Remembers the personal conversation created for proactive messages.
    pub async fn set_teams_conversation_id(
        &self,
        person: PersonId,
        conversation_id: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        const Q: &str = "update teams_conversations set conversation_id = $2, updated_at = $3 where person_id = $1";
        on_db!(self, p => sqlx::query(Q)
            .bind(person.0).bind(conversation_id.to_string()).bind(ts_of(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The app was removed, or Teams refused (403): nothing can reach the
    /// person until they install it again. `true` the first time (so whoever
    /// needs to act is told once).
    pub async fn teams_not_installed(&self, person: PersonId, problem: &str, now: DateTime<Utc>) -> Result<bool> {
        const Q: &str = "update teams_conversations set installed = 0, problem = $2, updated_at = $3
            where person_id = $1 and installed = 1";
        let n = on_db!(self, p => sqlx::query(Q)
            .bind(person.0).bind(problem.to_string()).bind(ts_of(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Deliveries to `person` that were waiting for them to install the app
    /// become due now. Returns how many.
    pub async fn wake_deliveries_for(&self, person: PersonId, now: DateTime<Utc>) -> Result<u64> {
        const Q: &str = "update deliveries set due_at = $2
            where recipient_id = $1 and state = 'pending' and due_at > $2";
        let n = on_db!(self, p => sqlx::query(Q)
            .bind(person.0).bind(ts_of(now))
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n)
    }
}
