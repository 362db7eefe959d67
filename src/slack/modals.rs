//! TEMPORARY stand-in until the modals branch is merged.
#![allow(dead_code, unused_variables)]
use crate::domain::model::*;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use slack_morphism::prelude::*;
fn v(cb: &str) -> SlackView {
    SlackView::Modal(SlackModalView::new("x".into(), vec![]).with_callback_id(cb.into()))
}
pub fn add_point_modal(meeting: MeetingId, context: &str) -> SlackView {
    v("add_point")
}
pub fn add_action_modal(meeting: MeetingId, context: &str, me: (&str, &str), partner: (&str, &str)) -> SlackView {
    v("add_action")
}
pub fn note_modal(meeting: MeetingId, context: &str) -> SlackView {
    v("add_note")
}
pub fn reschedule_modal(meeting: MeetingId, context: &str, current: NaiveDateTime) -> SlackView {
    v("reschedule")
}
pub fn setup_modal(default_tz: chrono_tz::Tz, workspace_templates: &[String]) -> SlackView {
    v("setup")
}
pub fn add_to_agenda_modal(choices: &[(SeriesId, String)], text: &str, permalink: Option<&str>) -> SlackView {
    v("add_to_agenda")
}
pub enum Submission {
    AddPoint {
        meeting: MeetingId,
        category: Category,
        text: String,
    },
    AddAction {
        meeting: MeetingId,
        text: String,
        owner: String,
        due: Option<NaiveDate>,
    },
    Note {
        meeting: MeetingId,
        text: String,
    },
    Reschedule {
        meeting: MeetingId,
        date: NaiveDate,
        time: NaiveTime,
    },
    Setup {
        report: String,
        cadence: Cadence,
        time: NaiveTime,
        duration_minutes: u32,
        tz: chrono_tz::Tz,
        template: Option<String>,
    },
    AddToAgenda {
        series: SeriesId,
        category: Category,
        text: String,
    },
    RateComment {
        meeting: MeetingId,
        score: u8,
        comment: String,
    },
}
pub struct FieldErrors(pub Vec<(&'static str, String)>);
pub enum SubmissionError {
    Fields(FieldErrors),
    UnknownCallback,
    BadMetadata,
}
pub fn read_submission(payload: &serde_json::Value) -> Result<Submission, SubmissionError> {
    Err(SubmissionError::UnknownCallback)
}
pub fn errors_response(e: &FieldErrors) -> serde_json::Value {
    serde_json::json!({})
}
pub fn main_block_of(s: &Submission) -> &'static str {
    "text"
}
