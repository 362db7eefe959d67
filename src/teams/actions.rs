//! Card clicks (`invoke` `adaptiveCard/action`, or the `Action.Submit`
//! fallback as a `message` with a `value`) turned into the same id-addressed
//! operations Slack's buttons use (`commands::objects`), each re-checked
//! against the verified caller there. The verbs and inputs are those of
//! [`super::cards`] (its module doc has the table).

use super::cards::CardAction;
use crate::commands::objects::{ObjectAction, meeting_of, stale};
use crate::commands::{Actor, CommandError, Ctx};
use crate::domain::model::{ActionItemId, Category, MeetingId, RequestId, SeriesId, TalkingPointId};
use crate::domain::reply::{Outcome, Reply};
use chrono::{NaiveDate, NaiveTime};

/// What a click asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Click {
    /// An operation on one object, re-checked against the caller.
    Object(ObjectAction),
    /// An action item whose owner is `me` or `partner` (resolved against the
    /// meeting's participants once the meeting is known to be the caller's).
    AddAction {
        meeting: MeetingId,
        text: String,
        owner_is_me: bool,
        due: Option<NaiveDate>,
    },
    /// Re-run a command line for one of the caller's 1:1s ("which 1:1?").
    PickPartner(SeriesId, String),
    /// A line of the grammar (a button that only shows something, or the
    /// set-up form's `setup` line).
    Line(String),
    /// Show the set-up form, the requester preselected when answering a request.
    SetupForm(Option<RequestId>),
    /// Not (or no longer) something we know.
    Stale,
}

fn id<T>(s: &str, make: fn(i64) -> T) -> Option<T> {
    s.trim().parse::<i64>().ok().filter(|n| *n > 0).map(make)
}

fn input<'a>(a: &'a CardAction, name: &str) -> Option<&'a str> {
    a.inputs
        .get(name)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn date(a: &CardAction) -> Option<NaiveDate> {
    input(a, "date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn time(a: &CardAction) -> Option<NaiveTime> {
    input(a, "time").and_then(|t| {
        NaiveTime::parse_from_str(t, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .ok()
    })
}

/// Reads a click. Malformed ids and inputs are [`Click::Stale`] (or, for a
/// missing required input, the form's own validation in Teams already
/// stopped it; a forged one is stale).
pub fn classify(a: &CardAction) -> Click {
    let obj = |o: Option<ObjectAction>| o.map_or(Click::Stale, Click::Object);
    let v = a.value.as_str();
    match a.verb.as_str() {
        "tp_discussed" => obj(id(v, TalkingPointId).map(ObjectAction::MarkDiscussed)),
        "ai_complete" => obj(id(v, ActionItemId).map(ObjectAction::CompleteItem)),
        "show_all_points" => obj(id(v, MeetingId).map(ObjectAction::ShowAllPoints)),
        "tp_drop" => obj(id(v, TalkingPointId).map(ObjectAction::DropPoint)),
        "meeting_held" => obj(id(v, MeetingId).map(ObjectAction::Hold)),
        "meeting_skip" | "confirm_skip" => obj(id(v, MeetingId).map(|m| ObjectAction::Skip(m, None))),
        "rate" => {
            let Some((m, score)) = v.split_once(':') else {
                return Click::Stale;
            };
            match (id(m, MeetingId), score.parse::<u8>()) {
                (Some(m), Ok(score)) => {
                    Click::Object(ObjectAction::Rate(m, score, input(a, "comment").map(str::to_string)))
                }
                _ => Click::Stale,
            }
        }
        "tp_add" => match (id(v, MeetingId), input(a, "point")) {
            (Some(m), Some(point)) => {
                let category = input(a, "category")
                    .and_then(Category::parse)
                    .unwrap_or(Category::Other);
                Click::Object(ObjectAction::AddPoint(m, category, point.to_string()))
            }
            _ => Click::Stale,
        },
        "ai_add" => match (id(v, MeetingId), input(a, "text")) {
            (Some(meeting), Some(text)) => {
                let due = match input(a, "due") {
                    Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                        Ok(d) => Some(d),
                        Err(_) => return Click::Stale,
                    },
                    None => None,
                };
                Click::AddAction {
                    meeting,
                    text: text.to_string(),
                    owner_is_me: input(a, "owner") == Some("me"),
                    due,
                }
            }
            _ => Click::Stale,
        },
        "note_add" => match (id(v, MeetingId), input(a, "note")) {
            (Some(m), Some(note)) => Click::Object(ObjectAction::AddNote(m, note.to_string())),
            _ => Click::Stale,
        },
        "reschedule" => match (id(v, MeetingId), date(a), time(a)) {
            (Some(m), Some(d), Some(t)) => Click::Object(ObjectAction::Reschedule(m, d, t)),
            _ => Click::Stale,
        },
        "extra_add" => match (id(v, SeriesId), date(a), time(a)) {
            (Some(s), Some(d), Some(t)) => Click::Object(ObjectAction::ExtraMeeting(s, d, t)),
            _ => Click::Stale,
        },
        "pick_partner" => match v.split_once(':') {
            Some((sid, line)) => id(sid, SeriesId).map_or(Click::Stale, |s| Click::PickPartner(s, line.to_string())),
            None => Click::Stale,
        },
        "open_setup" => Click::SetupForm(None),
        "request_setup" => id(v, RequestId).map_or(Click::Stale, |r| Click::SetupForm(Some(r))),
        super::forms::SETUP_SUBMIT => super::forms::setup_line(a).map_or(Click::Stale, Click::Line),
        "home" => Click::Line("list".into()),
        "dismiss" => Click::Line(String::new()),
        _ => Click::Stale,
    }
}

/// Carries out an id-addressed click for the caller (everything but
/// [`Click::PickPartner`] and [`Click::Line`], which re-run the grammar).
pub async fn apply(ctx: &Ctx<'_>, actor: &Actor, click: Click) -> Result<Outcome, CommandError> {
    let action = match click {
        Click::Object(o) => o,
        Click::AddAction {
            meeting,
            text,
            owner_is_me,
            due,
        } => {
            let Some((_, partner, m)) = meeting_of(ctx, actor, meeting).await? else {
                return Ok(stale().into());
            };
            let owner = if owner_is_me {
                actor.person.external_id.clone()
            } else {
                partner.external_id.clone()
            };
            ObjectAction::AddAction(m.id, text, owner, due)
        }
        Click::PickPartner(..) | Click::Line(_) | Click::SetupForm(_) | Click::Stale => {
            return Ok(Outcome::from(stale()));
        }
    };
    crate::commands::objects::apply_to(ctx, actor, action).await
}

/// The reply a click shows in place of the card: the refreshed agenda when
/// the card was one (with what happened on top), else the click's own reply.
pub fn replace_card(outcome: &Outcome, agenda: Option<Reply>) -> Reply {
    match agenda {
        Some(mut agenda) => {
            let said = outcome.reply.to_plain();
            if !said.trim().is_empty() {
                agenda
                    .blocks
                    .insert(0, crate::domain::reply::Block::Context(said.into()));
            }
            agenda
        }
        None => outcome.reply.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn action(verb: &str, value: &str, inputs: serde_json::Value) -> CardAction {
        CardAction {
            verb: verb.into(),
            value: value.into(),
            inputs: inputs.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn clicks_become_the_same_operations_as_slacks_buttons() {
        assert_eq!(
            classify(&action("tp_discussed", "42", json!({}))),
            Click::Object(ObjectAction::MarkDiscussed(TalkingPointId(42)))
        );
        assert_eq!(
            classify(&action(
                "tp_add",
                "7",
                json!({"point": " Budget ", "category": "development"})
            )),
            Click::Object(ObjectAction::AddPoint(
                MeetingId(7),
                Category::Development,
                "Budget".into()
            ))
        );
        assert_eq!(
            classify(&action(
                "reschedule",
                "7",
                json!({"date": "2026-12-03", "time": "15:30"})
            )),
            Click::Object(ObjectAction::Reschedule(
                MeetingId(7),
                NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
                NaiveTime::from_hms_opt(15, 30, 0).unwrap()
            ))
        );
        assert_eq!(
            classify(&action("rate", "7:5", json!({"comment": "useful"}))),
            Click::Object(ObjectAction::Rate(MeetingId(7), 5, Some("useful".into())))
        );
        assert!(matches!(
            classify(&action(
                "ai_add",
                "7",
                json!({"text": "Send notes", "owner": "me", "due": "2026-12-04"})
            )),
            Click::AddAction {
                owner_is_me: true,
                due: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn forged_or_malformed_clicks_are_stale() {
        for a in [
            action("tp_discussed", "x", json!({})),
            action("tp_discussed", "-3", json!({})),
            action("tp_add", "7", json!({})),
            action("reschedule", "7", json!({"date": "tomorrow", "time": "15:30"})),
            action("ai_add", "7", json!({"text": "x", "due": "soon"})),
            action("rate", "7", json!({})),
            action("drop_table", "1", json!({})),
        ] {
            assert_eq!(classify(&a), Click::Stale, "{a:?}");
        }
    }
}
