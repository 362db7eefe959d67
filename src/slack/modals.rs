//! Every modal of the Slack adapter (SPEC §6) and the reading of their
//! `view_submission` payloads.
//!
//! This module owns what each modal looks like (its `callback_id`, the
//! `block_id`/`action_id` of every input, its wording and defaults) and the
//! validation of what comes back: required fields present and non-blank,
//! text within [`MAX_TEXT_CHARS`], zones, times and dates that parse, and
//! select values among the ones the modal offered. Problems come back as
//! [`FieldErrors`], which [`errors_response`] turns into the body Slack shows
//! next to each field.
//!
//! It does **no I/O**: no store, no Web API, no clock. Callers pass in what a
//! modal shows (names, dates, zones) and re-check everything a submission
//! names against the verified caller — the meeting or series id in
//! `private_metadata`, the owner of an action item, the template name.
//! Here an id is only parsed; it is never trusted.
//!
//! Conventions:
//! * Each input uses the **same string as its `block_id` and its
//!   `action_id`** (the constants in [`field`]), so a value is found at
//!   `view.state.values[ID][ID]`, and a field error is keyed by that `ID`.
//! * `private_metadata` is the object's id as a decimal string (`"17"`), or
//!   empty (setup; the message shortcut without a source message), or
//!   `CHANNEL:TS` for the message shortcut with a source message.
//! * Text we show is `plain_text` everywhere, so a partner's display name or
//!   a quoted message cannot turn into markup or mentions.
//! * Every string is cut to Slack's limit (titles 24, option text 75, option
//!   value 150, placeholder 150, label 2,000) — Slack refuses the whole view
//!   over a single violation.
//!
//! Dynamic selects (the owner of an action item, the 1:1 picked in the message
//! shortcut, the agenda template in setup) are checked against the options the
//! view itself offered, which Slack sends back in `view.blocks` of every
//! `view_submission`. A value that the view did not offer — or a payload
//! without the view's blocks — is a field error. Fixed selects (category,
//! frequency, weekday, duration, score) are checked against their constant
//! lists.

use crate::domain::command::DateSpec;
use crate::domain::content::TEMPLATES;
use crate::domain::grammar::{self, MAX_TEXT_CHARS};
use crate::domain::model::{Cadence, Category, MeetingId, MonthWeek, SeriesId};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use slack_morphism::prelude::*;

/// The `callback_id` of each modal; [`read_submission`] dispatches on it.
pub mod callback {
    /// "Add talking point" (agenda button). Metadata: meeting id.
    pub const ADD_POINT: &str = "add_point";
    /// "Add action item" (agenda button). Metadata: meeting id.
    pub const ADD_ACTION: &str = "add_action";
    /// "Private note" (agenda button). Metadata: meeting id.
    pub const NOTE: &str = "add_note";
    /// "Reschedule" (agenda button, 🔁 reaction). Metadata: meeting id.
    pub const RESCHEDULE: &str = "reschedule";
    /// "Set up a 1:1". No metadata.
    pub const SETUP: &str = "setup";
    /// The "Add to 1:1 agenda" message shortcut. Metadata: empty or `CHANNEL:TS`.
    pub const ADD_TO_AGENDA: &str = "add_to_agenda";
    /// A rating's optional comment (after the 1–5 buttons). Metadata: meeting id.
    pub const RATE_COMMENT: &str = "rate_comment";
    /// An extra meeting of a 1:1, outside its cadence (metadata: the series id).
    pub const EXTRA_MEETING: &str = "extra_meeting";
}

/// The inputs of the modals. Each constant is both the input block's
/// `block_id` and its element's `action_id`.
pub mod field {
    /// Free text: a talking point, action item or private note
    /// (`plain_text_input`; multiline except for action items).
    pub const TEXT: &str = "text";
    /// Talking point category (`static_select`, values `Category::as_str`).
    pub const CATEGORY: &str = "category";
    /// Action item owner (`static_select`, values platform user ids).
    pub const OWNER: &str = "owner";
    /// Action item due date (`datepicker`, optional).
    pub const DUE: &str = "due";
    /// Reschedule: the new date (`datepicker`).
    pub const DATE: &str = "date";
    /// Reschedule: the new time; setup: the meeting time (`timepicker`, `HH:MM`).
    pub const TIME: &str = "time";
    /// Setup: the report (`users_select`).
    pub const REPORT: &str = "report";
    /// Setup: how often (`static_select`: weekly, every 2/3/4 weeks, monthly on the Nth).
    pub const FREQUENCY: &str = "frequency";
    /// Setup: the day of the week (`static_select`, values `monday` … `sunday`).
    pub const WEEKDAY: &str = "weekday";
    /// Setup: the meeting length (`static_select`, minutes).
    pub const DURATION: &str = "duration";
    /// Setup: the series' time zone (`plain_text_input`, an IANA name).
    pub const ZONE: &str = "zone";
    /// Setup: the agenda template (`static_select`, `none` or `template:NAME`).
    pub const TEMPLATE: &str = "template";
    /// Message shortcut: which 1:1 (`static_select`, values series ids).
    pub const SERIES: &str = "series";
    /// Rating: the score (`static_select`, `1` … `5`).
    pub const SCORE: &str = "score";
    /// Rating: the optional comment (`plain_text_input`, multiline).
    pub const COMMENT: &str = "comment";
}

// Slack's limits for views (reference §3).
const MAX_TITLE: usize = 24;
const MAX_LABEL: usize = 2000;
const MAX_HINT: usize = 2000;
const MAX_PLACEHOLDER: usize = 150;
const MAX_OPTIONS: usize = 100;
const MAX_OPTION_TEXT: usize = 75;
const MAX_OPTION_VALUE: usize = 150;
const MAX_CONTEXT_TEXT: usize = 3000;
const MAX_METADATA: usize = 3000;

const ELLIPSIS: char = '…';
/// How far user input is echoed in a field error.
const ECHO_CHARS: usize = 40;

/// The `template` select's value for "no template".
const NO_TEMPLATE: &str = "none";
/// Prefix of a template's value in the `template` select, so that no template
/// name can collide with [`NO_TEMPLATE`].
const TEMPLATE_PREFIX: &str = "template:";

/// Setup offers these lengths, in minutes; 30 is preselected.
const DURATIONS: [(u32, &str); 5] = [
    (15, "15 minutes"),
    (30, "30 minutes"),
    (45, "45 minutes"),
    (60, "1 hour"),
    (90, "1½ hours"),
];
const DEFAULT_DURATION: u32 = 30;

/// The setup time picker starts at 10:00.
const DEFAULT_SETUP_TIME: &str = "10:00";

#[derive(Debug, Clone, Copy)]
enum Frequency {
    Weeks(u32),
    Monthly(MonthWeek),
}

/// The `frequency` select of setup: `(value, label, meaning)`. Together with
/// the weekday select this covers every CADENCE except `every N weeks` with
/// N > 4 and `cron`, which stay available through the command.
const FREQUENCIES: [(&str, &str, Frequency); 9] = [
    ("weekly", "Weekly", Frequency::Weeks(1)),
    ("every_2_weeks", "Every 2 weeks", Frequency::Weeks(2)),
    ("every_3_weeks", "Every 3 weeks", Frequency::Weeks(3)),
    ("every_4_weeks", "Every 4 weeks", Frequency::Weeks(4)),
    (
        "monthly_first",
        "Monthly, on the first …",
        Frequency::Monthly(MonthWeek::First),
    ),
    (
        "monthly_second",
        "Monthly, on the second …",
        Frequency::Monthly(MonthWeek::Second),
    ),
    (
        "monthly_third",
        "Monthly, on the third …",
        Frequency::Monthly(MonthWeek::Third),
    ),
    (
        "monthly_fourth",
        "Monthly, on the fourth …",
        Frequency::Monthly(MonthWeek::Fourth),
    ),
    (
        "monthly_last",
        "Monthly, on the last …",
        Frequency::Monthly(MonthWeek::Last),
    ),
];

/// The `weekday` select of setup: `(value, label, day)`.
const WEEKDAYS: [(&str, &str, Weekday); 7] = [
    ("monday", "Monday", Weekday::Mon),
    ("tuesday", "Tuesday", Weekday::Tue),
    ("wednesday", "Wednesday", Weekday::Wed),
    ("thursday", "Thursday", Weekday::Thu),
    ("friday", "Friday", Weekday::Fri),
    ("saturday", "Saturday", Weekday::Sat),
    ("sunday", "Sunday", Weekday::Sun),
];

/// The `score` select of the rating modal: `(score, label)`.
const SCORES: [(u8, &str); 5] = [
    (1, "1 — not useful"),
    (2, "2 — a little useful"),
    (3, "3 — useful"),
    (4, "4 — very useful"),
    (5, "5 — extremely useful"),
];

// ---------------------------------------------------------------------------
// Building the views
// ---------------------------------------------------------------------------

/// `add_point`: a talking point for a meeting's shared agenda.
/// `context` names the partner and the meeting date ("1:1 with Rahul, Tue 2 Dec").
pub fn add_point_modal(meeting: MeetingId, context: &str) -> SlackView {
    let mut blocks = context_block(&[context]);
    blocks.push(
        input(
            field::TEXT,
            "Talking point",
            text_element(field::TEXT, "What would you like to talk about?", None, true),
        )
        .with_hint(plain("Both of you will see it on the agenda.", MAX_HINT))
        .into(),
    );
    blocks.push(input(field::CATEGORY, "Category", category_select()).into());
    modal(
        callback::ADD_POINT,
        "Add talking point",
        "Add",
        blocks,
        Some(meeting.to_string()),
    )
}

/// `add_action`: an action item with an owner (one of the two participants)
/// and an optional due date. `me` and `partner` are `(platform user id,
/// display name)`; the owner select offers exactly these two, partner first
/// and preselected.
pub fn add_action_modal(meeting: MeetingId, context: &str, me: (&str, &str), partner: (&str, &str)) -> SlackView {
    let partner_choice = choice(&display_name(partner.1), partner.0);
    let mut owners = vec![partner_choice.clone()];
    if me.0 != partner.0 {
        owners.push(choice(&format!("{} (you)", display_name(me.1)), me.0));
    }
    let owner = SlackBlockStaticSelectElement::new()
        .with_action_id(action_id(field::OWNER))
        .with_options(owners)
        .with_initial_option(partner_choice);
    let due = SlackBlockDatePickerElement::new()
        .with_action_id(action_id(field::DUE))
        .with_placeholder(plain("No due date", MAX_PLACEHOLDER));

    let mut blocks = context_block(&[context]);
    blocks.push(
        input(
            field::TEXT,
            "Action item",
            text_element(field::TEXT, "What needs to happen?", None, false),
        )
        .into(),
    );
    blocks.push(input(field::OWNER, "Owner", owner).into());
    blocks.push(input(field::DUE, "Due date", due).with_optional(true).into());
    modal(
        callback::ADD_ACTION,
        "Add action item",
        "Add",
        blocks,
        Some(meeting.to_string()),
    )
}

/// `add_note`: a private note on a meeting, visible only to its author.
pub fn note_modal(meeting: MeetingId, context: &str) -> SlackView {
    let mut blocks = context_block(&[context, "🔒 Only you will see this note."]);
    blocks.push(
        input(
            field::TEXT,
            "Note",
            text_element(field::TEXT, "Something to remember for this 1:1", None, true),
        )
        .into(),
    );
    modal(
        callback::NOTE,
        "Private note",
        "Save",
        blocks,
        Some(meeting.to_string()),
    )
}

/// `reschedule`: a new date and time for a meeting, both required, starting
/// at `current` (the meeting's current local date and time, as the caller
/// shows it). Whether the new moment is in the future is the caller's check.
pub fn reschedule_modal(meeting: MeetingId, context: &str, current: NaiveDateTime) -> SlackView {
    let date = SlackBlockDatePickerElement::new()
        .with_action_id(action_id(field::DATE))
        .with_initial_date(current.date().format("%Y-%m-%d").to_string());
    let time = SlackBlockTimePickerElement::new()
        .with_action_id(action_id(field::TIME))
        .with_initial_time(current.time().format("%H:%M").to_string());
    let mut blocks = context_block(&[context, "Your partner will be told about the new time."]);
    blocks.push(input(field::DATE, "New date", date).into());
    blocks.push(input(field::TIME, "New time", time).into());
    modal(
        callback::RESCHEDULE,
        "Reschedule",
        "Move meeting",
        blocks,
        Some(meeting.to_string()),
    )
}

/// `extra_meeting`: one more meeting of a 1:1 besides its cadence (answering
/// a `request`), at a date and time in the caller's zone.
pub fn extra_meeting_modal(series: SeriesId, context: &str, initial: NaiveDateTime) -> SlackView {
    let date = SlackBlockDatePickerElement::new()
        .with_action_id(action_id(field::DATE))
        .with_initial_date(initial.date().format("%Y-%m-%d").to_string());
    let time = SlackBlockTimePickerElement::new()
        .with_action_id(action_id(field::TIME))
        .with_initial_time(initial.time().format("%H:%M").to_string());
    let mut blocks = context_block(&[context, "Your partner will be told about the extra meeting."]);
    blocks.push(input(field::DATE, "Date", date).into());
    blocks.push(input(field::TIME, "Time", time).into());
    modal(
        callback::EXTRA_MEETING,
        "Extra 1:1",
        "Schedule",
        blocks,
        Some(series.to_string()),
    )
}

/// `setup`: a new 1:1 (or new settings for an existing one) with the caller
/// as the manager.
///
/// The cadence is two selects, "how often" (weekly, every 2, 3 or 4 weeks,
/// monthly on the first … last) and "on" (a weekday): two clicks for the
/// cadences nearly everyone uses, and nothing to mistype. Rarer cadences
/// (`every 6 weeks`, `cron "…"`) stay with the command, which the hint names.
/// The weekday has no default, so the day is always a deliberate choice.
///
/// `report` preselects the person (e.g. from a `request` DM's button);
/// `default_tz` is the caller's zone; `workspace_templates` are the
/// workspace's own template names, offered after the built-in ones (up to
/// Slack's 100 options; a name too long for an option value is left out).
pub fn setup_modal(report: Option<&str>, default_tz: Tz, workspace_templates: &[String]) -> SlackView {
    let mut person = SlackBlockUsersSelectElement::new()
        .with_action_id(action_id(field::REPORT))
        .with_placeholder(plain("Choose a person", MAX_PLACEHOLDER));
    if let Some(user) = report.filter(|u| is_user_id(u)) {
        person = person.with_initial_user(user.to_string());
    }

    let frequencies: Vec<Choice> = FREQUENCIES.iter().map(|(v, l, _)| choice(l, v)).collect();
    let weekly = frequencies.first().cloned();
    let mut frequency = SlackBlockStaticSelectElement::new()
        .with_action_id(action_id(field::FREQUENCY))
        .with_options(frequencies);
    if let Some(weekly) = weekly {
        frequency = frequency.with_initial_option(weekly);
    }
    let weekday = SlackBlockStaticSelectElement::new()
        .with_action_id(action_id(field::WEEKDAY))
        .with_placeholder(plain("Choose a day", MAX_PLACEHOLDER))
        .with_options(WEEKDAYS.iter().map(|(v, l, _)| choice(l, v)).collect());

    let time = SlackBlockTimePickerElement::new()
        .with_action_id(action_id(field::TIME))
        .with_initial_time(DEFAULT_SETUP_TIME.to_string());

    let durations: Vec<Choice> = DURATIONS.iter().map(|(m, l)| choice(l, &m.to_string())).collect();
    let mut duration = SlackBlockStaticSelectElement::new().with_action_id(action_id(field::DURATION));
    if let Some(d) = durations.iter().find(|c| c.value == DEFAULT_DURATION.to_string()) {
        duration = duration.with_initial_option(d.clone());
    }
    let duration = duration.with_options(durations);

    let zone = SlackBlockPlainTextInputElement::new()
        .with_action_id(action_id(field::ZONE))
        .with_initial_value(default_tz.name().to_string())
        .with_placeholder(plain("Europe/Berlin", MAX_PLACEHOLDER))
        .with_max_length(64);

    let templates = template_choices(workspace_templates);
    let none = templates.first().cloned();
    let mut template = SlackBlockStaticSelectElement::new()
        .with_action_id(action_id(field::TEMPLATE))
        .with_options(templates);
    if let Some(none) = none {
        template = template.with_initial_option(none);
    }

    let blocks: Vec<SlackBlock> = vec![
        context(
            "You'll be the manager of this 1:1: only you can change its schedule, pause or end it. \
             Setting up again with the same person updates it.",
        ),
        input(field::REPORT, "Who is it with?", person).into(),
        input(field::FREQUENCY, "How often?", frequency)
            .with_hint(plain(
                "Need something else, like every 6 weeks or a cron schedule? Use /oneonone setup @person CADENCE.",
                MAX_HINT,
            ))
            .into(),
        input(field::WEEKDAY, "On", weekday).into(),
        input(field::TIME, "At", time).into(),
        input(field::DURATION, "For", duration).into(),
        input(field::ZONE, "Time zone", zone)
            .with_hint(plain(
                "The meeting's time zone, as a name like Europe/Berlin or America/New_York.",
                MAX_HINT,
            ))
            .into(),
        input(field::TEMPLATE, "Agenda template", template)
            .with_hint(plain("Seeded into each new meeting's agenda.", MAX_HINT))
            .into(),
    ];
    modal(callback::SETUP, "Set up a 1:1", "Set up", blocks, None)
}

/// A message the "Add to 1:1 agenda" shortcut was used on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    /// Channel id (`C…`, `D…`, `G…`).
    pub channel: String,
    /// The message's `ts` (`1764316700.000200`).
    pub ts: String,
}

impl MessageRef {
    /// `CHANNEL:TS`, as carried in `private_metadata`.
    fn encode(&self) -> Option<String> {
        let s = format!("{}:{}", self.channel, self.ts);
        MessageRef::decode(&s).is_some().then_some(s)
    }

    fn decode(s: &str) -> Option<MessageRef> {
        let (channel, ts) = s.split_once(':')?;
        let channel_ok =
            (2..=32).contains(&channel.len()) && channel.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let ts_ok = ts.len() <= 32 && ts.split_once('.').is_some_and(|(a, b)| is_digits(a) && is_digits(b));
        (channel_ok && ts_ok).then(|| MessageRef {
            channel: channel.to_string(),
            ts: ts.to_string(),
        })
    }
}

/// `add_to_agenda`: the message shortcut. `choices` are the caller's 1:1s as
/// `(series id, partner name)`, in the order to show them (at most 100 are
/// offered; a single one is preselected). The talking point starts as the
/// message's `text` — as Slack sends it, mrkdwn-escaped: `&lt;`, `&gt;` and
/// `&amp;` are decoded — then a line break and the `permalink`, cut to
/// [`MAX_TEXT_CHARS`] (the text is shortened, the link kept). `source` is
/// carried in `private_metadata` and comes back in the submission.
///
/// With no 1:1s at all the modal only explains how to start one (no submit
/// button: there is nothing to submit).
pub fn add_to_agenda_modal(
    choices: &[(SeriesId, String)],
    text: &str,
    permalink: Option<&str>,
    source: Option<&MessageRef>,
) -> SlackView {
    if choices.is_empty() {
        let blocks = vec![
            SlackSectionBlock::new()
                .with_text(SlackBlockText::Plain(SlackBlockPlainText::new(
                    "You are not in any 1:1 yet, so there is no agenda to add this to. \
                     Start one with /oneonone setup @person weekly on tuesday."
                        .to_string(),
                )))
                .into(),
        ];
        let view = SlackModalView::new(plain("Add to 1:1 agenda", MAX_TITLE), blocks)
            .with_close(plain("Close", MAX_TITLE))
            .with_callback_id(SlackCallbackId(callback::ADD_TO_AGENDA.to_string()));
        return SlackView::Modal(view);
    }

    let options: Vec<Choice> = choices
        .iter()
        .take(MAX_OPTIONS)
        .map(|(id, name)| {
            let name = name.trim();
            let label = if name.is_empty() {
                format!("1:1 #{id}")
            } else {
                format!("1:1 with {name}")
            };
            choice(&label, &id.to_string())
        })
        .collect();
    let mut series = SlackBlockStaticSelectElement::new()
        .with_action_id(action_id(field::SERIES))
        .with_placeholder(plain("Choose a 1:1", MAX_PLACEHOLDER));
    if let [only] = options.as_slice() {
        series = series.with_initial_option(only.clone());
    }
    let series = series.with_options(options);

    let prefill = shortcut_text(text, permalink);
    let initial = (!prefill.trim().is_empty()).then_some(prefill);
    let blocks: Vec<SlackBlock> = vec![
        input(field::SERIES, "Which 1:1?", series)
            .with_hint(plain("It goes on the next meeting's agenda.", MAX_HINT))
            .into(),
        input(
            field::TEXT,
            "Talking point",
            text_element(field::TEXT, "What would you like to talk about?", initial, true),
        )
        .into(),
        input(field::CATEGORY, "Category", category_select()).into(),
    ];
    modal(
        callback::ADD_TO_AGENDA,
        "Add to 1:1 agenda",
        "Add",
        blocks,
        source.and_then(MessageRef::encode),
    )
}

/// `rate_comment`: the rating of a held meeting with an optional comment,
/// opened from "add a comment" after the 1–5 buttons. The score select starts
/// at `score` (clamped to 1–5), so the rating can still be changed here.
pub fn rate_comment_modal(meeting: MeetingId, score: u8) -> SlackView {
    let scores: Vec<Choice> = SCORES.iter().map(|(s, l)| choice(l, &s.to_string())).collect();
    let initial = usize::from(score.clamp(1, 5) - 1);
    let mut select = SlackBlockStaticSelectElement::new().with_action_id(action_id(field::SCORE));
    if let Some(c) = scores.get(initial) {
        select = select.with_initial_option(c.clone());
    }
    let select = select.with_options(scores);
    let blocks: Vec<SlackBlock> = vec![
        context("Ratings are only ever shown as an average, never one by one."),
        input(field::SCORE, "Was this 1:1 useful?", select).into(),
        input(
            field::COMMENT,
            "Comment",
            text_element(
                field::COMMENT,
                "What made it useful, or what would make it better?",
                None,
                true,
            ),
        )
        .with_optional(true)
        .into(),
    ];
    modal(
        callback::RATE_COMMENT,
        "Rate this 1:1",
        "Save",
        blocks,
        Some(meeting.to_string()),
    )
}

type Choice = SlackBlockChoiceItem<SlackBlockPlainTextOnly>;

fn modal(callback: &str, title: &str, submit: &str, blocks: Vec<SlackBlock>, metadata: Option<String>) -> SlackView {
    let mut view = SlackModalView::new(plain(title, MAX_TITLE), blocks)
        .with_submit(plain(submit, MAX_TITLE))
        .with_close(plain("Cancel", MAX_TITLE))
        .with_callback_id(SlackCallbackId(callback.to_string()));
    if let Some(m) = metadata.filter(|m| !m.is_empty() && m.chars().count() <= MAX_METADATA) {
        view = view.with_private_metadata(m);
    }
    SlackView::Modal(view)
}

/// A plain text object, cut to `max` characters; never empty (Slack refuses
/// empty text objects).
fn plain(s: &str, max: usize) -> SlackBlockPlainTextOnly {
    let s = s.trim();
    let s = if s.is_empty() { "—" } else { s };
    SlackBlockPlainText::new(clip(s, max)).into()
}

fn action_id(id: &str) -> SlackActionId {
    SlackActionId(id.to_string())
}

fn input(id: &str, label: &str, element: impl Into<SlackInputBlockElement>) -> SlackInputBlock {
    SlackInputBlock::new(plain(label, MAX_LABEL), element.into()).with_block_id(SlackBlockId(id.to_string()))
}

/// A text input of up to [`MAX_TEXT_CHARS`]; `initial` must already fit.
fn text_element(
    id: &str,
    placeholder: &str,
    initial: Option<String>,
    multiline: bool,
) -> SlackBlockPlainTextInputElement {
    let el = SlackBlockPlainTextInputElement::new()
        .with_action_id(action_id(id))
        .with_placeholder(plain(placeholder, MAX_PLACEHOLDER))
        .with_multiline(multiline)
        .with_max_length(MAX_TEXT_CHARS as u64);
    match initial {
        Some(v) => el.with_initial_value(clip(&v, MAX_TEXT_CHARS)),
        None => el,
    }
}

fn choice(label: &str, value: &str) -> Choice {
    SlackBlockChoiceItem::new(plain(label, MAX_OPTION_TEXT), value.to_string())
}

/// The category select, "Other" preselected.
fn category_select() -> SlackBlockStaticSelectElement {
    let options: Vec<Choice> = Category::ALL.iter().map(|c| choice(c.title(), c.as_str())).collect();
    let other = choice(Category::Other.title(), Category::Other.as_str());
    SlackBlockStaticSelectElement::new()
        .with_action_id(action_id(field::CATEGORY))
        .with_options(options)
        .with_initial_option(other)
}

/// "No template", the built-in templates, then the workspace's own, at most
/// [`MAX_OPTIONS`] in all and without duplicate values.
fn template_choices(workspace: &[String]) -> Vec<Choice> {
    let mut out = vec![choice("No template", NO_TEMPLATE)];
    let mut seen: Vec<String> = Vec::new();
    let builtin = TEMPLATES.iter().map(|t| (capitalize(t.name), t.name));
    let own = workspace.iter().map(|n| (n.trim().to_string(), n.trim()));
    for (label, name) in builtin.chain(own) {
        if out.len() >= MAX_OPTIONS {
            break;
        }
        let value = format!("{TEMPLATE_PREFIX}{name}");
        let key = name.to_lowercase();
        if name.is_empty() || value.chars().count() > MAX_OPTION_VALUE || seen.contains(&key) {
            continue;
        }
        seen.push(key);
        out.push(choice(&label, &value));
    }
    out
}

/// One context block with a plain text element per non-blank line, or none.
fn context_block(lines: &[&str]) -> Vec<SlackBlock> {
    let elements: Vec<SlackContextBlockElement> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(|l| SlackContextBlockElement::Plain(SlackBlockPlainText::new(clip(l, MAX_CONTEXT_TEXT))))
        .collect();
    if elements.is_empty() {
        Vec::new()
    } else {
        vec![SlackContextBlock::new(elements).into()]
    }
}

fn context(line: &str) -> SlackBlock {
    SlackContextBlock::new(vec![SlackContextBlockElement::Plain(SlackBlockPlainText::new(clip(
        line,
        MAX_CONTEXT_TEXT,
    )))])
    .into()
}

/// The shortcut's prefilled talking point: the message text (entities
/// decoded), a line break and the permalink, at most [`MAX_TEXT_CHARS`]
/// characters. When too long the text is cut (ending in "…") and the link
/// kept; a link that would leave no room for text is dropped.
fn shortcut_text(text: &str, permalink: Option<&str>) -> String {
    let text = decode_entities(text.trim());
    let link = permalink
        .map(str::trim)
        .filter(|l| !l.is_empty() && l.chars().count() + 2 <= MAX_TEXT_CHARS);
    match link {
        None => clip(&text, MAX_TEXT_CHARS),
        Some(link) if text.is_empty() => link.to_string(),
        Some(link) => {
            let budget = MAX_TEXT_CHARS - 1 - link.chars().count();
            format!("{}\n{link}", clip(&text, budget))
        }
    }
}

/// Slack escapes `&`, `<` and `>` in message text.
fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// `s` cut to at most `max` characters, ending in "…" when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push(ELLIPSIS);
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn display_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        "Your partner".to_string()
    } else {
        name.to_string()
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// A Slack user id: `U…` or `W…`, upper-case letters and digits.
fn is_user_id(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.starts_with(['U', 'W'])
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

// ---------------------------------------------------------------------------
// Reading submissions
// ---------------------------------------------------------------------------

/// What a submitted modal asks for. Every id in it is only parsed: the caller
/// re-checks it against the verified user before acting.
#[derive(Debug, Clone, PartialEq)]
pub enum Submission {
    AddPoint {
        meeting: MeetingId,
        category: Category,
        text: String,
    },
    AddAction {
        meeting: MeetingId,
        text: String,
        /// Platform user id of the owner (one of the two the modal offered).
        owner: String,
        due: Option<NaiveDate>,
    },
    Note {
        meeting: MeetingId,
        text: String,
    },
    /// Local date and time as picked; the caller applies the zone and checks
    /// it is in the future.
    Reschedule {
        meeting: MeetingId,
        date: NaiveDate,
        time: NaiveTime,
    },
    Setup {
        /// Platform user id of the report (never the submitter).
        report: String,
        cadence: Cadence,
        time: NaiveTime,
        duration_minutes: u32,
        tz: Tz,
        /// A built-in or workspace template name; the caller checks it exists.
        template: Option<String>,
    },
    AddToAgenda {
        series: SeriesId,
        category: Category,
        text: String,
        /// The message the shortcut was used on, when the modal carried it.
        source: Option<MessageRef>,
    },
    RateComment {
        meeting: MeetingId,
        score: u8,
        /// `None` when left blank.
        comment: Option<String>,
    },
    /// One more meeting of a 1:1 at a local date and time of the caller.
    ExtraMeeting {
        series: SeriesId,
        date: NaiveDate,
        time: NaiveTime,
    },
}

/// Field-level problems, `(block_id, message for the person)`, answered to
/// Slack as `{"response_action":"errors","errors":{block_id: message}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldErrors(pub Vec<(&'static str, String)>);

impl FieldErrors {
    /// The block ids with a problem, in order.
    pub fn block_ids(&self) -> Vec<&'static str> {
        self.0.iter().map(|(id, _)| *id).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    /// Show these next to the fields (see [`errors_response`]).
    #[error("invalid fields: {}", .0.block_ids().join(", "))]
    Fields(FieldErrors),
    /// Not one of our modals (the callback id, cut to 64 characters).
    #[error("unknown modal callback id {0:?}")]
    UnknownCallback(String),
    /// `private_metadata` is not what this modal carries: a bug or a forgery.
    #[error("malformed private_metadata")]
    BadMetadata,
    /// Not a `view_submission` payload at all (no `view` object, another `type`).
    #[error("not a view_submission payload")]
    Malformed,
}

/// The JSON body Slack wants for field errors. With several messages for one
/// block, the first is shown.
pub fn errors_response(e: &FieldErrors) -> Value {
    let mut errors = Map::new();
    for (id, message) in &e.0 {
        if !errors.contains_key(*id) {
            errors.insert((*id).to_string(), Value::String(message.clone()));
        }
    }
    json!({ "response_action": "errors", "errors": errors })
}

/// Reads a `view_submission` payload (the whole payload JSON). Never panics,
/// whatever the JSON; all field problems of a submission are reported at once.
pub fn read_submission(payload: &Value) -> Result<Submission, SubmissionError> {
    if payload
        .get("type")
        .is_some_and(|t| t.as_str() != Some("view_submission"))
    {
        return Err(SubmissionError::Malformed);
    }
    let Some(view) = payload.get("view").filter(|v| v.is_object()) else {
        return Err(SubmissionError::Malformed);
    };
    let callback = view.get("callback_id").and_then(Value::as_str).unwrap_or_default();
    let metadata = view.get("private_metadata").and_then(Value::as_str).unwrap_or_default();
    let submitter = payload.pointer("/user/id").and_then(Value::as_str);
    let mut form = Form::new(view);

    match callback {
        callback::ADD_POINT => {
            let meeting = MeetingId(parse_id(metadata)?);
            let text = form.required_text(field::TEXT, "Write the talking point first.");
            let category = form.category(field::CATEGORY);
            form.finish(|| {
                Some(Submission::AddPoint {
                    meeting,
                    category: category?,
                    text: text?,
                })
            })
        }
        callback::ADD_ACTION => {
            let meeting = MeetingId(parse_id(metadata)?);
            let text = form.required_text(field::TEXT, "Write the action item first.");
            let owner = match form.offered_choice(field::OWNER, "Choose who owns this action item.") {
                Some(o) if !is_user_id(&o) => form.fail(field::OWNER, "Choose the owner from the list."),
                owner => owner,
            };
            let due = form.optional_date(field::DUE);
            form.finish(|| {
                Some(Submission::AddAction {
                    meeting,
                    text: text?,
                    owner: owner?,
                    due: due?,
                })
            })
        }
        callback::NOTE => {
            let meeting = MeetingId(parse_id(metadata)?);
            let text = form.required_text(field::TEXT, "Write the note first.");
            form.finish(|| Some(Submission::Note { meeting, text: text? }))
        }
        callback::RESCHEDULE => {
            let meeting = MeetingId(parse_id(metadata)?);
            let date = form.required_date(field::DATE);
            let time = form.time(field::TIME);
            form.finish(|| {
                Some(Submission::Reschedule {
                    meeting,
                    date: date?,
                    time: time?,
                })
            })
        }
        callback::EXTRA_MEETING => {
            let series = SeriesId(parse_id(metadata)?);
            let date = form.required_date(field::DATE);
            let time = form.time(field::TIME);
            form.finish(|| {
                Some(Submission::ExtraMeeting {
                    series,
                    date: date?,
                    time: time?,
                })
            })
        }
        callback::SETUP => {
            if !metadata.is_empty() {
                return Err(SubmissionError::BadMetadata);
            }
            let report = form.report(field::REPORT, submitter);
            let cadence = form.cadence();
            let time = form.time(field::TIME);
            let duration = form.duration(field::DURATION);
            let tz = form.zone(field::ZONE);
            let template = form.template(field::TEMPLATE);
            form.finish(|| {
                Some(Submission::Setup {
                    report: report?,
                    cadence: cadence?,
                    time: time?,
                    duration_minutes: duration?,
                    tz: tz?,
                    template: template?,
                })
            })
        }
        callback::ADD_TO_AGENDA => {
            let source = if metadata.is_empty() {
                None
            } else {
                Some(MessageRef::decode(metadata).ok_or(SubmissionError::BadMetadata)?)
            };
            let series = match form.offered_choice(field::SERIES, "Choose the 1:1 to add this to.") {
                None => None,
                Some(v) => match parse_id(&v) {
                    Ok(id) => Some(SeriesId(id)),
                    Err(_) => form.fail(field::SERIES, "Choose the 1:1 from the list."),
                },
            };
            let text = form.required_text(field::TEXT, "Write the talking point first.");
            let category = form.category(field::CATEGORY);
            form.finish(|| {
                Some(Submission::AddToAgenda {
                    series: series?,
                    category: category?,
                    text: text?,
                    source,
                })
            })
        }
        callback::RATE_COMMENT => {
            let meeting = MeetingId(parse_id(metadata)?);
            let score = form.score(field::SCORE);
            let comment = form.optional_text(field::COMMENT);
            form.finish(|| {
                Some(Submission::RateComment {
                    meeting,
                    score: score?,
                    comment: comment?,
                })
            })
        }
        other => Err(SubmissionError::UnknownCallback(clip(other, 64))),
    }
}

/// An object id in `private_metadata` or an option value: decimal digits only
/// (no sign, no spaces), fitting an `i64`.
fn parse_id(s: &str) -> Result<i64, SubmissionError> {
    if !is_digits(s) {
        return Err(SubmissionError::BadMetadata);
    }
    s.parse().map_err(|_| SubmissionError::BadMetadata)
}

/// `s` quoted for a field error, cut to [`ECHO_CHARS`].
fn quoted(s: &str) -> String {
    format!("“{}”", clip(s.trim(), ECHO_CHARS))
}

/// `10000` → `"10,000"`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The submitted view's state and blocks, and the problems found so far.
/// Every reader returns `None` exactly when it recorded an error.
struct Form<'a> {
    values: Option<&'a Map<String, Value>>,
    blocks: &'a [Value],
    errors: Vec<(&'static str, String)>,
}

impl<'a> Form<'a> {
    fn new(view: &'a Value) -> Self {
        Form {
            values: view.pointer("/state/values").and_then(Value::as_object),
            blocks: view.get("blocks").and_then(Value::as_array).map_or(&[], Vec::as_slice),
            errors: Vec::new(),
        }
    }

    fn fail<T>(&mut self, id: &'static str, message: impl Into<String>) -> Option<T> {
        self.errors.push((id, message.into()));
        None
    }

    fn finish(self, build: impl FnOnce() -> Option<Submission>) -> Result<Submission, SubmissionError> {
        if !self.errors.is_empty() {
            return Err(SubmissionError::Fields(FieldErrors(self.errors)));
        }
        build().ok_or(SubmissionError::Malformed)
    }

    /// `values[id][id]`, the state of one input.
    fn state(&self, id: &str) -> Option<&'a Value> {
        self.values?.get(id)?.get(id).filter(|v| v.is_object())
    }

    /// A string member of the input's state; `None` when absent, null or not a string.
    fn member(&self, id: &str, key: &str) -> Option<&'a str> {
        self.state(id)?.get(key)?.as_str()
    }

    fn selected(&self, id: &str) -> Option<&'a str> {
        self.state(id)?.get("selected_option")?.get("value")?.as_str()
    }

    /// Trimmed text: `Ok(None)` when blank, an error message when too long.
    fn text_of(&self, id: &str) -> Result<Option<String>, String> {
        let text = self.member(id, "value").unwrap_or_default().trim();
        if text.is_empty() {
            return Ok(None);
        }
        let n = text.chars().count();
        if n > MAX_TEXT_CHARS {
            return Err(format!(
                "That's {} characters — the limit is {}. Shorten it, or split it in two.",
                thousands(n),
                thousands(MAX_TEXT_CHARS)
            ));
        }
        Ok(Some(text.to_string()))
    }

    fn required_text(&mut self, id: &'static str, if_blank: &str) -> Option<String> {
        match self.text_of(id) {
            Ok(Some(t)) => Some(t),
            Ok(None) => self.fail(id, if_blank),
            Err(m) => self.fail(id, m),
        }
    }

    /// `Some(None)` when blank.
    fn optional_text(&mut self, id: &'static str) -> Option<Option<String>> {
        match self.text_of(id) {
            Ok(t) => Some(t),
            Err(m) => self.fail(id, m),
        }
    }

    fn category(&mut self, id: &'static str) -> Option<Category> {
        match self.selected(id) {
            None => self.fail(id, "Choose a category."),
            Some(v) => match Category::ALL.iter().find(|c| c.as_str() == v) {
                Some(c) => Some(*c),
                None => self.fail(id, "That category doesn't exist — choose one from the list."),
            },
        }
    }

    /// The values the view offered in the select `id` (options and option groups).
    fn offered(&self, id: &str) -> Vec<&'a str> {
        let element = self
            .blocks
            .iter()
            .filter(|b| b.get("block_id").and_then(Value::as_str) == Some(id))
            .filter_map(|b| b.get("element"))
            .find(|e| e.get("action_id").and_then(Value::as_str) == Some(id));
        let Some(element) = element else {
            return Vec::new();
        };
        let options = element.get("options").and_then(Value::as_array).into_iter().flatten();
        let grouped = element
            .get("option_groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| g.get("options").and_then(Value::as_array))
            .flatten();
        options
            .chain(grouped)
            .filter_map(|o| o.get("value").and_then(Value::as_str))
            .collect()
    }

    /// A select whose options depend on the caller: the value must be one the
    /// view offered.
    fn offered_choice(&mut self, id: &'static str, if_missing: &str) -> Option<String> {
        match self.selected(id) {
            None => self.fail(id, if_missing),
            Some(v) if self.offered(id).contains(&v) => Some(v.to_string()),
            Some(_) => self.fail(id, "That choice isn't available — choose one from the list."),
        }
    }

    fn date_of(&mut self, id: &'static str, s: &str) -> Option<NaiveDate> {
        match grammar::parse_date_str(s) {
            Some(DateSpec::On(d)) => Some(d),
            _ => self.fail(id, format!("{} isn't a date — pick one from the calendar.", quoted(s))),
        }
    }

    fn required_date(&mut self, id: &'static str) -> Option<NaiveDate> {
        match self.member(id, "selected_date") {
            None => self.fail(id, "Pick a date."),
            Some(s) => self.date_of(id, s),
        }
    }

    /// `Some(None)` when no date was picked.
    fn optional_date(&mut self, id: &'static str) -> Option<Option<NaiveDate>> {
        match self.member(id, "selected_date") {
            None => Some(None),
            Some(s) => self.date_of(id, s).map(Some),
        }
    }

    fn time(&mut self, id: &'static str) -> Option<NaiveTime> {
        match self.member(id, "selected_time") {
            None => self.fail(id, "Pick a time."),
            Some(s) => match grammar::parse_time(s) {
                Some(t) => Some(t),
                None => self.fail(id, format!("{} isn't a time — pick one from the list.", quoted(s))),
            },
        }
    }

    fn report(&mut self, id: &'static str, submitter: Option<&str>) -> Option<String> {
        match self.member(id, "selected_user") {
            None => self.fail(id, "Choose the person this 1:1 is with."),
            Some(u) if !is_user_id(u) => self.fail(id, "Choose a person from the list."),
            Some(u) if Some(u) == submitter => {
                self.fail(id, "A 1:1 needs two people — choose someone other than yourself.")
            }
            Some(u) => Some(u.to_string()),
        }
    }

    /// The cadence from the frequency and weekday selects.
    fn cadence(&mut self) -> Option<Cadence> {
        let frequency = match self.selected(field::FREQUENCY) {
            None => self.fail(field::FREQUENCY, "Choose how often you'll meet."),
            Some(v) => match FREQUENCIES.iter().find(|(value, _, _)| *value == v) {
                Some((_, _, f)) => Some(*f),
                None => self.fail(field::FREQUENCY, "Choose how often from the list."),
            },
        };
        let weekday = match self.selected(field::WEEKDAY) {
            None => self.fail(field::WEEKDAY, "Choose the day of the week."),
            Some(v) => match WEEKDAYS.iter().find(|(value, _, _)| *value == v) {
                Some((_, _, d)) => Some(*d),
                None => self.fail(field::WEEKDAY, "Choose a day from the list."),
            },
        };
        Some(match frequency? {
            Frequency::Weeks(interval) => Cadence::Weekly {
                interval,
                weekday: weekday?,
            },
            Frequency::Monthly(week) => Cadence::Monthly {
                week,
                weekday: weekday?,
            },
        })
    }

    fn duration(&mut self, id: &'static str) -> Option<u32> {
        match self.selected(id) {
            None => self.fail(id, "Choose how long the meeting is."),
            Some(v) => match DURATIONS.iter().find(|(m, _)| m.to_string() == v) {
                Some((m, _)) => Some(*m),
                None => self.fail(id, "Choose a length from the list."),
            },
        }
    }

    fn zone(&mut self, id: &'static str) -> Option<Tz> {
        let text = self.member(id, "value").unwrap_or_default().trim();
        if text.is_empty() {
            return self.fail(id, "Give a time zone, like Europe/Berlin.");
        }
        match grammar::parse_zone(text) {
            Some(tz) => Some(tz),
            None => self.fail(
                id,
                format!(
                    "I don't know the time zone {} — use a name like Europe/Berlin or America/New_York.",
                    quoted(text)
                ),
            ),
        }
    }

    /// `Some(None)` for "No template".
    fn template(&mut self, id: &'static str) -> Option<Option<String>> {
        match self.selected(id) {
            None => self.fail(id, "Choose a template, or No template."),
            Some(NO_TEMPLATE) => Some(None),
            Some(v) => match v.strip_prefix(TEMPLATE_PREFIX) {
                Some(name) if !name.trim().is_empty() && self.offered(id).contains(&v) => Some(Some(name.to_string())),
                _ => self.fail(id, "That template isn't available — choose one from the list."),
            },
        }
    }

    fn score(&mut self, id: &'static str) -> Option<u8> {
        match self.selected(id) {
            None => self.fail(id, "Choose a rating from 1 to 5."),
            Some(v) => match SCORES.iter().find(|(s, _)| s.to_string() == v) {
                Some((s, _)) => Some(*s),
                None => self.fail(id, "Choose a rating from 1 to 5."),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slack::render::{MAX_VIEW_BLOCKS, validate_blocks};

    const ME: (&str, &str) = ("U0MANAGER1", "Maria");
    const PARTNER: (&str, &str) = ("U0REPORT01", "Rahul");
    const CONTEXT: &str = "1:1 with Rahul · Tue 2 Dec 2025";

    fn all_views() -> Vec<(&'static str, SlackView)> {
        let many: Vec<(SeriesId, String)> = (1..=130).map(|i| (SeriesId(i), format!("Person {i}"))).collect();
        let long_templates: Vec<String> = (0..120).map(|i| format!("Team template {i}")).collect();
        let current = NaiveDate::from_ymd_opt(2025, 12, 2)
            .and_then(|d| d.and_hms_opt(10, 30, 0))
            .expect("valid");
        vec![
            ("add_point", add_point_modal(MeetingId(17), CONTEXT)),
            ("add_point without context", add_point_modal(MeetingId(17), "  ")),
            ("add_action", add_action_modal(MeetingId(17), CONTEXT, ME, PARTNER)),
            (
                "add_action with blank names",
                add_action_modal(MeetingId(17), CONTEXT, ("U1", ""), ("U2", " ")),
            ),
            ("note", note_modal(MeetingId(17), CONTEXT)),
            ("reschedule", reschedule_modal(MeetingId(17), CONTEXT, current)),
            (
                "setup",
                setup_modal(None, Tz::Europe__Berlin, &["Quarterly".to_string()]),
            ),
            (
                "setup with many templates",
                setup_modal(Some("U0REPORT01"), Tz::UTC, &long_templates),
            ),
            (
                "add_to_agenda",
                add_to_agenda_modal(
                    &[(SeriesId(3), "Rahul".to_string()), (SeriesId(4), "Lena".to_string())],
                    "Can we revisit on-call rotation fairness?",
                    Some("https://example.slack.com/archives/C0CHANNEL1/p1764316700000200"),
                    None,
                ),
            ),
            (
                "add_to_agenda with 130 1:1s",
                add_to_agenda_modal(&many, &"x".repeat(5000), None, None),
            ),
            (
                "add_to_agenda without 1:1s",
                add_to_agenda_modal(&[], "hello", None, None),
            ),
            ("rate_comment", rate_comment_modal(MeetingId(17), 4)),
            ("rate_comment with a score of 0", rate_comment_modal(MeetingId(17), 0)),
        ]
    }

    fn chars(v: &Value) -> usize {
        v.as_str().map_or(0, |s| s.chars().count())
    }

    /// A plain text object of 1 to `max` characters.
    fn check_plain(problems: &mut Vec<String>, at: &str, t: &Value, max: usize) {
        if t["type"] != "plain_text" {
            problems.push(format!("{at}: not plain_text"));
        }
        let n = chars(&t["text"]);
        if n == 0 || n > max {
            problems.push(format!("{at}: {n} characters, not 1 to {max}"));
        }
    }

    /// Slack's view-level and input-block limits, which `validate_blocks`
    /// (written for messages) does not look at.
    fn view_problems(view: &Value) -> Vec<String> {
        let mut p = validate_blocks(&view["blocks"], MAX_VIEW_BLOCKS);
        check_plain(&mut p, "title", &view["title"], MAX_TITLE);
        for key in ["submit", "close"] {
            if !view[key].is_null() {
                check_plain(&mut p, key, &view[key], MAX_TITLE);
            }
        }
        if chars(&view["private_metadata"]) > MAX_METADATA {
            p.push("private_metadata too long".into());
        }
        let callback = chars(&view["callback_id"]);
        if callback == 0 || callback > 255 {
            p.push(format!("callback_id: {callback} characters"));
        }
        let has_inputs = view["blocks"]
            .as_array()
            .is_some_and(|bs| bs.iter().any(|b| b["type"] == "input"));
        if has_inputs && view["submit"].is_null() {
            p.push("inputs without a submit button".into());
        }
        for (i, b) in view["blocks"].as_array().into_iter().flatten().enumerate() {
            if b["type"] != "input" {
                continue;
            }
            let at = format!("blocks[{i}]");
            let el = &b["element"];
            let block_id = b["block_id"].as_str().unwrap_or_default();
            let action_id = el["action_id"].as_str().unwrap_or_default();
            if block_id.is_empty() || action_id != block_id || block_id.len() > 255 {
                p.push(format!("{at}: block_id {block_id:?} / action_id {action_id:?}"));
            }
            check_plain(&mut p, &format!("{at}.label"), &b["label"], MAX_LABEL);
            if !b["hint"].is_null() {
                check_plain(&mut p, &format!("{at}.hint"), &b["hint"], MAX_HINT);
            }
            if !el["placeholder"].is_null() {
                check_plain(
                    &mut p,
                    &format!("{at}.placeholder"),
                    &el["placeholder"],
                    MAX_PLACEHOLDER,
                );
            }
            if let Some(max) = el["max_length"].as_u64() {
                if max > 3000 {
                    p.push(format!("{at}: max_length {max}"));
                }
                if chars(&el["initial_value"]) as u64 > max {
                    p.push(format!("{at}: initial_value longer than max_length"));
                }
            }
            if let Some(options) = el["options"].as_array() {
                if options.is_empty() || options.len() > MAX_OPTIONS {
                    p.push(format!("{at}: {} options", options.len()));
                }
                let mut values = Vec::new();
                for (j, o) in options.iter().enumerate() {
                    check_plain(&mut p, &format!("{at}.options[{j}].text"), &o["text"], MAX_OPTION_TEXT);
                    let n = chars(&o["value"]);
                    if n == 0 || n > MAX_OPTION_VALUE {
                        p.push(format!("{at}.options[{j}].value: {n} characters"));
                    }
                    if values.contains(&o["value"]) {
                        p.push(format!("{at}.options[{j}].value: duplicate"));
                    }
                    values.push(o["value"].clone());
                }
                let initial = &el["initial_option"];
                if !initial.is_null() && !options.contains(initial) {
                    p.push(format!("{at}: initial_option is not one of the options"));
                }
            }
        }
        p
    }

    fn json_of(view: &SlackView) -> Value {
        serde_json::to_value(view).expect("a view serialises")
    }

    fn assert_valid(view: &SlackView) -> Value {
        let json = json_of(view);
        let problems = view_problems(&json);
        assert!(problems.is_empty(), "invalid view: {problems:#?}\n{json:#}");
        json
    }

    /// A `view_submission` payload in Slack's shape for `view`, with `values`
    /// as `(block/action id, state)` pairs.
    fn submit(view: &SlackView, values: &[(&str, Value)]) -> Value {
        let mut v = json_of(view);
        v["id"] = json!("V0VIEWID01");
        v["team_id"] = json!("T0AAAAAAA");
        v["hash"] = json!("1764316900.abcdef12");
        let mut state = Map::new();
        for (id, value) in values {
            state.insert((*id).to_string(), json!({ *id: value }));
        }
        v["state"] = json!({ "values": state });
        json!({
            "type": "view_submission",
            "team": { "id": "T0AAAAAAA", "domain": "example" },
            "user": { "id": "U0MANAGER1", "username": "maria", "name": "maria", "team_id": "T0AAAAAAA" },
            "api_app_id": "A0APPID001",
            "trigger_id": "1111111111.2222222222.abcdef0123456789",
            "view": v,
            "response_urls": [],
            "is_enterprise_install": false,
        })
    }

    fn text(s: &str) -> Value {
        json!({ "type": "plain_text_input", "value": s })
    }
    fn empty_text() -> Value {
        json!({ "type": "plain_text_input", "value": null })
    }
    fn select(v: &str) -> Value {
        json!({ "type": "static_select", "selected_option": { "text": { "type": "plain_text", "text": v }, "value": v } })
    }
    fn no_selection() -> Value {
        json!({ "type": "static_select", "selected_option": null })
    }
    fn date(d: &str) -> Value {
        json!({ "type": "datepicker", "selected_date": d })
    }
    fn no_date() -> Value {
        json!({ "type": "datepicker", "selected_date": null })
    }
    fn time(t: &str) -> Value {
        json!({ "type": "timepicker", "selected_time": t })
    }
    fn user(u: &str) -> Value {
        json!({ "type": "users_select", "selected_user": u })
    }
    fn no_user() -> Value {
        json!({ "type": "users_select", "selected_user": null })
    }

    fn fields(result: Result<Submission, SubmissionError>) -> Vec<&'static str> {
        match result {
            Err(SubmissionError::Fields(e)) => e.block_ids(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }
    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn setup_view() -> SlackView {
        setup_modal(None, Tz::Europe__Berlin, &["Quarterly".to_string()])
    }

    fn setup_values() -> Vec<(&'static str, Value)> {
        vec![
            (field::REPORT, user("U0REPORT01")),
            (field::FREQUENCY, select("every_2_weeks")),
            (field::WEEKDAY, select("tuesday")),
            (field::TIME, time("10:00")),
            (field::DURATION, select("45")),
            (field::ZONE, text("Europe/Berlin")),
            (field::TEMPLATE, select("template:weekly check-in")),
        ]
    }

    fn with(mut values: Vec<(&'static str, Value)>, id: &str, value: Value) -> Vec<(&'static str, Value)> {
        for (k, v) in &mut values {
            if *k == id {
                *v = value.clone();
            }
        }
        values
    }

    fn without(values: Vec<(&'static str, Value)>, id: &str) -> Vec<(&'static str, Value)> {
        values.into_iter().filter(|(k, _)| *k != id).collect()
    }

    // --- rendering -------------------------------------------------------

    #[test]
    fn every_modal_is_valid_by_slacks_limits() {
        for (name, view) in all_views() {
            let json = json_of(&view);
            let problems = view_problems(&json);
            assert!(problems.is_empty(), "{name}: {problems:#?}\n{json:#}");
            assert_eq!(json["type"], "modal", "{name}");
        }
    }

    #[test]
    fn every_modal_round_trips_through_slack_morphisms_model() {
        for (name, view) in all_views() {
            let back: SlackView = serde_json::from_value(json_of(&view)).expect(name);
            assert_eq!(back, view, "{name}");
        }
    }

    #[test]
    fn modals_about_a_meeting_carry_its_id_as_metadata() {
        for (name, view) in all_views() {
            let json = json_of(&view);
            let callback = json["callback_id"].as_str().unwrap_or_default();
            let metadata = json["private_metadata"].as_str();
            match callback {
                callback::SETUP | callback::ADD_TO_AGENDA => assert_eq!(metadata, None, "{name}"),
                _ => assert_eq!(metadata, Some("17"), "{name}"),
            }
        }
    }

    #[test]
    fn add_point_modal_matches_its_snapshot() {
        insta::assert_json_snapshot!(
            "add_point_modal",
            assert_valid(&add_point_modal(MeetingId(17), CONTEXT))
        );
    }

    #[test]
    fn add_action_modal_matches_its_snapshot() {
        insta::assert_json_snapshot!(
            "add_action_modal",
            assert_valid(&add_action_modal(MeetingId(17), CONTEXT, ME, PARTNER))
        );
    }

    #[test]
    fn setup_modal_matches_its_snapshot() {
        insta::assert_json_snapshot!("setup_modal", assert_valid(&setup_view()));
    }

    #[test]
    fn add_to_agenda_modal_matches_its_snapshot() {
        let view = add_to_agenda_modal(
            &[(SeriesId(3), "Rahul".to_string())],
            "Can we revisit on-call rotation &amp; paging fairness?",
            Some("https://example.slack.com/archives/C0CHANNEL1/p1764316700000200"),
            Some(&MessageRef {
                channel: "C0CHANNEL1".into(),
                ts: "1764316700.000200".into(),
            }),
        );
        insta::assert_json_snapshot!("add_to_agenda_modal", assert_valid(&view));
    }

    #[test]
    fn the_owner_select_offers_exactly_the_two_participants_with_the_partner_first() {
        let json = assert_valid(&add_action_modal(MeetingId(1), CONTEXT, ME, PARTNER));
        let owner = &json["blocks"][2]["element"];
        let values: Vec<&str> = owner["options"]
            .as_array()
            .expect("options")
            .iter()
            .filter_map(|o| o["value"].as_str())
            .collect();
        assert_eq!(values, ["U0REPORT01", "U0MANAGER1"]);
        assert_eq!(owner["initial_option"]["value"], "U0REPORT01");
    }

    #[test]
    fn reschedule_starts_at_the_current_local_date_and_time() {
        let current = ymd(2025, 12, 2).and_hms_opt(9, 5, 0).expect("valid");
        let json = assert_valid(&reschedule_modal(MeetingId(1), CONTEXT, current));
        assert_eq!(json["blocks"][1]["element"]["initial_date"], "2025-12-02");
        assert_eq!(json["blocks"][2]["element"]["initial_time"], "09:05");
    }

    #[test]
    fn setup_defaults_to_weekly_at_ten_for_thirty_minutes_in_the_callers_zone() {
        let json = assert_valid(&setup_modal(Some("U0REPORT01"), Tz::America__New_York, &[]));
        let element = |id: &str| {
            json["blocks"]
                .as_array()
                .and_then(|bs| bs.iter().find(|b| b["block_id"] == id))
                .map(|b| b["element"].clone())
                .expect(id)
        };
        assert_eq!(element(field::REPORT)["initial_user"], "U0REPORT01");
        assert_eq!(element(field::FREQUENCY)["initial_option"]["value"], "weekly");
        assert!(element(field::WEEKDAY)["initial_option"].is_null());
        assert_eq!(element(field::TIME)["initial_time"], "10:00");
        assert_eq!(element(field::DURATION)["initial_option"]["value"], "30");
        assert_eq!(element(field::ZONE)["initial_value"], "America/New_York");
        assert_eq!(element(field::TEMPLATE)["initial_option"]["value"], "none");
        assert_eq!(
            element(field::TEMPLATE)["options"].as_array().map(Vec::len),
            Some(1 + TEMPLATES.len())
        );
    }

    #[test]
    fn setup_offers_at_most_100_templates_and_skips_names_too_long_for_a_value() {
        let mut names: Vec<String> = (0..150).map(|i| format!("T{i}")).collect();
        names.insert(0, "n".repeat(200));
        names.insert(1, "WEEKLY CHECK-IN".to_string());
        let json = assert_valid(&setup_modal(None, Tz::UTC, &names));
        let options = json["blocks"][7]["element"]["options"]
            .as_array()
            .expect("options")
            .clone();
        assert_eq!(options.len(), MAX_OPTIONS);
        assert!(options.iter().all(|o| chars(&o["value"]) <= MAX_OPTION_VALUE));
        assert!(!options.iter().any(|o| o["value"] == "template:WEEKLY CHECK-IN"));
    }

    #[test]
    fn a_single_1_1_is_preselected_in_the_shortcut_and_several_are_not() {
        let one = assert_valid(&add_to_agenda_modal(&[(SeriesId(3), "Rahul".into())], "x", None, None));
        assert_eq!(one["blocks"][0]["element"]["initial_option"]["value"], "3");
        let two = assert_valid(&add_to_agenda_modal(
            &[(SeriesId(3), "Rahul".into()), (SeriesId(4), "Lena".into())],
            "x",
            None,
            None,
        ));
        assert!(two["blocks"][0]["element"]["initial_option"].is_null());
    }

    #[test]
    fn the_shortcut_without_any_1_1_explains_and_has_no_submit_button() {
        let json = assert_valid(&add_to_agenda_modal(&[], "x", None, None));
        assert!(json["submit"].is_null());
        assert!(
            json["blocks"][0]["text"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("setup"))
        );
    }

    #[test]
    fn the_shortcut_prefills_the_text_and_the_permalink() {
        let link = "https://example.slack.com/archives/C1/p1";
        assert_eq!(
            shortcut_text(" a &lt;b&gt; &amp;lt; ", Some(link)),
            format!("a <b> &lt;\n{link}")
        );
        assert_eq!(shortcut_text("", Some(link)), link);
        assert_eq!(shortcut_text("hello", None), "hello");
        assert_eq!(shortcut_text("hello", Some("  ")), "hello");
    }

    #[test]
    fn a_prefilled_shortcut_text_over_the_limit_is_cut_to_exactly_the_limit() {
        let long = "é".repeat(MAX_TEXT_CHARS + 500);
        let link = "https://example.slack.com/archives/C0CHANNEL1/p1764316700000200";
        let with_link = shortcut_text(&long, Some(link));
        assert_eq!(with_link.chars().count(), MAX_TEXT_CHARS);
        assert!(with_link.ends_with(&format!("…\n{link}")));
        let without = shortcut_text(&long, None);
        assert_eq!(without.chars().count(), MAX_TEXT_CHARS);
        assert!(without.ends_with('…'));
        // Exactly at the limit: untouched.
        let exact = "a".repeat(MAX_TEXT_CHARS);
        assert_eq!(shortcut_text(&exact, None), exact);
        // A link that leaves no room for text is dropped.
        let huge_link = format!("https://x/{}", "a".repeat(MAX_TEXT_CHARS));
        assert_eq!(shortcut_text(&long, Some(&huge_link)).chars().count(), MAX_TEXT_CHARS);
        // And the view carries it unchanged.
        let json = assert_valid(&add_to_agenda_modal(
            &[(SeriesId(1), "R".into())],
            &long,
            Some(link),
            None,
        ));
        assert_eq!(
            json["blocks"][1]["element"]["initial_value"].as_str(),
            Some(with_link.as_str())
        );
    }

    #[test]
    fn long_names_and_context_are_cut_to_slacks_limits() {
        let name = "N".repeat(500);
        let context = "c".repeat(5000);
        assert_valid(&add_action_modal(MeetingId(1), &context, ("U1", &name), ("U2", &name)));
        assert_valid(&add_to_agenda_modal(&[(SeriesId(1), name.clone())], "x", None, None));
        assert_valid(&note_modal(MeetingId(1), &context));
    }

    // --- round trips -----------------------------------------------------

    #[test]
    fn an_added_talking_point_is_read_back() {
        let view = add_point_modal(MeetingId(17), CONTEXT);
        let payload = submit(
            &view,
            &[
                (field::TEXT, text("  Feedback on the launch retro \n")),
                (field::CATEGORY, select("feedback")),
            ],
        );
        assert_eq!(
            read_submission(&payload),
            Ok(Submission::AddPoint {
                meeting: MeetingId(17),
                category: Category::Feedback,
                text: "Feedback on the launch retro".into(),
            })
        );
    }

    #[test]
    fn an_action_item_is_read_back_with_its_owner_and_due_date() {
        let view = add_action_modal(MeetingId(17), CONTEXT, ME, PARTNER);
        let payload = submit(
            &view,
            &[
                (field::TEXT, text("Draft the promotion packet")),
                (field::OWNER, select("U0MANAGER1")),
                (field::DUE, date("2025-12-12")),
            ],
        );
        assert_eq!(
            read_submission(&payload),
            Ok(Submission::AddAction {
                meeting: MeetingId(17),
                text: "Draft the promotion packet".into(),
                owner: "U0MANAGER1".into(),
                due: Some(ymd(2025, 12, 12)),
            })
        );
        let payload = submit(
            &view,
            &[
                (field::TEXT, text("Book the room")),
                (field::OWNER, select("U0REPORT01")),
                (field::DUE, no_date()),
            ],
        );
        assert!(matches!(
            read_submission(&payload),
            Ok(Submission::AddAction { due: None, ref owner, .. }) if owner == "U0REPORT01"
        ));
    }

    #[test]
    fn a_private_note_is_read_back() {
        let payload = submit(
            &note_modal(MeetingId(9), CONTEXT),
            &[(field::TEXT, text("Ask about on-call"))],
        );
        assert_eq!(
            read_submission(&payload),
            Ok(Submission::Note {
                meeting: MeetingId(9),
                text: "Ask about on-call".into()
            })
        );
    }

    #[test]
    fn a_reschedule_is_read_back() {
        let current = ymd(2025, 12, 2).and_hms_opt(10, 0, 0).expect("valid");
        let payload = submit(
            &reschedule_modal(MeetingId(17), CONTEXT, current),
            &[(field::DATE, date("2025-12-05")), (field::TIME, time("15:30"))],
        );
        assert_eq!(
            read_submission(&payload),
            Ok(Submission::Reschedule {
                meeting: MeetingId(17),
                date: ymd(2025, 12, 5),
                time: hm(15, 30),
            })
        );
    }

    #[test]
    fn a_setup_is_read_back() {
        let payload = submit(&setup_view(), &setup_values());
        assert_eq!(
            read_submission(&payload),
            Ok(Submission::Setup {
                report: "U0REPORT01".into(),
                cadence: Cadence::Weekly {
                    interval: 2,
                    weekday: Weekday::Tue
                },
                time: hm(10, 0),
                duration_minutes: 45,
                tz: Tz::Europe__Berlin,
                template: Some("weekly check-in".into()),
            })
        );
    }

    #[test]
    fn every_frequency_and_weekday_makes_the_cadence_the_grammar_would() {
        for (value, _, _) in FREQUENCIES {
            for (day, _, _) in WEEKDAYS {
                let values = with(setup_values(), field::FREQUENCY, select(value));
                let values = with(values, field::WEEKDAY, select(day));
                let Ok(Submission::Setup { cadence, .. }) = read_submission(&submit(&setup_view(), &values)) else {
                    panic!("{value} {day} not read");
                };
                let phrase = match value.split_once('_') {
                    Some(("monthly", week)) => format!("monthly on the {week} {day}"),
                    Some(("every", rest)) => format!("every {} on {day}", rest.replace('_', " ")),
                    _ => format!("{value} on {day}"),
                };
                assert_eq!(Ok(cadence), grammar::parse_cadence(&phrase), "{phrase}");
            }
        }
    }

    #[test]
    fn setup_reads_no_template_a_workspace_template_and_a_lenient_zone() {
        let values = with(setup_values(), field::TEMPLATE, select("none"));
        let values = with(values, field::ZONE, text(" europe/berlin "));
        assert!(matches!(
            read_submission(&submit(&setup_view(), &values)),
            Ok(Submission::Setup {
                template: None,
                tz: Tz::Europe__Berlin,
                ..
            })
        ));
        let values = with(setup_values(), field::TEMPLATE, select("template:Quarterly"));
        assert!(matches!(
            read_submission(&submit(&setup_view(), &values)),
            Ok(Submission::Setup { template: Some(ref t), .. }) if t == "Quarterly"
        ));
        let values = with(setup_values(), field::FREQUENCY, select("monthly_last"));
        assert!(matches!(
            read_submission(&submit(&setup_view(), &values)),
            Ok(Submission::Setup {
                cadence: Cadence::Monthly {
                    week: MonthWeek::Last,
                    weekday: Weekday::Tue
                },
                ..
            })
        ));
    }

    #[test]
    fn the_shortcut_is_read_back_with_its_source_message() {
        let source = MessageRef {
            channel: "C0CHANNEL1".into(),
            ts: "1764316700.000200".into(),
        };
        let view = add_to_agenda_modal(
            &[(SeriesId(3), "Rahul".into()), (SeriesId(4), "Lena".into())],
            "Can we revisit on-call rotation fairness?",
            None,
            Some(&source),
        );
        let payload = submit(
            &view,
            &[
                (field::SERIES, select("4")),
                (field::TEXT, text("Can we revisit on-call rotation fairness?")),
                (field::CATEGORY, select("wellbeing")),
            ],
        );
        assert_eq!(
            read_submission(&payload),
            Ok(Submission::AddToAgenda {
                series: SeriesId(4),
                category: Category::Wellbeing,
                text: "Can we revisit on-call rotation fairness?".into(),
                source: Some(source),
            })
        );
        let without_source = add_to_agenda_modal(&[(SeriesId(3), "Rahul".into())], "x", None, None);
        let payload = submit(
            &without_source,
            &[
                (field::SERIES, select("3")),
                (field::TEXT, text("x")),
                (field::CATEGORY, select("other")),
            ],
        );
        assert!(matches!(
            read_submission(&payload),
            Ok(Submission::AddToAgenda {
                series: SeriesId(3),
                source: None,
                ..
            })
        ));
    }

    #[test]
    fn a_rating_comment_is_read_back_and_a_blank_comment_is_none() {
        let view = rate_comment_modal(MeetingId(17), 4);
        let payload = submit(
            &view,
            &[(field::SCORE, select("5")), (field::COMMENT, text(" Great talk "))],
        );
        assert_eq!(
            read_submission(&payload),
            Ok(Submission::RateComment {
                meeting: MeetingId(17),
                score: 5,
                comment: Some("Great talk".into()),
            })
        );
        for comment in [text("   "), empty_text()] {
            let payload = submit(&view, &[(field::SCORE, select("4")), (field::COMMENT, comment)]);
            assert!(matches!(
                read_submission(&payload),
                Ok(Submission::RateComment {
                    score: 4,
                    comment: None,
                    ..
                })
            ));
        }
        // The comment's whole entry missing is a blank comment too.
        let payload = submit(&view, &[(field::SCORE, select("4"))]);
        assert!(matches!(
            read_submission(&payload),
            Ok(Submission::RateComment { comment: None, .. })
        ));
    }

    // --- invalid submissions ----------------------------------------------

    #[test]
    fn blank_text_is_a_text_field_error() {
        let view = add_point_modal(MeetingId(17), CONTEXT);
        for blank in [text(""), text(" \n\t "), empty_text()] {
            let payload = submit(&view, &[(field::TEXT, blank), (field::CATEGORY, select("goals"))]);
            assert_eq!(fields(read_submission(&payload)), [field::TEXT]);
        }
        let note = submit(&note_modal(MeetingId(1), CONTEXT), &[(field::TEXT, text("  "))]);
        assert_eq!(fields(read_submission(&note)), [field::TEXT]);
    }

    #[test]
    fn text_over_2000_characters_is_a_text_field_error_and_2000_is_fine() {
        let view = add_point_modal(MeetingId(17), CONTEXT);
        let too_long = submit(
            &view,
            &[
                (field::TEXT, text(&"ü".repeat(2001))),
                (field::CATEGORY, select("goals")),
            ],
        );
        let Err(SubmissionError::Fields(errors)) = read_submission(&too_long) else {
            panic!("expected a field error");
        };
        assert_eq!(errors.block_ids(), [field::TEXT]);
        assert!(errors.0[0].1.contains("2,001") && errors.0[0].1.contains("2,000"));
        let at_limit = submit(
            &view,
            &[
                (field::TEXT, text(&"ü".repeat(2000))),
                (field::CATEGORY, select("goals")),
            ],
        );
        assert!(read_submission(&at_limit).is_ok());
        let comment = submit(
            &rate_comment_modal(MeetingId(1), 3),
            &[(field::SCORE, select("3")), (field::COMMENT, text(&"x".repeat(2001)))],
        );
        assert_eq!(fields(read_submission(&comment)), [field::COMMENT]);
    }

    #[test]
    fn an_unknown_or_missing_category_is_a_category_field_error() {
        let view = add_point_modal(MeetingId(17), CONTEXT);
        for category in [
            select("gossip"),
            select("goal"),
            select("GOALS"),
            no_selection(),
            json!("goals"),
        ] {
            let payload = submit(&view, &[(field::TEXT, text("x")), (field::CATEGORY, category)]);
            assert_eq!(fields(read_submission(&payload)), [field::CATEGORY]);
        }
    }

    #[test]
    fn bad_metadata_is_refused_before_the_fields_are_read() {
        let view = add_point_modal(MeetingId(17), CONTEXT);
        for metadata in [
            json!(""),
            json!("meeting:17"),
            json!("-1"),
            json!("+17"),
            json!(" 17"),
            json!("17.0"),
            json!("99999999999999999999"),
            json!(17),
            Value::Null,
        ] {
            let mut payload = submit(&view, &[(field::TEXT, text("")), (field::CATEGORY, select("goals"))]);
            payload["view"]["private_metadata"] = metadata.clone();
            assert_eq!(
                read_submission(&payload),
                Err(SubmissionError::BadMetadata),
                "{metadata}"
            );
        }
        let mut setup = submit(&setup_view(), &setup_values());
        setup["view"]["private_metadata"] = json!("17");
        assert_eq!(read_submission(&setup), Err(SubmissionError::BadMetadata));
        let shortcut = add_to_agenda_modal(&[(SeriesId(3), "Rahul".into())], "x", None, None);
        for metadata in [
            "C1",
            "C0CHANNEL1:",
            "c0channel1:1.2",
            "C0CHANNEL1:1764316700",
            "C0CHANNEL1:1.2:3",
        ] {
            let mut payload = submit(
                &shortcut,
                &[
                    (field::SERIES, select("3")),
                    (field::TEXT, text("x")),
                    (field::CATEGORY, select("other")),
                ],
            );
            payload["view"]["private_metadata"] = json!(metadata);
            assert_eq!(
                read_submission(&payload),
                Err(SubmissionError::BadMetadata),
                "{metadata}"
            );
        }
    }

    #[test]
    fn a_forged_frequency_or_a_missing_weekday_is_a_cadence_field_error() {
        let forged = with(setup_values(), field::FREQUENCY, select("every_6_weeks"));
        assert_eq!(
            fields(read_submission(&submit(&setup_view(), &forged))),
            [field::FREQUENCY]
        );
        let cron = with(setup_values(), field::FREQUENCY, select("cron \"0 9 * * MON\""));
        assert_eq!(
            fields(read_submission(&submit(&setup_view(), &cron))),
            [field::FREQUENCY]
        );
        let no_day = with(setup_values(), field::WEEKDAY, no_selection());
        assert_eq!(
            fields(read_submission(&submit(&setup_view(), &no_day))),
            [field::WEEKDAY]
        );
        let bad_day = with(setup_values(), field::WEEKDAY, select("funday"));
        assert_eq!(
            fields(read_submission(&submit(&setup_view(), &bad_day))),
            [field::WEEKDAY]
        );
    }

    #[test]
    fn an_unknown_or_blank_zone_is_a_zone_field_error() {
        for zone in [
            text("Mars/Olympus_Mons"),
            text("  "),
            empty_text(),
            text(&"x".repeat(5000)),
        ] {
            let values = with(setup_values(), field::ZONE, zone);
            assert_eq!(fields(read_submission(&submit(&setup_view(), &values))), [field::ZONE]);
        }
    }

    #[test]
    fn a_template_the_modal_did_not_offer_is_a_template_field_error() {
        for template in [
            select("template:Secret plans"),
            select("Quarterly"),
            select("template:"),
            no_selection(),
        ] {
            let values = with(setup_values(), field::TEMPLATE, template.clone());
            assert_eq!(
                fields(read_submission(&submit(&setup_view(), &values))),
                [field::TEMPLATE],
                "{template}"
            );
        }
        // Without the view's blocks nothing dynamic is accepted.
        let mut payload = submit(&setup_view(), &setup_values());
        payload["view"]["blocks"] = json!([]);
        assert_eq!(fields(read_submission(&payload)), [field::TEMPLATE]);
    }

    #[test]
    fn a_missing_or_malformed_user_or_the_submitter_is_a_report_field_error() {
        for report in [
            no_user(),
            user(""),
            user("not-a-user"),
            user("U0MANAGER1"),
            select("U0REPORT01"),
        ] {
            let values = with(setup_values(), field::REPORT, report.clone());
            assert_eq!(
                fields(read_submission(&submit(&setup_view(), &values))),
                [field::REPORT],
                "{report}"
            );
        }
        let values = without(setup_values(), field::REPORT);
        assert_eq!(
            fields(read_submission(&submit(&setup_view(), &values))),
            [field::REPORT]
        );
    }

    #[test]
    fn a_forged_duration_time_or_score_is_a_field_error() {
        let values = with(setup_values(), field::DURATION, select("600"));
        assert_eq!(
            fields(read_submission(&submit(&setup_view(), &values))),
            [field::DURATION]
        );
        let values = with(setup_values(), field::TIME, time("25:99"));
        assert_eq!(fields(read_submission(&submit(&setup_view(), &values))), [field::TIME]);
        let rating = rate_comment_modal(MeetingId(1), 3);
        for score in [select("0"), select("6"), select("five"), no_selection()] {
            let payload = submit(&rating, &[(field::SCORE, score)]);
            assert_eq!(fields(read_submission(&payload)), [field::SCORE]);
        }
    }

    #[test]
    fn a_forged_owner_series_or_date_is_a_field_error() {
        let action = add_action_modal(MeetingId(17), CONTEXT, ME, PARTNER);
        let payload = submit(
            &action,
            &[
                (field::TEXT, text("x")),
                (field::OWNER, select("U0STRANGER")),
                (field::DUE, date("2025-02-30")),
            ],
        );
        assert_eq!(fields(read_submission(&payload)), [field::OWNER, field::DUE]);
        let shortcut = add_to_agenda_modal(&[(SeriesId(3), "Rahul".into())], "x", None, None);
        for series in [select("4"), select("-3"), no_selection()] {
            let payload = submit(
                &shortcut,
                &[
                    (field::SERIES, series),
                    (field::TEXT, text("x")),
                    (field::CATEGORY, select("other")),
                ],
            );
            assert_eq!(fields(read_submission(&payload)), [field::SERIES]);
        }
        let reschedule = reschedule_modal(
            MeetingId(1),
            CONTEXT,
            ymd(2025, 1, 1).and_hms_opt(9, 0, 0).expect("valid"),
        );
        let payload = submit(
            &reschedule,
            &[(field::DATE, date("tomorrow")), (field::TIME, json!({}))],
        );
        assert_eq!(fields(read_submission(&payload)), [field::DATE, field::TIME]);
    }

    #[test]
    fn every_problem_of_a_setup_is_reported_at_once() {
        let payload = submit(&setup_view(), &[]);
        assert_eq!(
            fields(read_submission(&payload)),
            [
                field::REPORT,
                field::FREQUENCY,
                field::WEEKDAY,
                field::TIME,
                field::DURATION,
                field::ZONE,
                field::TEMPLATE
            ]
        );
    }

    #[test]
    fn errors_become_the_body_slack_wants() {
        let errors = FieldErrors(vec![
            (field::TEXT, "Write the talking point first.".into()),
            (field::CATEGORY, "Choose a category.".into()),
            (field::TEXT, "second message".into()),
        ]);
        assert_eq!(
            errors_response(&errors),
            json!({
                "response_action": "errors",
                "errors": { "text": "Write the talking point first.", "category": "Choose a category." }
            })
        );
        // The same shape as slack-morphism's own response type.
        let typed: SlackViewSubmissionResponse =
            serde_json::from_value(errors_response(&errors)).expect("slack-morphism reads it");
        assert!(matches!(typed, SlackViewSubmissionResponse::Errors(_)));
    }

    // --- odd payloads -----------------------------------------------------

    const FIXTURE: &str = include_str!("../../tests/fixtures/slack/view_submission.json");

    #[test]
    fn the_view_submission_fixture_is_read_without_panicking() {
        let payload: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
        // Its callback id is an example, not one of ours.
        assert_eq!(
            read_submission(&payload),
            Err(SubmissionError::UnknownCallback("add_talking_point".into()))
        );
        // With our ids it is a talking point.
        let mut ours = payload.clone();
        ours["view"]["callback_id"] = json!(callback::ADD_POINT);
        ours["view"]["private_metadata"] = json!("17");
        assert_eq!(
            read_submission(&ours),
            Ok(Submission::AddPoint {
                meeting: MeetingId(17),
                category: Category::Feedback,
                text: "Feedback on the launch retro".into(),
            })
        );
    }

    #[test]
    fn absurd_payloads_give_an_error_never_a_panic() {
        let absurd = [
            Value::Null,
            json!([]),
            json!("view_submission"),
            json!({}),
            json!({ "type": "block_actions", "view": { "callback_id": "add_point" } }),
            json!({ "view": 5 }),
            json!({ "view": { "callback_id": 5 } }),
            json!({ "view": { "callback_id": "add_point", "private_metadata": "1", "state": "x" } }),
            json!({ "view": { "callback_id": "add_point", "private_metadata": "1", "state": { "values": [] } } }),
            json!({ "view": { "callback_id": "add_point", "private_metadata": "1",
                "state": { "values": { "text": "x", "category": { "category": [] } } } } }),
            json!({ "view": { "callback_id": "setup", "blocks": { "a": 1 },
                "state": { "values": { "template": { "template": { "selected_option": { "value": 7 } } } } } } }),
            json!({ "view": { "callback_id": "add_action", "private_metadata": "1", "blocks": [null, 1, { "block_id": "owner", "element": { "action_id": "owner", "options": [null, { "value": 1 }], "option_groups": [{ "options": "x" }] } }],
                "state": { "values": { "owner": { "owner": { "selected_option": { "value": "U1" } } } } } } }),
            json!({ "view": { "callback_id": "x".repeat(10_000) } }),
        ];
        for payload in absurd {
            assert!(read_submission(&payload).is_err(), "{payload}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_strings_in_any_field_never_panic(
            strings in proptest::collection::vec(".{0,40}", 8),
            which in 0usize..7,
        ) {
            let callbacks = [
                callback::ADD_POINT, callback::ADD_ACTION, callback::NOTE, callback::RESCHEDULE,
                callback::SETUP, callback::ADD_TO_AGENDA, callback::RATE_COMMENT,
            ];
            let ids = [field::TEXT, field::CATEGORY, field::OWNER, field::DUE, field::DATE, field::TIME,
                field::REPORT, field::FREQUENCY, field::WEEKDAY, field::DURATION, field::ZONE, field::TEMPLATE,
                field::SERIES, field::SCORE, field::COMMENT];
            let mut values = Map::new();
            for (i, id) in ids.iter().enumerate() {
                let s = &strings[i % strings.len()];
                values.insert((*id).to_string(), json!({ *id: {
                    "value": s, "selected_date": s, "selected_time": s, "selected_user": s,
                    "selected_option": { "value": s },
                } }));
            }
            let payload = json!({ "type": "view_submission", "view": {
                "callback_id": callbacks[which],
                "private_metadata": strings[0],
                "state": { "values": values },
            } });
            let _ = read_submission(&payload);
        }
    }
}
