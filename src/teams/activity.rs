//! The parts of a Bot Framework activity the bot reads (reference §4), and
//! turning a Teams message into a line of the command grammar: the bot's own
//! @mention removed, every other person's mention rewritten as a mention
//! token the grammar understands (`<@29:…>`), Teams' HTML entities undone.

use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// A channel account (`from`, `recipient`, a mentioned person).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub aad_object_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub conversation_type: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// An incoming activity: only what the bot uses; everything else is ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub channel_id: Option<String>,
    #[serde(default)]
    pub service_url: Option<String>,
    #[serde(default)]
    pub from: Account,
    #[serde(default)]
    pub recipient: Account,
    #[serde(default)]
    pub conversation: Conversation,
    #[serde(default)]
    pub channel_data: Value,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub reply_to_id: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub entities: Vec<Value>,
    #[serde(default)]
    pub members_added: Vec<Account>,
    #[serde(default)]
    pub members_removed: Vec<Account>,
    #[serde(default)]
    pub reactions_added: Vec<Value>,
    #[serde(default)]
    pub local_timezone: Option<String>,
}

impl Activity {
    /// The tenant: `conversation.tenantId`, else `channelData.tenant.id`.
    pub fn tenant_id(&self) -> Option<&str> {
        self.conversation
            .tenant_id
            .as_deref()
            .or_else(|| self.channel_data.pointer("/tenant/id").and_then(Value::as_str))
            .filter(|t| !t.is_empty())
    }

    /// Whether this is the person's one-to-one chat with the bot.
    pub fn is_personal(&self) -> bool {
        self.conversation
            .conversation_type
            .as_deref()
            .is_none_or(|t| t == "personal")
    }

    /// The sender's time zone: the activity's `localTimezone`, else the
    /// `clientInfo` entity's `timezone` (reference §4.1); only a real IANA zone.
    pub fn time_zone(&self) -> Option<chrono_tz::Tz> {
        let from_entity = self
            .entities
            .iter()
            .find(|e| e.get("type").and_then(Value::as_str) == Some("clientInfo"))
            .and_then(|e| e.get("timezone"))
            .and_then(Value::as_str);
        self.local_timezone
            .as_deref()
            .or(from_entity)
            .and_then(|z| z.parse().ok())
    }

    /// People mentioned in the message other than the bot: id → name.
    pub fn mentions(&self) -> HashMap<String, String> {
        mention_entities(&self.entities)
            .filter(|(id, _, _)| *id != self.recipient.id)
            .map(|(id, name, _)| (id.to_string(), name.to_string()))
            .collect()
    }

    /// The message as a command line (see [`command_line`]).
    pub fn command_line(&self) -> String {
        command_line(
            self.text.as_deref().unwrap_or_default(),
            &self.entities,
            &self.recipient.id,
        )
    }

    /// The message id a reaction or card action refers to: `replyToId`, else
    /// `channelData.legacy.replyToId` (reference §4.4).
    pub fn replied_to(&self) -> Option<&str> {
        self.reply_to_id
            .as_deref()
            .or_else(|| self.channel_data.pointer("/legacy/replyToId").and_then(Value::as_str))
            .filter(|s| !s.is_empty())
    }
}

/// `(mentioned id, name, the text Teams put in the message)` of each mention entity.
fn mention_entities(entities: &[Value]) -> impl Iterator<Item = (&str, &str, &str)> {
    entities.iter().filter_map(|e| {
        let is_mention = e
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("mention"));
        if !is_mention {
            return None;
        }
        let id = e.pointer("/mentioned/id").and_then(Value::as_str)?;
        let name = e.pointer("/mentioned/name").and_then(Value::as_str).unwrap_or(id);
        let text = e.get("text").and_then(Value::as_str).unwrap_or_default();
        Some((id, name, text))
    })
}

/// A Teams message as a line of the grammar: the bot's own mention removed
/// (botbuilder's `removeMentionText`), every other mention rewritten as
/// `<@ID>` so the grammar reads it as a person, stray `<at>…</at>` tags
/// dropped, the few HTML entities Teams uses undone, whitespace normalised.
pub fn command_line(text: &str, entities: &[Value], bot_id: &str) -> String {
    let mut line = text.to_string();
    for (id, _, mention_text) in mention_entities(entities) {
        if mention_text.is_empty() {
            continue;
        }
        let replacement = if id == bot_id {
            String::new()
        } else if id
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == '|')
        {
            // Not an id the grammar could carry: keep the name as typed.
            String::new()
        } else {
            format!("<@{id}>")
        };
        line = line.replacen(mention_text, &replacement, 1);
    }
    // Leftover tags (a mention without an entity) lose their markup.
    let line = line.replace("<at>", "").replace("</at>", "");
    let line = line
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Activity {
        let path = format!("{}/tests/fixtures/teams/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("a Teams activity")
    }

    #[test]
    fn a_message_becomes_a_command_line_without_the_bots_mention() {
        let a = fixture("message_with_mention.json");
        assert_eq!(a.command_line(), "add <@29:1bUserIdOfRahul> Conference budget");
        assert_eq!(
            a.mentions().get("29:1bUserIdOfRahul").map(String::as_str),
            Some("Rahul Report")
        );
        assert!(!a.mentions().contains_key(&a.recipient.id));
        assert_eq!(a.tenant_id(), Some("00000000-0000-0000-0000-0000000000t1"));
        assert_eq!(a.time_zone(), Some(chrono_tz::Europe::Berlin));
        assert!(a.is_personal());
    }

    #[test]
    fn html_entities_and_stray_tags_are_undone_once() {
        let line = command_line("add&nbsp;a &amp;lt;b&amp;gt; <at>Nobody</at>  &lt;x&gt;", &[], "28:bot");
        assert_eq!(line, "add a &lt;b&gt; Nobody <x>");
    }

    #[test]
    fn every_fixture_parses_and_unknown_fields_are_ignored() {
        for f in [
            "conversation_update_bot_added.json",
            "installation_update_add.json",
            "installation_update_remove.json",
            "invoke_adaptive_card_action.json",
            "message_reaction_added.json",
            "message_with_mention.json",
        ] {
            let a = fixture(f);
            assert!(!a.kind.is_empty(), "{f}");
            assert_eq!(a.channel_id.as_deref(), Some("msteams"), "{f}");
        }
        let r = fixture("message_reaction_added.json");
        assert_eq!(r.reactions_added[0]["type"], "like");
        assert!(r.replied_to().is_some());
        let i = fixture("installation_update_remove.json");
        assert_eq!(i.action.as_deref(), Some("remove"));
    }
}
