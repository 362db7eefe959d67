//! `Command`: what a person asked for, parsed from `/oneonone` text, a Teams
//! message, a console line, or (later) a button. Platform adapters produce it;
//! `commands::apply` carries it out. Grammar lives in `grammar.rs`.

use super::model::{Cadence, Category};
use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;

/// Who a command talks about, as typed. Resolved against the store (and the
/// platform's directory) by the command layer, always inside the caller's
/// workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    /// A platform mention: Slack `<@U123>` / `<@U123|name>`, or a Teams
    /// mention entity's user id. Holds the platform's user id.
    Mention(String),
    /// An e-mail address.
    Email(String),
    /// `@name` (console, or an unresolved Slack mention): must match exactly
    /// one of the caller's 1:1 partners, or one known person when setting up.
    Name(String),
}

/// A calendar date as typed: resolved against "today" in the caller's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSpec {
    On(NaiveDate),
    Today,
    Tomorrow,
    /// The next such weekday, strictly after today.
    Next(Weekday),
    InDays(u32),
}

impl DateSpec {
    pub fn resolve(self, today: NaiveDate) -> NaiveDate {
        match self {
            DateSpec::On(d) => d,
            DateSpec::Today => today,
            DateSpec::Tomorrow => today + Days::new(1),
            DateSpec::Next(w) => {
                let ahead = (7 + w.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64) % 7;
                let ahead = if ahead == 0 { 7 } else { ahead };
                today + Days::new(ahead as u64)
            }
            DateSpec::InDays(n) => today + Days::new(u64::from(n)),
        }
    }
}

/// WHEN: a date with an optional time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhenSpec {
    pub date: DateSpec,
    pub time: Option<NaiveTime>,
}

/// Owner of a new action item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerRef {
    Me,
    Person(PersonRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupArgs {
    pub partner: PersonRef,
    pub cadence: Cadence,
    pub time: Option<NaiveTime>,
    pub duration_minutes: Option<u32>,
    pub tz: Option<Tz>,
    pub template: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Empty text or `home`.
    Home,
    Help {
        topic: Option<String>,
    },
    Setup(SetupArgs),
    Add {
        partner: Option<PersonRef>,
        category: Option<Category>,
        text: String,
    },
    Agenda {
        partner: Option<PersonRef>,
    },
    Comment {
        partner: Option<PersonRef>,
        point: u32,
        text: String,
    },
    Action {
        partner: Option<PersonRef>,
        text: String,
        due: Option<DateSpec>,
        owner: Option<OwnerRef>,
    },
    Actions,
    Complete {
        item: i64,
    },
    Note {
        partner: Option<PersonRef>,
        text: String,
    },
    Held {
        partner: Option<PersonRef>,
    },
    Skip {
        partner: Option<PersonRef>,
        reason: Option<String>,
    },
    Reschedule {
        partner: Option<PersonRef>,
        when: WhenSpec,
    },
    History {
        partner: Option<PersonRef>,
        count: Option<u32>,
    },
    Pause {
        partner: Option<PersonRef>,
    },
    Resume {
        partner: Option<PersonRef>,
    },
    End {
        partner: Option<PersonRef>,
    },
    Questions {
        category: Option<Category>,
    },
    Templates,
    TemplateShow {
        name: String,
    },
    TemplateNew {
        name: String,
        items: Vec<String>,
    },
    TemplateDelete {
        name: String,
    },
    Stats,
    Settings {
        tz: Option<Tz>,
        hours: Option<(NaiveTime, NaiveTime)>,
        nudges: Option<bool>,
    },
    Away {
        until: DateSpec,
    },
    Back,
    Request {
        partner: PersonRef,
        text: Option<String>,
    },
}

impl Command {
    /// Whether the command acts on one of the caller's 1:1s that has not
    /// ended without naming the partner: it picks the caller's only one,
    /// which can then be read together with the caller.
    pub fn picks_the_callers_one_on_one(&self) -> bool {
        matches!(
            self,
            Command::Add { partner: None, .. }
                | Command::Agenda { partner: None }
                | Command::Comment { partner: None, .. }
                | Command::Action { partner: None, .. }
                | Command::Note { partner: None, .. }
                | Command::Held { partner: None }
                | Command::Skip { partner: None, .. }
                | Command::Reschedule { partner: None, .. }
                | Command::Pause { partner: None }
                | Command::Resume { partner: None }
                | Command::End { partner: None }
        )
    }
}

impl Command {
    /// The command's name as typed (`add`, `template new`, …): for metrics and help.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Home => "home",
            Command::Help { .. } => "help",
            Command::Setup(_) => "setup",
            Command::Add { .. } => "add",
            Command::Agenda { .. } => "agenda",
            Command::Comment { .. } => "comment",
            Command::Action { .. } => "action",
            Command::Actions => "actions",
            Command::Complete { .. } => "complete",
            Command::Note { .. } => "note",
            Command::Held { .. } => "held",
            Command::Skip { .. } => "skip",
            Command::Reschedule { .. } => "reschedule",
            Command::History { .. } => "history",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::End { .. } => "end",
            Command::Questions { .. } => "questions",
            Command::Templates => "templates",
            Command::TemplateShow { .. } => "template",
            Command::TemplateNew { .. } => "template new",
            Command::TemplateDelete { .. } => "template delete",
            Command::Stats => "stats",
            Command::Settings { .. } => "settings",
            Command::Away { .. } => "away",
            Command::Back => "back",
            Command::Request { .. } => "request",
        }
    }
}

/// A line that could not be understood: what was wrong, and the usage of the
/// command the person was most likely trying to type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    /// e.g. `add [@person] [#category] TEXT` — the closest correct usage.
    pub usage: &'static str,
    /// e.g. "/oneonone add @rahul #goals Q3 planning"
    pub example: &'static str,
}
