//! The command grammar of SPEC §5: `/oneonone` text (or a Teams message, or a
//! console line) in, a [`Command`] or a helpful [`ParseError`] out.
//!
//! Why a hand-written parser rather than a parser combinator crate: the grammar
//! is small, mostly "keyword, optional person, free text", and what matters
//! most is the quality of the error messages — every failure names the exact
//! fragment that could not be read and carries the closest usage line and a
//! concrete example. That is easiest to control by hand.
//!
//! Rules that hold everywhere:
//! - Command words and keywords are case-insensitive; extra whitespace is fine.
//! - Free text (talking points, comments, notes, …) is taken verbatim from the
//!   input, only trimmed: no unescaping, no markup handling. Escaping is the
//!   renderer's job, so `*bold* <!channel>` reaches the store as typed.
//! - Lengths are counted in `char`s, not bytes, so a 2,000-character limit
//!   means the same for emoji, CJK and Latin text.
//! - Fragments of user input echoed in messages are clipped to ~40 characters
//!   and quoted “like this”; the renderer escapes them.
//! - Nothing here panics or reads the clock: dates stay relative
//!   ([`DateSpec`]) until the command layer resolves them in the caller's zone.

use super::command::{Command, DateSpec, OwnerRef, ParseError, PersonRef, SetupArgs, WhenSpec};
use super::model::{Cadence, Category, MonthWeek};
use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use std::str::FromStr;

/// Longest talking point, comment, note, action item, skip reason or request
/// text, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Longest template name, in characters.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 80;
/// Most items in one template.
pub const MAX_TEMPLATE_ITEMS: usize = 20;
/// Longest template item, in characters.
pub const MAX_TEMPLATE_ITEM_CHARS: usize = 300;
/// Largest N in `in N days`: keeps [`DateSpec::resolve`] far away from the end
/// of chrono's calendar (where date arithmetic would panic), and no one plans
/// a 1:1 ten years ahead.
pub const MAX_IN_DAYS: u32 = 3_660;
/// Largest N in `every N weeks`.
pub const MAX_WEEK_INTERVAL: u32 = 52;
/// Largest N in `history N`.
pub const MAX_HISTORY: u32 = 100;
/// Shortest and longest meeting accepted by `setup … for DURATION`.
pub const MIN_DURATION_MINUTES: u32 = 5;
pub const MAX_DURATION_MINUTES: u32 = 8 * 60;

/// How far echoed user input is clipped in messages.
const ECHO_CHARS: usize = 40;

// ---------------------------------------------------------------------------
// Help table
// ---------------------------------------------------------------------------

/// One row of the help table: what `help` shows and what a [`ParseError`]
/// carries as "the closest correct usage".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The command's name as [`Command::name`] spells it (`add`, `template new`).
    pub name: &'static str,
    /// The usage line, without the `/oneonone` prefix.
    pub usage: &'static str,
    /// A concrete line that parses, with the `/oneonone` prefix.
    pub example: &'static str,
    /// One sentence on what it does.
    pub summary: &'static str,
}

/// `help` itself; also the fallback usage for input that is nothing like any
/// command.
const HELP_USAGE: Usage = Usage {
    name: "help",
    usage: "help [command]",
    example: "/oneonone help add",
    summary: "All commands, or the usage and an example of one command.",
};

/// One entry per command, in the order of SPEC §5.
pub const USAGES: &[Usage] = &[
    Usage {
        name: "home",
        usage: "home",
        example: "/oneonone",
        summary: "Your upcoming 1:1s, the size of their agendas and your open action items.",
    },
    HELP_USAGE,
    Usage {
        name: "setup",
        usage: "setup @person CADENCE [at TIME] [for DURATION] [tz ZONE] [template NAME]",
        example: "/oneonone setup @rahul weekly on tuesday at 10am for 30m tz Europe/Berlin",
        summary: "Start (or change) a 1:1 with @person, with you as the manager.",
    },
    Usage {
        name: "add",
        usage: "add [@person] [#category] TEXT",
        example: "/oneonone add @rahul #goals Q3 planning",
        summary: "Add a talking point to the next meeting's agenda.",
    },
    Usage {
        name: "agenda",
        usage: "agenda [@person]",
        example: "/oneonone agenda @rahul",
        summary: "Show the next meeting's agenda: talking points and open action items.",
    },
    Usage {
        name: "comment",
        usage: "comment [@person] N TEXT",
        example: "/oneonone comment @rahul 2 Let's bring the numbers",
        summary: "Add a shared comment under talking point N of the agenda.",
    },
    Usage {
        name: "action",
        usage: "action [@person] TEXT [due DATE] [owner @person|me]",
        example: "/oneonone action @rahul Draft the promotion packet due friday owner me",
        summary: "Record an action item; the owner defaults to @person.",
    },
    Usage {
        name: "actions",
        usage: "actions",
        example: "/oneonone actions",
        summary: "Your open action items across all your 1:1s.",
    },
    Usage {
        name: "complete",
        usage: "complete N",
        example: "/oneonone complete 12",
        summary: "Mark action item N done.",
    },
    Usage {
        name: "note",
        usage: "note [@person] TEXT",
        example: "/oneonone note @rahul Ask how the on-call rotation feels",
        summary: "A private note on the next meeting, visible only to you.",
    },
    Usage {
        name: "held",
        usage: "held [@person]",
        example: "/oneonone held @rahul",
        summary: "Mark the current or latest meeting held; open talking points roll over.",
    },
    Usage {
        name: "skip",
        usage: "skip [@person] [REASON]",
        example: "/oneonone skip @rahul Travelling this week",
        summary: "Skip the next meeting and tell your partner; talking points roll over.",
    },
    Usage {
        name: "reschedule",
        usage: "reschedule [@person] WHEN",
        example: "/oneonone reschedule @rahul to friday at 3pm",
        summary: "Move the next meeting to another day and time.",
    },
    Usage {
        name: "history",
        usage: "history [@person] [N]",
        example: "/oneonone history @rahul 10",
        summary: "The last N meetings (default 5): points, comments, action items, ratings.",
    },
    Usage {
        name: "pause",
        usage: "pause [@person]",
        example: "/oneonone pause @rahul",
        summary: "Pause a 1:1 (manager only).",
    },
    Usage {
        name: "resume",
        usage: "resume [@person]",
        example: "/oneonone resume @rahul",
        summary: "Resume a paused 1:1 (manager only).",
    },
    Usage {
        name: "end",
        usage: "end [@person]",
        example: "/oneonone end @rahul",
        summary: "End a 1:1 for good (manager only).",
    },
    Usage {
        name: "questions",
        usage: "questions [CATEGORY]",
        example: "/oneonone questions feedback",
        summary: "Suggested questions from the built-in bank, for managers and reports.",
    },
    Usage {
        name: "templates",
        usage: "templates",
        example: "/oneonone templates",
        summary: "List the agenda templates.",
    },
    Usage {
        name: "template",
        usage: "template NAME",
        example: "/oneonone template Weekly check-in",
        summary: "Show one agenda template.",
    },
    Usage {
        name: "template new",
        usage: "template new NAME: ITEM; ITEM; …",
        example: "/oneonone template new Quarterly: Goals review; Career growth; Feedback both ways",
        summary: "Create your workspace's own agenda template.",
    },
    Usage {
        name: "template delete",
        usage: "template delete NAME",
        example: "/oneonone template delete Quarterly",
        summary: "Delete one of your workspace's own templates.",
    },
    Usage {
        name: "stats",
        usage: "stats",
        example: "/oneonone stats",
        summary: "For managers: per report, meetings held and skipped, action items, ratings.",
    },
    Usage {
        name: "settings",
        usage: "settings [tz ZONE] [hours HH:MM-HH:MM] [nudges on|off]",
        example: "/oneonone settings tz Europe/Berlin hours 9:00-17:30 nudges off",
        summary: "Your own time zone, working hours and nudges (alone: shows them).",
    },
    Usage {
        name: "away",
        usage: "away until DATE",
        example: "/oneonone away until 2026-12-04",
        summary: "Out of office: no agenda posts or nudges, and your meetings are skipped.",
    },
    Usage {
        name: "back",
        usage: "back",
        example: "/oneonone back",
        summary: "Back in the office before the date you gave `away`.",
    },
    Usage {
        name: "request",
        usage: "request @person [TEXT]",
        example: "/oneonone request @maria Could we talk about my career path?",
        summary: "Ask @person for a 1:1 or an extra meeting.",
    },
];

/// The usage of a command by name (`"add"`, `"template new"`), case- and
/// whitespace-insensitive; `done` is accepted for `complete`.
pub fn usage_of(name: &str) -> Option<&'static Usage> {
    let name = normalize_words(name);
    let name = if name == "done" { "complete" } else { name.as_str() };
    USAGES.iter().find(|u| u.name == name)
}

fn usage_or_help(name: &str) -> &'static Usage {
    usage_of(name).unwrap_or(&HELP_USAGE)
}

/// A [`ParseError`] carrying the usage and example of command `name`.
fn fail(name: &str, message: impl Into<String>) -> ParseError {
    let u = usage_or_help(name);
    ParseError {
        message: message.into(),
        usage: u.usage,
        example: u.example,
    }
}

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

/// Parses one line of command text (without the `/oneonone` prefix, though a
/// pasted prefix is tolerated).
pub fn parse(text: &str) -> Result<Command, ParseError> {
    let mut cur = Cursor::new(text);
    let Some(mut first) = cur.next() else {
        return Ok(Command::Home);
    };
    // People paste whole slash commands into the console and into Teams.
    if first.text.eq_ignore_ascii_case("/oneonone") {
        match cur.next() {
            Some(t) => first = t,
            None => return Ok(Command::Home),
        }
    }
    let word = first.text.to_lowercase();
    match word.as_str() {
        "home" => no_args(cur, "home", Command::Home),
        "help" => help(cur),
        "setup" => setup(cur),
        "add" => add(cur),
        "agenda" => only_person(cur, "agenda").map(|partner| Command::Agenda { partner }),
        "comment" => comment(cur),
        "action" => action(cur),
        "actions" => no_args(cur, "actions", Command::Actions),
        "complete" | "done" => complete(cur),
        "note" => note(cur),
        "held" => only_person(cur, "held").map(|partner| Command::Held { partner }),
        "skip" => skip(cur),
        "reschedule" => reschedule(cur),
        "history" => history(cur),
        "pause" => only_person(cur, "pause").map(|partner| Command::Pause { partner }),
        "resume" => only_person(cur, "resume").map(|partner| Command::Resume { partner }),
        "end" => only_person(cur, "end").map(|partner| Command::End { partner }),
        "questions" => questions(cur),
        "templates" => no_args(cur, "templates", Command::Templates),
        "template" => template(cur),
        "stats" => no_args(cur, "stats", Command::Stats),
        "settings" => settings(cur),
        "away" => away(cur),
        "back" => no_args(cur, "back", Command::Back),
        "request" => request(cur),
        _ => Err(unknown_command(first.text)),
    }
}

/// Every word that starts a command, for "did you mean". `template new` and
/// `template delete` start with `template`, so they need no entry of their own.
const COMMAND_WORDS: &[&str] = &[
    "home",
    "help",
    "setup",
    "add",
    "agenda",
    "comment",
    "action",
    "actions",
    "complete",
    "done",
    "note",
    "held",
    "skip",
    "reschedule",
    "history",
    "pause",
    "resume",
    "end",
    "questions",
    "templates",
    "template",
    "stats",
    "settings",
    "away",
    "back",
    "request",
];

/// The command word closest to `word`, if it is close enough to be a typo.
fn closest_command(word: &str) -> Option<&'static str> {
    // Edit distance is quadratic: don't spend it on a pasted paragraph.
    if word.chars().count() > 24 {
        return None;
    }
    let word = word.to_lowercase();
    let (best, dist) = COMMAND_WORDS
        .iter()
        .map(|c| (*c, edit_distance(&word, c)))
        .min_by_key(|(_, d)| *d)?;
    let len = word.chars().count();
    let limit = if len <= 3 { 1 } else { 2 };
    (dist <= limit).then_some(best)
}

fn unknown_command(word: &str) -> ParseError {
    if parse_person(word).is_some() {
        return fail(
            "help",
            format!(
                "Start with what you want to do, then the person — for example `add {} TEXT` or `agenda {}`.",
                clip(word),
                clip(word)
            ),
        );
    }
    match closest_command(word) {
        Some(best) => {
            let name = if best == "done" { "complete" } else { best };
            fail(
                name,
                format!("I don't know the command {}. Did you mean `{best}`?", q(word)),
            )
        }
        None => fail(
            "help",
            format!(
                "I don't know the command {}. Type `/oneonone help` to see them all.",
                q(word)
            ),
        ),
    }
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

fn no_args(cur: Cursor<'_>, name: &str, cmd: Command) -> Result<Command, ParseError> {
    if cur.is_empty() {
        Ok(cmd)
    } else {
        Err(fail(
            name,
            format!(
                "`{name}` doesn't take anything after it — I didn't understand {}.",
                q(cur.rest())
            ),
        ))
    }
}

fn help(cur: Cursor<'_>) -> Result<Command, ParseError> {
    let topic = normalize_words(cur.rest());
    if topic.is_empty() {
        return Ok(Command::Help { topic: None });
    }
    if let Some(u) = usage_of(&topic) {
        return Ok(Command::Help {
            topic: Some(u.name.to_string()),
        });
    }
    let first = topic.split(' ').next().unwrap_or_default();
    let message = match closest_command(first) {
        Some(best) => format!("There's no command called {}. Did you mean `help {best}`?", q(&topic)),
        None => format!(
            "There's no command called {}. Type `/oneonone help` to see them all.",
            q(&topic)
        ),
    };
    Err(fail("help", message))
}

fn setup(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let partner = match cur.next() {
        None => {
            return Err(fail(
                "setup",
                "Who is the 1:1 with? Put the person right after `setup`.",
            ));
        }
        Some(tok) => parse_person(tok.text).ok_or_else(|| fail("setup", not_a_person(tok.text)))?,
    };
    if cur.is_empty() {
        return Err(fail(
            "setup",
            format!("How often should you meet? Add a cadence after the person: {CADENCE_FORMS}."),
        ));
    }
    let cadence = cadence(&mut cur).map_err(|m| fail("setup", m))?;

    let mut args = SetupArgs {
        partner,
        cadence,
        time: None,
        duration_minutes: None,
        tz: None,
        template: None,
    };
    let mut seen: Vec<String> = Vec::new();
    while let Some(tok) = cur.next() {
        let key = tok.text.to_lowercase();
        let key = match key.as_str() {
            "timezone" | "zone" => "tz".to_string(),
            _ => key,
        };
        if matches!(key.as_str(), "at" | "for" | "tz" | "template") {
            if seen.contains(&key) {
                return Err(fail(
                    "setup",
                    format!("You gave `{key}` twice — give each option once."),
                ));
            }
            seen.push(key.clone());
        }
        match key.as_str() {
            "at" => {
                if matches!(args.cadence, Cadence::Cron(_)) {
                    return Err(fail(
                        "setup",
                        "A cron cadence already says the time of day — leave out `at TIME`, or use weekly/monthly with `at`.",
                    ));
                }
                let value = option_value(&mut cur, SETUP_KEYWORDS);
                if value.is_empty() {
                    return Err(fail("setup", "At what time? For example `at 10am` or `at 14:30`."));
                }
                args.time = Some(parse_time(&value).ok_or_else(|| fail("setup", time_error(&value)))?);
            }
            "for" => {
                let value = option_value(&mut cur, SETUP_KEYWORDS);
                if value.is_empty() {
                    return Err(fail("setup", "For how long? For example `for 30m` or `for 1h`."));
                }
                let minutes = parse_duration(&value).ok_or_else(|| {
                    fail(
                        "setup",
                        format!(
                            "I couldn't read {} as a duration — try 30m, 45 minutes, 1h or 1h30m.",
                            q(&value)
                        ),
                    )
                })?;
                if !(MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES).contains(&minutes) {
                    return Err(fail(
                        "setup",
                        format!(
                            "A 1:1 can last from {MIN_DURATION_MINUTES} minutes to {} hours; {} is {minutes} minutes.",
                            MAX_DURATION_MINUTES / 60,
                            q(&value)
                        ),
                    ));
                }
                args.duration_minutes = Some(minutes);
            }
            "tz" => {
                let value = option_value(&mut cur, SETUP_KEYWORDS);
                if value.is_empty() {
                    return Err(fail("setup", "Which time zone? For example `tz Europe/Berlin`."));
                }
                args.tz = Some(parse_zone(&value).ok_or_else(|| fail("setup", zone_error(&value)))?);
            }
            "template" => {
                // The name takes the rest of the line: template names may
                // contain spaces and even option words ("Sync at work").
                let name = template_name(cur.rest()).map_err(|m| fail("setup", m))?;
                args.template = Some(name);
                cur.pos = cur.src.len();
            }
            _ => {
                return Err(fail(
                    "setup",
                    format!(
                        "I didn't understand {} — after the cadence, use `at TIME`, `for DURATION`, `tz ZONE` or `template NAME`.",
                        q(tok.text)
                    ),
                ));
            }
        }
    }
    Ok(Command::Setup(args))
}

const SETUP_KEYWORDS: &[&str] = &["at", "for", "tz", "timezone", "zone", "template"];

/// The words of an option's value: everything up to the next keyword, joined
/// with single spaces.
fn option_value(cur: &mut Cursor<'_>, keywords: &[&str]) -> String {
    let mut words = Vec::new();
    while let Some(tok) = cur.peek() {
        if keywords.iter().any(|k| tok.text.eq_ignore_ascii_case(k)) {
            break;
        }
        words.push(tok.text);
        cur.next();
    }
    words.join(" ")
}

fn add(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    // Person and category may come in either order, each at most once.
    let mut partner = None;
    let mut category = None;
    for _ in 0..2 {
        if partner.is_none()
            && let Some(p) = opt_person(&mut cur)
        {
            partner = Some(p);
            continue;
        }
        if category.is_none()
            && let Some(tok) = cur.peek()
            && let Some(tag) = category_tag(tok.text)
        {
            category = Some(Category::parse(tag).ok_or_else(|| fail("add", unknown_category(tok.text)))?);
            cur.next();
            continue;
        }
        break;
    }
    let text = required_text(
        "add",
        "talking point",
        cur.rest(),
        "What should the talking point say? Write it after the person and category.",
    )?;
    Ok(Command::Add {
        partner,
        category,
        text,
    })
}

fn comment(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let partner = opt_person(&mut cur);
    let Some(tok) = cur.next() else {
        return Err(fail(
            "comment",
            "Which talking point? Give its number from the agenda, then your comment.",
        ));
    };
    let point = parse_number(tok.text).map_err(|e| {
        fail(
            "comment",
            number_error(
                e,
                tok.text,
                "a talking point",
                "talking points",
                "use its number on the agenda, like 2",
            ),
        )
    })?;
    let point = u32::try_from(point).map_err(|_| {
        fail(
            "comment",
            format!("{} is too big for a talking point number.", q(tok.text)),
        )
    })?;
    let text = required_text(
        "comment",
        "comment",
        cur.rest(),
        "What's the comment? Write it after the talking point's number.",
    )?;
    Ok(Command::Comment { partner, point, text })
}

fn action(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let partner = opt_person(&mut cur);
    let toks = cur.tokens();
    let words: Vec<&str> = toks.iter().map(|t| t.text).collect();
    // `due DATE` and `owner X` count only at the very end (either order), so
    // "review due diligence doc" stays text.
    let mut end = words.len();
    let mut due = None;
    let mut owner = None;
    loop {
        if owner.is_none()
            && end >= 2
            && words[end - 2].eq_ignore_ascii_case("owner")
            && let Some(o) = parse_owner(words[end - 1])
        {
            owner = Some(o);
            end -= 2;
            continue;
        }
        if due.is_none() {
            let found = (end.saturating_sub(4)..end.saturating_sub(1))
                .rev()
                .filter(|&i| words[i].eq_ignore_ascii_case("due"))
                .find_map(|i| parse_date(&words[i + 1..end]).map(|d| (i, d)));
            if let Some((i, d)) = found {
                due = Some(d);
                end = i;
                continue;
            }
        }
        break;
    }
    let text = match (toks.first(), end.checked_sub(1).and_then(|last| toks.get(last))) {
        (Some(first), Some(last)) => &cur.src[first.start..last.end],
        _ => "",
    };
    let text = required_text(
        "action",
        "action item",
        text,
        "What's the action item? Write it before `due` and `owner`.",
    )?;
    Ok(Command::Action {
        partner,
        text,
        due,
        owner,
    })
}

fn parse_owner(word: &str) -> Option<OwnerRef> {
    if word.eq_ignore_ascii_case("me") {
        Some(OwnerRef::Me)
    } else {
        parse_person(word).map(OwnerRef::Person)
    }
}

fn complete(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let Some(tok) = cur.next() else {
        return Err(fail(
            "complete",
            "Which action item? Give its number — `actions` shows the number next to each item.",
        ));
    };
    let item = parse_number(tok.text).map_err(|e| {
        fail(
            "complete",
            number_error(
                e,
                tok.text,
                "an action item",
                "action items",
                "use the number `actions` shows next to it, like 12",
            ),
        )
    })?;
    let item = i64::try_from(item).map_err(|_| {
        fail(
            "complete",
            format!("{} is too big for an action item number.", q(tok.text)),
        )
    })?;
    if !cur.is_empty() {
        return Err(fail(
            "complete",
            format!("`complete` takes one number — I didn't understand {}.", q(cur.rest())),
        ));
    }
    Ok(Command::Complete { item })
}

fn note(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let partner = opt_person(&mut cur);
    let text = required_text(
        "note",
        "note",
        cur.rest(),
        "What should the note say? Write it after the person.",
    )?;
    Ok(Command::Note { partner, text })
}

fn skip(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let partner = opt_person(&mut cur);
    let reason = optional_text("skip", "reason", cur.rest())?;
    Ok(Command::Skip { partner, reason })
}

fn reschedule(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let partner = opt_person(&mut cur);
    cur.eat("to");
    let words: Vec<&str> = cur.tokens().iter().map(|t| t.text).collect();
    if words.is_empty() {
        return Err(fail(
            "reschedule",
            "When should the meeting move to? Give a date and, if you like, a time.",
        ));
    }
    let when = parse_when(&words).map_err(|m| fail("reschedule", m))?;
    Ok(Command::Reschedule { partner, when })
}

/// WHEN: `DATE [[at] TIME]`, or `[at] TIME DATE`.
fn parse_when(words: &[&str]) -> Result<WhenSpec, String> {
    // The longest date prefix: `in 3 days` before `in`.
    for k in (1..=words.len().min(3)).rev() {
        if let Some(date) = parse_date(&words[..k]) {
            let mut rest = &words[k..];
            let had_at = rest.first().is_some_and(|w| w.eq_ignore_ascii_case("at"));
            if had_at {
                rest = &rest[1..];
            }
            if rest.is_empty() {
                if had_at {
                    return Err("At what time? For example `friday at 3pm`.".to_string());
                }
                return Ok(WhenSpec { date, time: None });
            }
            let time_text = rest.join(" ");
            let time = parse_time(&time_text).ok_or_else(|| time_error(&time_text))?;
            return Ok(WhenSpec { date, time: Some(time) });
        }
    }
    // Time first: `3pm friday`, `at 3pm tomorrow`.
    let after_at = match words.first() {
        Some(w) if w.eq_ignore_ascii_case("at") => &words[1..],
        _ => words,
    };
    for k in 1..after_at.len() {
        if let Some(time) = parse_time(&after_at[..k].join(" "))
            && let Some(date) = parse_date(&after_at[k..])
        {
            return Ok(WhenSpec { date, time: Some(time) });
        }
    }
    if after_at.len() != words.len() || words.first().and_then(|w| parse_time(w)).is_some() {
        return Err("Which day? Put the date first, for example `friday at 3pm` or `2026-12-04 14:30`.".to_string());
    }
    let shown = words.first().copied().unwrap_or_default();
    Err(date_error(shown))
}

fn history(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let mut partner = None;
    let mut count = None;
    while let Some(tok) = cur.next() {
        if partner.is_none()
            && let Some(p) = parse_person(tok.text)
        {
            partner = Some(p);
            continue;
        }
        if count.is_none() && tok.text.chars().all(|c| c.is_ascii_digit() || c == '#') {
            let n = match parse_number(tok.text) {
                Ok(n) => Some(n),
                Err(NumberError::Zero) => {
                    return Err(fail(
                        "history",
                        format!(
                            "`history` shows at least 1 meeting — give a count from 1 to {MAX_HISTORY}, or none for the last 5."
                        ),
                    ));
                }
                Err(NumberError::TooBig) => None,
                Err(NumberError::NotANumber) => {
                    return Err(fail(
                        "history",
                        format!("I couldn't read {} as a number of meetings.", q(tok.text)),
                    ));
                }
            };
            let n = n
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n <= MAX_HISTORY)
                .ok_or_else(|| {
                    fail(
                        "history",
                        format!(
                            "I can show at most {MAX_HISTORY} meetings at a time; {} is too many.",
                            q(tok.text)
                        ),
                    )
                })?;
            count = Some(n);
            continue;
        }
        return Err(fail(
            "history",
            format!(
                "I didn't understand {} — `history` takes a person and how many meetings to show, like `history @rahul 10`.",
                q(tok.text)
            ),
        ));
    }
    Ok(Command::History { partner, count })
}

fn questions(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let Some(tok) = cur.next() else {
        return Ok(Command::Questions { category: None });
    };
    let name = tok.text.strip_prefix('#').unwrap_or(tok.text);
    let category = Category::parse(name).ok_or_else(|| fail("questions", unknown_category(tok.text)))?;
    if !cur.is_empty() {
        return Err(fail(
            "questions",
            format!(
                "`questions` takes one category — I didn't understand {}.",
                q(cur.rest())
            ),
        ));
    }
    Ok(Command::Questions {
        category: Some(category),
    })
}

fn template(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let Some(tok) = cur.peek() else {
        // `template` alone can only mean "which templates are there?".
        return Ok(Command::Templates);
    };
    match tok.text.to_lowercase().as_str() {
        "new" | "create" | "add" => {
            cur.next();
            template_new(cur.rest())
        }
        "delete" | "remove" => {
            cur.next();
            if cur.is_empty() {
                return Err(fail(
                    "template delete",
                    "Which template? Put its name after `template delete`.",
                ));
            }
            let name = template_name(cur.rest()).map_err(|m| fail("template delete", m))?;
            Ok(Command::TemplateDelete { name })
        }
        _ => {
            let name = template_name(cur.rest()).map_err(|m| fail("template", m))?;
            Ok(Command::TemplateShow { name })
        }
    }
}

fn template_new(rest: &str) -> Result<Command, ParseError> {
    const NAME: &str = "template new";
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(fail(
            NAME,
            "Give the template a name, a colon, then its items separated by `;`.",
        ));
    }
    // A quoted name may itself contain a colon: `template new "1:1 basics": …`.
    let (name, items) = match split_quoted(rest) {
        Some((inner, after)) => match after.trim_start().strip_prefix(':') {
            Some(items) => (inner, items),
            None => {
                return Err(fail(
                    NAME,
                    format!(
                        "Put a colon after the name {}, then the items separated by `;`.",
                        q(inner)
                    ),
                ));
            }
        },
        None => match rest.split_once(':') {
            Some((name, items)) => (name, items),
            None => {
                return Err(fail(
                    NAME,
                    format!(
                        "Put a colon after the template's name, then the items separated by `;` — I read no colon in {}. (To show a template whose name starts with “new”, quote its name: template \"new …\".)",
                        q(rest)
                    ),
                ));
            }
        },
    };
    let name = template_name(name).map_err(|m| fail(NAME, m))?;
    // Items are split on `;` and on line breaks: a multi-line Slack message
    // with one item per line means the same thing.
    let items: Vec<String> = items
        .split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if items.is_empty() {
        return Err(fail(
            NAME,
            format!(
                "The template {} has no items — list them after the colon, separated by `;`.",
                q(&name)
            ),
        ));
    }
    if items.len() > MAX_TEMPLATE_ITEMS {
        return Err(fail(
            NAME,
            format!(
                "A template can have at most {MAX_TEMPLATE_ITEMS} items; this one has {}.",
                items.len()
            ),
        ));
    }
    if let Some((i, item)) = items
        .iter()
        .enumerate()
        .find(|(_, s)| s.chars().count() > MAX_TEMPLATE_ITEM_CHARS)
    {
        return Err(fail(
            NAME,
            format!(
                "Item {} ({}) is {} characters long — template items can be at most {MAX_TEMPLATE_ITEM_CHARS}.",
                i + 1,
                q(item),
                thousands(item.chars().count())
            ),
        ));
    }
    Ok(Command::TemplateNew { name, items })
}

/// A template name: trimmed, surrounding quotes removed, 1–80 characters.
fn template_name(s: &str) -> Result<String, String> {
    let s = s.trim();
    let name = match split_quoted(s) {
        Some((inner, after)) if after.trim().is_empty() => inner.trim(),
        _ => s,
    };
    if name.is_empty() {
        return Err("The template name is empty — give it a name.".to_string());
    }
    let n = name.chars().count();
    if n > MAX_TEMPLATE_NAME_CHARS {
        return Err(format!(
            "That template name is {n} characters long — the limit is {MAX_TEMPLATE_NAME_CHARS}."
        ));
    }
    Ok(name.to_string())
}

fn settings(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    const KEYWORDS: &[&str] = &["tz", "timezone", "zone", "hours", "nudges", "nudge"];
    let mut tz = None;
    let mut hours = None;
    let mut nudges = None;
    while let Some(tok) = cur.next() {
        match tok.text.to_lowercase().as_str() {
            "tz" | "timezone" | "zone" => {
                if tz.is_some() {
                    return Err(fail("settings", "You gave `tz` twice — give it once."));
                }
                let value = option_value(&mut cur, KEYWORDS);
                if value.is_empty() {
                    return Err(fail("settings", "Which time zone? For example `tz Europe/Berlin`."));
                }
                tz = Some(parse_zone(&value).ok_or_else(|| fail("settings", zone_error(&value)))?);
            }
            "hours" => {
                if hours.is_some() {
                    return Err(fail("settings", "You gave `hours` twice — give it once."));
                }
                let value = option_value(&mut cur, KEYWORDS);
                if value.is_empty() {
                    return Err(fail("settings", "Which working hours? For example `hours 9:00-17:30`."));
                }
                hours = Some(parse_hours(&value).map_err(|m| fail("settings", m))?);
            }
            "nudges" | "nudge" => {
                if nudges.is_some() {
                    return Err(fail("settings", "You gave `nudges` twice — give it once."));
                }
                let value = option_value(&mut cur, KEYWORDS);
                nudges = Some(match value.to_lowercase().as_str() {
                    "on" | "yes" | "true" => true,
                    "off" | "no" | "false" => false,
                    "" => {
                        return Err(fail("settings", "Nudges on or off? Write `nudges on` or `nudges off`."));
                    }
                    _ => {
                        return Err(fail(
                            "settings",
                            format!("Nudges can be `on` or `off`, not {}.", q(&value)),
                        ));
                    }
                });
            }
            _ => {
                return Err(fail(
                    "settings",
                    format!(
                        "I didn't understand {} — `settings` takes `tz ZONE`, `hours HH:MM-HH:MM` and `nudges on|off`.",
                        q(tok.text)
                    ),
                ));
            }
        }
    }
    // Bare `settings` shows the current ones.
    Ok(Command::Settings { tz, hours, nudges })
}

fn away(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    if !cur.eat("until") {
        let _ = cur.eat("till") || cur.eat("til");
    }
    let words: Vec<&str> = cur.tokens().iter().map(|t| t.text).collect();
    if words.is_empty() {
        return Err(fail(
            "away",
            "Until when? Give the last day you're away, for example `away until 2026-12-04`.",
        ));
    }
    let until = parse_date(&words).ok_or_else(|| fail("away", date_error(&words.join(" "))))?;
    Ok(Command::Away { until })
}

fn request(mut cur: Cursor<'_>) -> Result<Command, ParseError> {
    let partner = match cur.next() {
        None => {
            return Err(fail(
                "request",
                "Who would you like to meet? Put the person after `request`.",
            ));
        }
        Some(tok) => parse_person(tok.text).ok_or_else(|| fail("request", not_a_person(tok.text)))?,
    };
    let text = optional_text("request", "message", cur.rest())?;
    Ok(Command::Request { partner, text })
}

// ---------------------------------------------------------------------------
// People, categories, numbers, text
// ---------------------------------------------------------------------------

/// Reads one PERSON token:
/// - `<@U123>`, `<@U123|name>` (Slack), `<@29:1aUser…>` (Teams, rewritten by
///   the adapter) → [`PersonRef::Mention`] with the id;
/// - `<mailto:a@b.com|a@b.com>` (Slack's escaping) and `a@b.com` →
///   [`PersonRef::Email`], lowercased;
/// - `@name` → [`PersonRef::Name`], as typed.
///
/// A trailing `,` `:` or `;` is ignored (`@rahul: …`).
pub fn parse_person(token: &str) -> Option<PersonRef> {
    let token = token.trim().trim_end_matches([',', ':', ';']);
    if let Some(inner) = token.strip_prefix("<@").and_then(|r| r.strip_suffix('>')) {
        if inner.contains(['<', '>']) {
            return None;
        }
        let id = inner.split('|').next().unwrap_or_default();
        let valid = !id.is_empty() && !id.chars().any(char::is_whitespace);
        return valid.then(|| PersonRef::Mention(id.to_string()));
    }
    if let Some(inner) = token.strip_prefix("<mailto:").and_then(|r| r.strip_suffix('>')) {
        let addr = inner.split('|').next().unwrap_or_default();
        return is_email(addr).then(|| PersonRef::Email(addr.to_lowercase()));
    }
    if let Some(name) = token.strip_prefix('@') {
        let valid = !name.is_empty()
            && !name
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '@' | '<' | '>' | '|' | '#' | '"'));
        return valid.then(|| PersonRef::Name(name.to_string()));
    }
    is_email(token).then(|| PersonRef::Email(token.to_lowercase()))
}

/// A plain e-mail address, checked just enough to tell it from other words.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let bad = |c: char| c.is_whitespace() || "<>()[]\\,;:\"'@|".contains(c);
    !local.is_empty()
        && !local.chars().any(bad)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.chars().any(bad)
}

fn opt_person(cur: &mut Cursor<'_>) -> Option<PersonRef> {
    let p = parse_person(cur.peek()?.text)?;
    cur.next();
    Some(p)
}

/// For commands whose only argument is an optional person.
fn only_person(mut cur: Cursor<'_>, name: &str) -> Result<Option<PersonRef>, ParseError> {
    let Some(tok) = cur.next() else {
        return Ok(None);
    };
    let Some(p) = parse_person(tok.text) else {
        return Err(fail(name, not_a_person(tok.text)));
    };
    if !cur.is_empty() {
        return Err(fail(
            name,
            format!("`{name}` takes only a person — I didn't understand {}.", q(cur.rest())),
        ));
    }
    Ok(Some(p))
}

fn not_a_person(s: &str) -> String {
    format!(
        "I couldn't read {} as a person — mention them (@name) or use their e-mail address.",
        q(s)
    )
}

/// The word after `#` when `s` looks like a category tag (`#goals`), not
/// like a number (`#3`) or a channel.
fn category_tag(s: &str) -> Option<&str> {
    let tag = s.strip_prefix('#')?.trim_end_matches([',', ':']);
    let mut chars = tag.chars();
    let starts_alpha = chars.next().is_some_and(|c| c.is_alphabetic());
    (starts_alpha && tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')).then_some(tag)
}

fn unknown_category(s: &str) -> String {
    let all: Vec<String> = Category::ALL.iter().map(|c| format!("#{}", c.as_str())).collect();
    format!("I don't know the category {} — use one of {}.", q(s), all.join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberError {
    NotANumber,
    Zero,
    TooBig,
}

/// A positive number, optionally written `#N` (as it is shown in listings).
fn parse_number(s: &str) -> Result<u64, NumberError> {
    let digits = s.strip_prefix('#').unwrap_or(s).trim_end_matches(['.', ',', ':']);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    match digits.parse::<u64>() {
        Ok(0) => Err(NumberError::Zero),
        Ok(n) if n <= i64::MAX as u64 => Ok(n),
        _ => Err(NumberError::TooBig),
    }
}

/// `what`: "a talking point"; `whats`: "talking points"; `hint`: where the
/// numbers are shown.
fn number_error(e: NumberError, s: &str, what: &str, whats: &str, hint: &str) -> String {
    match e {
        NumberError::NotANumber => {
            format!("I couldn't read {} as {what} number — {hint}.", q(s))
        }
        NumberError::Zero => format!("{} are numbered from 1, so there's no 0.", capitalize(whats)),
        NumberError::TooBig => format!("{} is too big for {what} number.", q(s)),
    }
}

/// Required free text: trimmed, non-empty, at most [`MAX_TEXT_CHARS`].
fn required_text(name: &str, what: &str, s: &str, if_empty: &str) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(fail(name, if_empty));
    }
    check_length(name, what, s)?;
    Ok(s.to_string())
}

/// Optional free text: `None` when empty.
fn optional_text(name: &str, what: &str, s: &str) -> Result<Option<String>, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    check_length(name, what, s)?;
    Ok(Some(s.to_string()))
}

fn check_length(name: &str, what: &str, s: &str) -> Result<(), ParseError> {
    let n = s.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(fail(
            name,
            format!(
                "That {what} is {} characters long — the limit is {}. Shorten it, or split it in two.",
                thousands(n),
                thousands(MAX_TEXT_CHARS)
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Cadence
// ---------------------------------------------------------------------------

const CADENCE_FORMS: &str =
    "`weekly on DAY`, `biweekly on DAY`, `every N weeks on DAY`, `monthly on the first DAY` or `cron \"EXPR\"`";

/// Parses a whole CADENCE (and nothing else): `weekly [on] DAY`,
/// `biweekly [on] DAY`, `every N weeks [on] DAY`, `every week on DAY`,
/// `every other week on DAY`, `every DAY`, `monthly [on] [the] first DAY`
/// (second, third, fourth, last; 1st … 4th) or `cron "EXPR"`. The error is a
/// message for the person.
pub fn parse_cadence(s: &str) -> Result<Cadence, String> {
    let mut cur = Cursor::new(s);
    if cur.is_empty() {
        return Err(format!("How often? Give a cadence: {CADENCE_FORMS}."));
    }
    let cadence = cadence(&mut cur)?;
    if !cur.is_empty() {
        return Err(format!("I didn't understand {} after the cadence.", q(cur.rest())));
    }
    Ok(cadence)
}

fn cadence(cur: &mut Cursor<'_>) -> Result<Cadence, String> {
    let Some(tok) = cur.next() else {
        return Err(format!("How often? Give a cadence: {CADENCE_FORMS}."));
    };
    let word = tok.text.to_lowercase();
    match word.as_str() {
        "weekly" => Ok(Cadence::Weekly {
            interval: 1,
            weekday: day_after_on(cur, "weekly")?,
        }),
        "biweekly" | "bi-weekly" | "fortnightly" => Ok(Cadence::Weekly {
            interval: 2,
            weekday: day_after_on(cur, "biweekly")?,
        }),
        "every" => every(cur),
        "monthly" => {
            cur.eat("on");
            cur.eat("the");
            let Some(w) = cur.next() else {
                return Err("Which week of the month? For example `monthly on the first monday` (first, second, third, fourth or last).".to_string());
            };
            let week = parse_month_week(w.text).ok_or_else(|| {
                format!(
                    "I couldn't read {} as a week of the month — try first, second, third, fourth or last, as in `monthly on the first monday`.",
                    q(w.text)
                )
            })?;
            Ok(Cadence::Monthly {
                week,
                weekday: day(cur, "monthly on the first")?,
            })
        }
        "cron" => cron_cadence(cur),
        _ => match parse_weekday(&word) {
            Some(d) => Err(format!(
                "Say how often too — for example `weekly on {}` or `biweekly on {}`.",
                weekday_name(d),
                weekday_name(d)
            )),
            None => Err(format!(
                "I couldn't read {} as a cadence — try {CADENCE_FORMS}.",
                q(tok.text)
            )),
        },
    }
}

/// After `every`: `week`, `other week`, `N weeks`, `DAY`, `other DAY`.
fn every(cur: &mut Cursor<'_>) -> Result<Cadence, String> {
    let Some(tok) = cur.next() else {
        return Err("Every how many weeks? For example `every 2 weeks on monday`.".to_string());
    };
    let word = tok.text.to_lowercase();
    if let Some(weekday) = parse_weekday(&word) {
        return Ok(Cadence::Weekly { interval: 1, weekday });
    }
    let interval = match word.as_str() {
        "week" => 1,
        "other" => {
            cur.eat("week");
            2
        }
        _ => {
            let n = word_number(&word).ok_or_else(|| {
                format!(
                    "I couldn't read {} as a number of weeks — write it like `every 3 weeks on monday`.",
                    q(tok.text)
                )
            })?;
            if n == 0 || n > MAX_WEEK_INTERVAL {
                return Err(format!(
                    "Every 1 to {MAX_WEEK_INTERVAL} weeks works; {} doesn't.",
                    q(tok.text)
                ));
            }
            match cur.next() {
                Some(w) if matches!(w.text.to_lowercase().as_str(), "week" | "weeks") => {}
                Some(w) => {
                    return Err(format!(
                        "Write `every {n} weeks on DAY` — I expected “weeks” where you wrote {}.",
                        q(w.text)
                    ));
                }
                None => return Err(format!("Every {n} what? Write `every {n} weeks on DAY`.")),
            }
            n
        }
    };
    Ok(Cadence::Weekly {
        interval,
        weekday: day_after_on(cur, "every 2 weeks")?,
    })
}

/// `2`, or the words two … twelve (people write "every two weeks").
fn word_number(s: &str) -> Option<u32> {
    const WORDS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    ];
    if s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok().or(Some(u32::MAX));
    }
    WORDS
        .iter()
        .position(|w| *w == s)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn day_after_on(cur: &mut Cursor<'_>, lead: &str) -> Result<Weekday, String> {
    cur.eat("on");
    day(cur, lead)
}

fn day(cur: &mut Cursor<'_>, lead: &str) -> Result<Weekday, String> {
    match cur.next() {
        None => Err(format!("Which day? For example `{lead} tuesday`.")),
        Some(tok) => parse_weekday(tok.text)
            .ok_or_else(|| format!("I couldn't read {} as a day — try monday … sunday.", q(tok.text))),
    }
}

fn parse_month_week(s: &str) -> Option<MonthWeek> {
    match s.to_lowercase().as_str() {
        "first" | "1st" => Some(MonthWeek::First),
        "second" | "2nd" => Some(MonthWeek::Second),
        "third" | "3rd" => Some(MonthWeek::Third),
        "fourth" | "4th" => Some(MonthWeek::Fourth),
        "last" => Some(MonthWeek::Last),
        _ => None,
    }
}

/// `cron "EXPR"` (straight or curly quotes; unquoted fields are read up to
/// the next option word). Validated with the `cron` crate; five fields get a
/// leading `0 ` for seconds, and the stored form has single spaces.
fn cron_cadence(cur: &mut Cursor<'_>) -> Result<Cadence, String> {
    cur.skip_ws();
    let rest = &cur.src[cur.pos..];
    let expr = if let Some((inner, after)) = split_quoted(rest) {
        cur.pos = cur.src.len() - after.len();
        inner.to_string()
    } else if rest.starts_with(['"', '“', '”', '\'', '‘', '’']) {
        return Err("The cron expression has no closing quote — write it like `cron \"0 9 * * MON\"`.".to_string());
    } else {
        option_value(cur, SETUP_KEYWORDS)
    };
    Ok(Cadence::Cron(normalize_cron(&expr)?))
}

/// Checks a cron expression and returns it in the stored form (6 or 7
/// fields, single spaces). Public so the store can re-check what it loads.
pub fn normalize_cron(expr: &str) -> Result<String, String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let normalized = match fields.len() {
        0 => {
            return Err("The cron expression is empty — write it like `cron \"0 9 * * MON\"`.".to_string());
        }
        1 if fields[0].starts_with('@') => fields[0].to_string(),
        5 => format!("0 {}", fields.join(" ")),
        6 | 7 => fields.join(" "),
        n => {
            return Err(format!(
                "A cron expression has 5 fields (minute hour day month weekday), or 6–7 with seconds first and a year last; {} has {n}.",
                q(expr.trim())
            ));
        }
    };
    let schedule = cron::Schedule::from_str(&normalized).map_err(|e| {
        // The crate's message is several lines (expression, caret, reason);
        // the reason is the useful part.
        let text = e.to_string();
        let reason = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        format!(
            "{} isn't a valid cron expression: {}",
            q(expr.trim()),
            clip_to(reason.trim(), 100)
        )
    })?;
    // `0 0 9 31 2 *` parses but never fires. The clock is not read here: a
    // fixed start in the past is enough to catch impossible dates.
    if let Some(start) = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
        && schedule.after(&start.and_utc()).next().is_none()
    {
        return Err(format!(
            "{} never happens — check the day and month fields.",
            q(expr.trim())
        ));
    }
    Ok(normalized)
}

// ---------------------------------------------------------------------------
// Days, dates, times, durations, zones
// ---------------------------------------------------------------------------

/// A weekday, case-insensitive: `monday`, `mon`, `tue`/`tues`, `wed`/`weds`,
/// `thu`/`thur`/`thurs`, `fri`, `sat`, `sun`, and plurals (`mondays`).
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    let s = s.to_lowercase();
    let s = s.trim_end_matches([',', '.']);
    parse_weekday_singular(s).or_else(|| {
        s.strip_suffix('s')
            .filter(|base| base.ends_with("day"))
            .and_then(parse_weekday_singular)
    })
}

fn parse_weekday_singular(s: &str) -> Option<Weekday> {
    match s.to_lowercase().as_str() {
        "monday" | "mon" => Some(Weekday::Mon),
        "tuesday" | "tue" | "tues" => Some(Weekday::Tue),
        "wednesday" | "wed" | "weds" => Some(Weekday::Wed),
        "thursday" | "thu" | "thur" | "thurs" => Some(Weekday::Thu),
        "friday" | "fri" => Some(Weekday::Fri),
        "saturday" | "sat" => Some(Weekday::Sat),
        "sunday" | "sun" => Some(Weekday::Sun),
        _ => None,
    }
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// A DATE made of whole words (all of `words` must be used): `2026-12-04`,
/// `today`, `tomorrow`, a weekday (`friday`, `fri`; the next one),
/// `next friday`, `in N days`, `in N weeks`.
pub fn parse_date(words: &[&str]) -> Option<DateSpec> {
    match words {
        [one] => parse_date_word(one),
        [next, day] if next.eq_ignore_ascii_case("next") => parse_weekday_singular(day).map(DateSpec::Next),
        [inn, n, unit] if inn.eq_ignore_ascii_case("in") => {
            if !n.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let n: u32 = n.parse().ok()?;
            let days = match unit.to_lowercase().as_str() {
                "day" | "days" => n,
                "week" | "weeks" => n.checked_mul(7)?,
                _ => return None,
            };
            (days <= MAX_IN_DAYS).then_some(DateSpec::InDays(days))
        }
        _ => None,
    }
}

/// [`parse_date`] on a string split at whitespace.
pub fn parse_date_str(s: &str) -> Option<DateSpec> {
    let words: Vec<&str> = s.split_whitespace().collect();
    parse_date(&words)
}

fn parse_date_word(s: &str) -> Option<DateSpec> {
    match s.to_lowercase().as_str() {
        "today" => return Some(DateSpec::Today),
        "tomorrow" => return Some(DateSpec::Tomorrow),
        _ => {}
    }
    if let Some(d) = parse_weekday_singular(s) {
        return Some(DateSpec::Next(d));
    }
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    if ![y, m, d].iter().all(|p| p.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).map(DateSpec::On)
}

fn date_error(s: &str) -> String {
    format!(
        "I couldn't read {} as a date — try 2026-12-04, today, tomorrow, a weekday like friday, or in 3 days.",
        q(s)
    )
}

/// A time of day: `10:00`, `14:30`, `9.30` (24-hour, minutes required),
/// `10am`, `2:30pm`, `2:30 p.m.` (12-hour), `noon`, `midnight`. A bare number
/// (`3`) is refused: it is too often meant as 3pm.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    match s.as_str() {
        "noon" | "midday" => return NaiveTime::from_hms_opt(12, 0, 0),
        "midnight" => return NaiveTime::from_hms_opt(0, 0, 0),
        _ => {}
    }
    let (body, pm) = if let Some(b) = s.strip_suffix("am").or_else(|| s.strip_suffix("a.m.")) {
        (b, Some(false))
    } else if let Some(b) = s.strip_suffix("pm").or_else(|| s.strip_suffix("p.m.")) {
        (b, Some(true))
    } else {
        (s.as_str(), None)
    };
    let (h, m) = match body.split_once([':', '.']) {
        Some((h, m)) => (h, Some(m)),
        None => (body, None),
    };
    let has_minutes = m.is_some();
    let digits = |p: &str, lens: std::ops::RangeInclusive<usize>| {
        lens.contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit())
    };
    if !digits(h, 1..=2) || m.is_some_and(|m| !digits(m, 2..=2)) {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = match m {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    let hour = match pm {
        Some(pm) => {
            if !(1..=12).contains(&h) {
                return None;
            }
            h % 12 + if pm { 12 } else { 0 }
        }
        None if has_minutes => h,
        None => return None,
    };
    NaiveTime::from_hms_opt(hour, m, 0)
}

fn time_error(s: &str) -> String {
    format!("I couldn't read {} as a time — try 10:00, 10am, 2:30pm or 14:30.", q(s))
}

/// Working hours `START-END`: each side a TIME or a bare 24-hour hour
/// (`9-17:30`, `9am-5pm`, `09:00-18:00`); a dash, en dash or em dash between,
/// spaces allowed. START must be before END.
pub fn parse_hours(s: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let Some((a, b)) = compact.split_once(['-', '–', '—']) else {
        return Err(format!(
            "I couldn't read {} as working hours — write them like 9:00-17:30 or 9am-5pm.",
            q(s)
        ));
    };
    let side = |p: &str| {
        parse_time(p).or_else(|| {
            let ok = (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit());
            ok.then(|| p.parse::<u32>().ok())
                .flatten()
                .and_then(|h| NaiveTime::from_hms_opt(h, 0, 0))
        })
    };
    let start = side(a).ok_or_else(|| time_error(a))?;
    let end = side(b).ok_or_else(|| time_error(b))?;
    if start >= end {
        return Err(format!(
            "Working hours must start before they end; {} doesn't.",
            q(s.trim())
        ));
    }
    Ok((start, end))
}

/// A duration in minutes: `30m`, `30min`, `30 minutes`, `45` (minutes),
/// `1h`, `1 hour`, `1h30m`, `1h30`, `1.5h`, `90 min`. Between 1 minute and a
/// day; fractions must come out as whole minutes.
pub fn parse_duration(s: &str) -> Option<u32> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    if s.is_empty() {
        return None;
    }
    let mut rest = s.as_str();
    let mut total: u64 = 0;
    let mut seen_hours = false;
    let mut seen_minutes = false;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        let unit_len = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_minutes: u64 = match unit {
            "h" | "hr" | "hrs" | "hour" | "hours" if !seen_hours && !seen_minutes => {
                seen_hours = true;
                60
            }
            "m" | "min" | "mins" | "minute" | "minutes" if !seen_minutes => {
                seen_minutes = true;
                1
            }
            // A bare number: minutes, alone (`45`) or after hours (`1h30`).
            "" if after.is_empty() && !seen_minutes => {
                seen_minutes = true;
                1
            }
            _ => return None,
        };
        total = total.checked_add(scaled(num, unit_minutes)?)?;
        rest = after;
    }
    let total = u32::try_from(total).ok()?;
    (1..=24 * 60).contains(&total).then_some(total)
}

/// `num` (digits, optionally one `.` and up to two decimals) times `unit`
/// minutes, when that is a whole number of minutes.
fn scaled(num: &str, unit: u64) -> Option<u64> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let all_digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || int.len() > 5 || frac.len() > 2 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    if num.contains('.') && frac.is_empty() {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let scale = 10u64.pow(u32::try_from(frac.len()).ok()?);
    let frac: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let fraction_minutes = frac * unit;
    if !fraction_minutes.is_multiple_of(scale) {
        return None;
    }
    Some(int * unit + fraction_minutes / scale)
}

/// An IANA time zone name, case-insensitive (`europe/berlin`), plus `UTC`.
pub fn parse_zone(s: &str) -> Option<Tz> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("z") {
        return Some(Tz::UTC);
    }
    Tz::from_str(s).ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(s))
            .copied()
    })
}

/// The zone a mistyped name most likely meant: a city alone (`berlin`) or a
/// near miss (`Europe/Berln`).
fn suggest_zone(s: &str) -> Option<&'static str> {
    let lower = s.to_lowercase().replace(' ', "_");
    if !lower.contains('/')
        && let Some(tz) = chrono_tz::TZ_VARIANTS.iter().find(|tz| {
            tz.name()
                .rsplit('/')
                .next()
                .is_some_and(|city| city.eq_ignore_ascii_case(&lower))
        })
    {
        return Some(tz.name());
    }
    // Short inputs (`PST`) are too close to too many zones to guess from;
    // long ones are not zone names, and edit distance is quadratic.
    if !(6..=48).contains(&lower.chars().count()) {
        return None;
    }
    let (tz, dist) = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (tz, edit_distance(&lower, &tz.name().to_lowercase())))
        .min_by_key(|(_, d)| *d)?;
    (dist <= 3).then(|| tz.name())
}

fn zone_error(s: &str) -> String {
    match suggest_zone(s) {
        Some(z) => format!("I don't know the time zone {}. Did you mean {z}?", q(s)),
        None => format!(
            "I don't know the time zone {} — use an IANA name like Europe/Berlin, America/New_York or UTC.",
            q(s)
        ),
    }
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/// Whitespace-delimited words over the original text, so free text can be
/// sliced out verbatim. A `<…>` group counts as one word even with spaces
/// inside, because Slack writes mentions as `<@U1|Rahul Sharma>`.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Cursor { src, pos: 0 }
    }

    fn skip_ws(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let mut len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if rest.starts_with('<')
            && let Some(close) = rest.find('>')
            && close > len
            && !rest[1..close].contains(['<', '\n'])
        {
            let after = close + 1;
            len = after + rest[after..].find(char::is_whitespace).unwrap_or(rest.len() - after);
        }
        let tok = Tok {
            text: &rest[..len],
            start: self.pos,
            end: self.pos + len,
        };
        self.pos += len;
        Some(tok)
    }

    fn peek(&self) -> Option<Tok<'a>> {
        let mut c = *self;
        c.next()
    }

    /// Consumes the next word if it is `word` (case-insensitive).
    fn eat(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(t) if t.text.eq_ignore_ascii_case(word) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    /// Everything not yet consumed, trimmed, exactly as typed.
    fn rest(&self) -> &'a str {
        self.src[self.pos..].trim()
    }

    fn is_empty(&self) -> bool {
        self.rest().is_empty()
    }

    fn tokens(mut self) -> Vec<Tok<'a>> {
        std::iter::from_fn(|| self.next()).collect()
    }
}

/// If `s` starts with a quote (straight or curly, double or single), the text
/// inside and what follows the closing quote.
fn split_quoted(s: &str) -> Option<(&str, &str)> {
    let open = s.chars().next()?;
    let closers: &[char] = match open {
        '"' | '“' | '”' => &['"', '“', '”'],
        '\'' | '‘' | '’' => &['\'', '‘', '’'],
        _ => return None,
    };
    let body = &s[open.len_utf8()..];
    let close = body.find(closers)?;
    let close_len = body[close..].chars().next().map_or(1, char::len_utf8);
    Some((&body[..close], &body[close + close_len..]))
}

/// Lowercases and collapses whitespace: `"Template   New"` → `"template new"`.
fn normalize_words(s: &str) -> String {
    s.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Clips echoed user input to [`ECHO_CHARS`] characters.
fn clip(s: &str) -> String {
    clip_to(s, ECHO_CHARS)
}

fn clip_to(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        let head: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", head.trim_end())
    } else {
        s.to_string()
    }
}

/// Quotes a fragment of user input for a message: “clipped”.
fn q(s: &str) -> String {
    format!("“{}”", clip(s))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
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

/// Edit distance with adjacent transpositions (optimal string alignment), so
/// "setpu" is one step from "setup".
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    if let Some(first) = d.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Command {
        parse(s).unwrap_or_else(|e| panic!("{s:?} should parse, got: {}", e.message))
    }

    fn err(s: &str) -> ParseError {
        match parse(s) {
            Ok(c) => panic!("{s:?} should fail, got {c:?}"),
            Err(e) => e,
        }
    }

    /// Asserts the error message contains `needle` and the usage is `usage_name`'s.
    fn err_says(s: &str, usage_name: &str, needle: &str) -> ParseError {
        let e = err(s);
        assert!(
            e.message.contains(needle),
            "{s:?}: message {:?} lacks {needle:?}",
            e.message
        );
        let u = usage_of(usage_name).expect("known usage");
        assert_eq!(e.usage, u.usage, "{s:?}: wrong usage for {:?}", e.message);
        assert_eq!(e.example, u.example);
        e
    }

    fn mention(id: &str) -> Option<PersonRef> {
        Some(PersonRef::Mention(id.to_string()))
    }

    fn name(n: &str) -> Option<PersonRef> {
        Some(PersonRef::Name(n.to_string()))
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn date(y: i32, m: u32, d: u32) -> DateSpec {
        DateSpec::On(NaiveDate::from_ymd_opt(y, m, d).expect("valid date"))
    }

    fn setup_args(s: &str) -> SetupArgs {
        match ok(s) {
            Command::Setup(a) => a,
            c => panic!("{s:?} gave {c:?}"),
        }
    }

    // --- home, help, unknown words -------------------------------------------

    #[test]
    fn empty_text_whitespace_and_home_all_mean_home() {
        for s in [
            "",
            "   ",
            "\n\t ",
            "home",
            "HOME",
            "  Home  ",
            "/oneonone",
            "/oneonone home",
        ] {
            assert_eq!(ok(s), Command::Home, "{s:?}");
        }
    }

    #[test]
    fn home_with_words_after_it_is_an_error_that_echoes_them() {
        err_says("home sweet home", "home", "“sweet home”");
    }

    #[test]
    fn help_alone_asks_for_everything() {
        assert_eq!(ok("help"), Command::Help { topic: None });
    }

    #[test]
    fn help_takes_a_one_or_two_word_topic_in_any_case() {
        assert_eq!(
            ok("help add"),
            Command::Help {
                topic: Some("add".into())
            }
        );
        assert_eq!(
            ok("HELP  Template   New"),
            Command::Help {
                topic: Some("template new".into())
            }
        );
        assert_eq!(
            ok("help template delete"),
            Command::Help {
                topic: Some("template delete".into())
            }
        );
        assert_eq!(
            ok("help done"),
            Command::Help {
                topic: Some("complete".into())
            }
        );
    }

    #[test]
    fn help_on_an_unknown_topic_suggests_the_closest_command() {
        err_says("help agnda", "help", "Did you mean `help agenda`?");
        err_says("help quantum physics", "help", "/oneonone help");
    }

    #[test]
    fn a_pasted_slash_command_prefix_is_ignored() {
        assert_eq!(ok("/oneonone agenda"), Command::Agenda { partner: None });
    }

    #[test]
    fn an_unknown_command_suggests_the_closest_one_with_its_usage() {
        let e = err_says("agnda", "agenda", "Did you mean `agenda`?");
        assert!(e.message.contains("“agnda”"), "{}", e.message);
        err_says("setpu @rahul weekly monday", "setup", "Did you mean `setup`?");
        err_says("ad something", "add", "Did you mean `add`?");
        err_says("compleet 3", "complete", "Did you mean `complete`?");
        err_says("Remind me", "help", "I don't know the command “Remind”");
    }

    #[test]
    fn command_words_are_case_insensitive() {
        assert_eq!(ok("AGENDA"), Command::Agenda { partner: None });
        assert_eq!(ok("Actions"), Command::Actions);
        assert!(matches!(ok("Add hello"), Command::Add { .. }));
    }

    #[test]
    fn starting_with_a_person_explains_the_word_order() {
        err_says("@rahul agenda", "help", "Start with what you want to do");
    }

    #[test]
    fn long_echoed_fragments_are_clipped() {
        let word = "x".repeat(200);
        let e = err(&word);
        assert!(e.message.contains('…'), "{}", e.message);
        assert!(e.message.chars().count() < 150, "{}", e.message);
    }

    // --- people -----------------------------------------------------------------

    #[test]
    fn slack_mentions_with_and_without_a_name_become_mentions() {
        assert_eq!(parse_person("<@U123>"), mention("U123"));
        assert_eq!(parse_person("<@U0REPORT01|rahul>"), mention("U0REPORT01"));
        assert_eq!(parse_person("<@W0ENTERPRISE>"), mention("W0ENTERPRISE"));
        assert_eq!(parse_person("<@U123|>"), mention("U123"));
        assert_eq!(
            ok("agenda <@U1|Rahul Sharma>"),
            Command::Agenda { partner: mention("U1") }
        );
    }

    #[test]
    fn teams_ids_inside_a_mention_are_accepted() {
        let id = "29:1aUserId-Xyz_0123456789abcdef";
        assert_eq!(parse_person(&format!("<@{id}>")), mention(id));
        assert_eq!(
            ok(&format!("held <@{id}|Rahul Report>")),
            Command::Held { partner: mention(id) }
        );
    }

    #[test]
    fn slack_escaped_and_plain_emails_become_lowercased_emails() {
        let email = Some(PersonRef::Email("rahul@example.com".into()));
        assert_eq!(parse_person("<mailto:Rahul@Example.com|Rahul@Example.com>"), email);
        assert_eq!(parse_person("<mailto:rahul@example.com>"), email);
        assert_eq!(parse_person("Rahul@Example.COM"), email);
        assert_eq!(ok("agenda rahul@example.com"), Command::Agenda { partner: email });
    }

    #[test]
    fn at_names_are_kept_as_typed() {
        assert_eq!(parse_person("@Rahul.Sharma"), name("Rahul.Sharma"));
        assert_eq!(parse_person("@rahul:"), name("rahul"));
        assert_eq!(parse_person("@rahul,"), name("rahul"));
    }

    #[test]
    fn malformed_mentions_and_plain_words_are_not_people() {
        for s in [
            "<@>",
            "<@U1",
            "<@U 1>",
            "@",
            "rahul",
            "<!channel>",
            "a@b",
            "@a@b",
            "<@U1>x",
            "#goals",
        ] {
            assert_eq!(parse_person(s), None, "{s:?}");
        }
    }

    #[test]
    fn a_bad_person_where_only_a_person_fits_is_an_error() {
        err_says("agenda rahul", "agenda", "I couldn't read “rahul” as a person");
        err_says("held <@>", "held", "as a person");
        err_says(
            "agenda @rahul now",
            "agenda",
            "`agenda` takes only a person — I didn't understand “now”",
        );
    }

    // --- setup ------------------------------------------------------------------

    #[test]
    fn setup_with_every_option_parses_each_of_them() {
        let a = setup_args("setup @rahul weekly on tuesday at 10am for 30m tz Europe/Berlin template Weekly check-in");
        assert_eq!(
            a,
            SetupArgs {
                partner: PersonRef::Name("rahul".into()),
                cadence: Cadence::Weekly {
                    interval: 1,
                    weekday: Weekday::Tue
                },
                time: Some(t(10, 0)),
                duration_minutes: Some(30),
                tz: Some(chrono_tz::Europe::Berlin),
                template: Some("Weekly check-in".into()),
            }
        );
    }

    #[test]
    fn setup_needs_only_a_person_and_a_cadence() {
        let a = setup_args("setup <@U1> biweekly friday");
        assert_eq!(a.partner, PersonRef::Mention("U1".into()));
        assert_eq!(
            a.cadence,
            Cadence::Weekly {
                interval: 2,
                weekday: Weekday::Fri
            }
        );
        assert_eq!((a.time, a.duration_minutes, a.tz, a.template), (None, None, None, None));
    }

    #[test]
    fn setup_options_may_come_in_any_order() {
        let a = setup_args("setup @r weekly mon tz utc for 1h30m at 14:30");
        assert_eq!(a.time, Some(t(14, 30)));
        assert_eq!(a.duration_minutes, Some(90));
        assert_eq!(a.tz, Some(Tz::UTC));
        let b = setup_args("SETUP @r Weekly Mon FOR 45 minutes AT 2:30 pm TZ america/new_york");
        assert_eq!(b.duration_minutes, Some(45));
        assert_eq!(b.time, Some(t(14, 30)));
        assert_eq!(b.tz, Some(chrono_tz::America::New_York));
    }

    #[test]
    fn setup_accepts_every_cadence_form() {
        use MonthWeek::*;
        let weekly = |interval, weekday| Cadence::Weekly { interval, weekday };
        let monthly = |week, weekday| Cadence::Monthly { week, weekday };
        let cases = [
            ("weekly monday", weekly(1, Weekday::Mon)),
            ("weekly on monday", weekly(1, Weekday::Mon)),
            ("biweekly on thursday", weekly(2, Weekday::Thu)),
            ("fortnightly wed", weekly(2, Weekday::Wed)),
            ("every 3 weeks on friday", weekly(3, Weekday::Fri)),
            ("every 3 weeks friday", weekly(3, Weekday::Fri)),
            ("every two weeks on tue", weekly(2, Weekday::Tue)),
            ("every 1 week on sun", weekly(1, Weekday::Sun)),
            ("every week on saturday", weekly(1, Weekday::Sat)),
            ("every other week on monday", weekly(2, Weekday::Mon)),
            ("every monday", weekly(1, Weekday::Mon)),
            ("monthly first monday", monthly(First, Weekday::Mon)),
            ("monthly on the second tuesday", monthly(Second, Weekday::Tue)),
            ("monthly on third wednesday", monthly(Third, Weekday::Wed)),
            ("monthly the 4th thu", monthly(Fourth, Weekday::Thu)),
            ("monthly on the last friday", monthly(Last, Weekday::Fri)),
            ("monthly 1st fri", monthly(First, Weekday::Fri)),
            ("monthly 2nd mon", monthly(Second, Weekday::Mon)),
            ("monthly 3rd mon", monthly(Third, Weekday::Mon)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_cadence(text), Ok(want.clone()), "{text:?}");
            assert_eq!(setup_args(&format!("setup @r {text} at 9am")).cadence, want, "{text:?}");
        }
    }

    #[test]
    fn days_accept_abbreviations_plurals_and_any_case() {
        let cases = [
            ("Monday", Weekday::Mon),
            ("MON", Weekday::Mon),
            ("mondays", Weekday::Mon),
            ("tue", Weekday::Tue),
            ("tues", Weekday::Tue),
            ("Tuesdays", Weekday::Tue),
            ("wed", Weekday::Wed),
            ("thu", Weekday::Thu),
            ("thur", Weekday::Thu),
            ("thurs", Weekday::Thu),
            ("fri", Weekday::Fri),
            ("sat", Weekday::Sat),
            ("sun", Weekday::Sun),
            ("sundays", Weekday::Sun),
        ];
        for (s, want) in cases {
            assert_eq!(parse_weekday(s), Some(want), "{s:?}");
        }
        for s in ["frday", "mo", "fris", "day", ""] {
            assert_eq!(parse_weekday(s), None, "{s:?}");
        }
    }

    #[test]
    fn setup_template_name_takes_the_rest_of_the_line() {
        let a = setup_args("setup @r weekly mon template Sync at work for real");
        assert_eq!(a.template.as_deref(), Some("Sync at work for real"));
        assert_eq!(a.time, None);
        let b = setup_args("setup @r weekly mon template \"Quarterly deep dive\"");
        assert_eq!(b.template.as_deref(), Some("Quarterly deep dive"));
        let c = setup_args("setup @r weekly mon at 9:00 template “Career”");
        assert_eq!(c.template.as_deref(), Some("Career"));
    }

    #[test]
    fn setup_cron_is_validated_and_stored_with_seconds() {
        let a = setup_args("setup @r cron \"0 9 * * MON\" for 30m");
        assert_eq!(a.cadence, Cadence::Cron("0 0 9 * * MON".into()));
        assert_eq!(a.duration_minutes, Some(30));
        let b = setup_args("setup @r cron “0   30 9 * * Tue”");
        assert_eq!(b.cadence, Cadence::Cron("0 30 9 * * Tue".into()));
        let c = setup_args("setup @r cron 0 9 1 * * tz Europe/London");
        assert_eq!(c.cadence, Cadence::Cron("0 0 9 1 * *".into()));
        assert_eq!(c.tz, Some(chrono_tz::Europe::London));
        assert_eq!(
            parse_cadence("cron '0 0 9 * * Mon-Fri 2030'"),
            Ok(Cadence::Cron("0 0 9 * * Mon-Fri 2030".into()))
        );
    }

    #[test]
    fn setup_cron_errors_say_what_is_wrong() {
        err_says("setup @r cron \"0 9 * *\"", "setup", "has 4");
        err_says(
            "setup @r cron \"0 99 * * MON\"",
            "setup",
            "isn't a valid cron expression",
        );
        err_says("setup @r cron \"0 9 * * MON", "setup", "no closing quote");
        err_says("setup @r cron \"\"", "setup", "empty");
        err_says("setup @r cron \"0 9 31 2 *\"", "setup", "“0 9 31 2 *” never happens");
        err_says("setup @r cron \"*/0 * * * *\"", "setup", "step cannot be zero");
        err_says(
            "setup @r cron \"0 9 * * MON\" at 10am",
            "setup",
            "already says the time",
        );
    }

    #[test]
    fn a_misspelled_day_is_named_in_the_error() {
        let e = err_says("setup @rahul weekly on frday", "setup", "");
        assert_eq!(e.message, "I couldn't read “frday” as a day — try monday … sunday.");
        err_says("setup @r monthly first frday", "setup", "“frday” as a day");
    }

    #[test]
    fn setup_errors_name_the_problem() {
        err_says("setup", "setup", "Who is the 1:1 with?");
        err_says("setup rahul weekly monday", "setup", "“rahul” as a person");
        err_says("setup @rahul", "setup", "How often");
        err_says("setup @rahul daily", "setup", "“daily” as a cadence");
        err_says("setup @rahul monday", "setup", "`weekly on monday`");
        err_says("setup @rahul weekly", "setup", "Which day?");
        err_says(
            "setup @rahul monthly fifth monday",
            "setup",
            "“fifth” as a week of the month",
        );
        err_says("setup @rahul monthly", "setup", "Which week of the month?");
        err_says("setup @rahul every 0 weeks monday", "setup", "Every 1 to 52 weeks");
        err_says("setup @rahul every 60 weeks monday", "setup", "Every 1 to 52 weeks");
        err_says(
            "setup @rahul every 99999999999 weeks monday",
            "setup",
            "Every 1 to 52 weeks",
        );
        err_says("setup @rahul every 2 months monday", "setup", "“months”");
        err_says("setup @rahul every few weeks", "setup", "“few” as a number of weeks");
        err_says("setup @rahul weekly mon at 25:00", "setup", "“25:00” as a time");
        err_says("setup @rahul weekly mon at 3", "setup", "“3” as a time");
        err_says("setup @rahul weekly mon at", "setup", "At what time?");
        err_says("setup @rahul weekly mon for ages", "setup", "“ages” as a duration");
        err_says("setup @rahul weekly mon for 2m", "setup", "from 5 minutes to 8 hours");
        err_says("setup @rahul weekly mon for 10h", "setup", "from 5 minutes to 8 hours");
        err_says(
            "setup @rahul weekly mon tz Europe/Berln",
            "setup",
            "Did you mean Europe/Berlin?",
        );
        err_says(
            "setup @rahul weekly mon tz berlin",
            "setup",
            "Did you mean Europe/Berlin?",
        );
        err_says("setup @rahul weekly mon tz PST", "setup", "IANA name");
        err_says("setup @rahul weekly mon at 9am at 10am", "setup", "You gave `at` twice");
        err_says(
            "setup @rahul weekly mon quickly",
            "setup",
            "I didn't understand “quickly”",
        );
        err_says("setup @rahul weekly mon template", "setup", "template name is empty");
        err_says(
            &format!("setup @rahul weekly mon template {}", "n".repeat(81)),
            "setup",
            "limit is 80",
        );
    }

    // --- add --------------------------------------------------------------------

    #[test]
    fn the_slack_fixture_text_parses() {
        assert_eq!(
            ok("add <@U0REPORT01|rahul> #development Conference budget for next quarter"),
            Command::Add {
                partner: mention("U0REPORT01"),
                category: Some(Category::Development),
                text: "Conference budget for next quarter".into(),
            }
        );
    }

    #[test]
    fn add_takes_person_and_category_in_either_order_or_neither() {
        let want = Command::Add {
            partner: name("rahul"),
            category: Some(Category::Goals),
            text: "Q3 planning".into(),
        };
        assert_eq!(ok("add @rahul #goals Q3 planning"), want);
        assert_eq!(ok("add #goals @rahul Q3 planning"), want);
        assert_eq!(ok("add #Goals @rahul   Q3 planning  "), want);
        assert_eq!(
            ok("add Q3 planning"),
            Command::Add {
                partner: None,
                category: None,
                text: "Q3 planning".into()
            }
        );
        assert_eq!(
            ok("add #kudos Great launch"),
            Command::Add {
                partner: None,
                category: Some(Category::Recognition),
                text: "Great launch".into()
            }
        );
    }

    #[test]
    fn add_with_an_unknown_category_lists_the_categories() {
        let e = err_says(
            "add @rahul #hiring Plan for Q3",
            "add",
            "I don't know the category “#hiring”",
        );
        for c in Category::ALL {
            assert!(e.message.contains(&format!("#{}", c.as_str())), "{}", e.message);
        }
    }

    #[test]
    fn a_hash_inside_the_text_or_before_a_number_is_just_text() {
        assert_eq!(
            ok("add @rahul Talk about #hiring and #goals"),
            Command::Add {
                partner: name("rahul"),
                category: None,
                text: "Talk about #hiring and #goals".into()
            }
        );
        assert_eq!(
            ok("add #1 priority is hiring"),
            Command::Add {
                partner: None,
                category: None,
                text: "#1 priority is hiring".into()
            }
        );
    }

    #[test]
    fn add_without_text_is_an_error() {
        for s in ["add", "add   ", "add @rahul", "add #goals", "add <@U1> #feedback  "] {
            err_says(s, "add", "What should the talking point say?");
        }
    }

    #[test]
    fn ten_thousand_characters_of_text_are_rejected_with_the_limit() {
        let e = err_says(
            &format!("add @rahul {}", "a".repeat(10_000)),
            "add",
            "10,000 characters",
        );
        assert!(e.message.contains("2,000"), "{}", e.message);
        err_says(&format!("note {}", "b".repeat(2_001)), "note", "2,001 characters");
        err_says(&format!("comment 1 {}", "c".repeat(3_000)), "comment", "3,000");
        err_says(&format!("action {}", "d".repeat(2_500)), "action", "2,500");
        err_says(&format!("skip {}", "e".repeat(2_500)), "skip", "2,500");
        err_says(&format!("request @maria {}", "f".repeat(2_500)), "request", "2,500");
    }

    #[test]
    fn the_text_limit_counts_characters_not_bytes() {
        let text = "🙂".repeat(MAX_TEXT_CHARS);
        assert_eq!(
            ok(&format!("add {text}")),
            Command::Add {
                partner: None,
                category: None,
                text
            }
        );
    }

    #[test]
    fn unicode_text_is_kept_exactly() {
        for text in [
            "Great demo 🎉🚀 👩‍💻",
            "مراجعة الأهداف الفصلية",
            "下个季度的会议预算",
            "Ünïcødé  with  double  spaces",
        ] {
            assert_eq!(
                ok(&format!("add @rahul {text}")),
                Command::Add {
                    partner: name("rahul"),
                    category: None,
                    text: text.into()
                }
            );
        }
    }

    #[test]
    fn slack_markup_is_kept_verbatim_as_text() {
        let text = "*bold* <!channel> _it_ <https://example.com|link> &lt;tag&gt;";
        assert_eq!(
            ok(&format!("add {text}")),
            Command::Add {
                partner: None,
                category: None,
                text: text.into()
            }
        );
    }

    #[test]
    fn multi_line_text_keeps_its_line_breaks() {
        assert_eq!(
            ok("note @r first line\nsecond line\n"),
            Command::Note {
                partner: name("r"),
                text: "first line\nsecond line".into()
            }
        );
    }

    // --- agenda, comment --------------------------------------------------------

    #[test]
    fn agenda_takes_an_optional_person() {
        assert_eq!(ok("agenda"), Command::Agenda { partner: None });
        assert_eq!(ok("agenda <@U1>"), Command::Agenda { partner: mention("U1") });
    }

    #[test]
    fn comment_takes_a_point_number_written_plain_or_with_a_hash() {
        let want = Command::Comment {
            partner: name("rahul"),
            point: 2,
            text: "Let's bring numbers".into(),
        };
        assert_eq!(ok("comment @rahul 2 Let's bring numbers"), want);
        assert_eq!(ok("comment @rahul #2 Let's bring numbers"), want);
        assert_eq!(
            ok("comment 3 ok"),
            Command::Comment {
                partner: None,
                point: 3,
                text: "ok".into()
            }
        );
    }

    #[test]
    fn comment_errors_name_the_problem() {
        err_says("comment", "comment", "Which talking point?");
        err_says("comment @rahul", "comment", "Which talking point?");
        err_says("comment @rahul two Let's", "comment", "“two” as a talking point number");
        err_says("comment 0 hi", "comment", "numbered from 1");
        err_says("comment 99999999999 hi", "comment", "too big");
        err_says("comment 2", "comment", "What's the comment?");
    }

    // --- action -----------------------------------------------------------------

    #[test]
    fn action_reads_due_and_owner_at_the_end_in_either_order() {
        let want = Command::Action {
            partner: name("rahul"),
            text: "Draft the promo packet".into(),
            due: Some(DateSpec::Next(Weekday::Fri)),
            owner: Some(OwnerRef::Me),
        };
        assert_eq!(ok("action @rahul Draft the promo packet due friday owner me"), want);
        assert_eq!(ok("action @rahul Draft the promo packet owner ME due Fri"), want);
    }

    #[test]
    fn action_due_accepts_every_date_form() {
        let cases = [
            ("due 2026-12-04", date(2026, 12, 4)),
            ("due today", DateSpec::Today),
            ("due tomorrow", DateSpec::Tomorrow),
            ("due in 3 days", DateSpec::InDays(3)),
            ("due in 1 day", DateSpec::InDays(1)),
            ("due in 2 weeks", DateSpec::InDays(14)),
            ("due next monday", DateSpec::Next(Weekday::Mon)),
        ];
        for (clause, d) in cases {
            assert_eq!(
                ok(&format!("action Ship it {clause}")),
                Command::Action {
                    partner: None,
                    text: "Ship it".into(),
                    due: Some(d),
                    owner: None
                },
                "{clause:?}"
            );
        }
    }

    #[test]
    fn action_owner_may_be_any_person_form() {
        let cases = [
            ("owner <@U2|maria>", OwnerRef::Person(PersonRef::Mention("U2".into()))),
            ("owner @maria", OwnerRef::Person(PersonRef::Name("maria".into()))),
            (
                "owner Maria@Example.com",
                OwnerRef::Person(PersonRef::Email("maria@example.com".into())),
            ),
            ("owner me", OwnerRef::Me),
        ];
        for (clause, o) in cases {
            assert_eq!(
                ok(&format!("action @rahul Book room {clause}")),
                Command::Action {
                    partner: name("rahul"),
                    text: "Book room".into(),
                    due: None,
                    owner: Some(o)
                },
                "{clause:?}"
            );
        }
    }

    #[test]
    fn due_and_owner_that_are_not_clauses_stay_in_the_text() {
        for text in [
            "review due diligence doc",
            "check what is due friday for the launch",
            "pay invoices due",
            "ask the owner",
            "talk to owner bob",
            "due friday was missed",
            "fix it due frday",
        ] {
            assert_eq!(
                ok(&format!("action {text}")),
                Command::Action {
                    partner: None,
                    text: text.into(),
                    due: None,
                    owner: None
                },
                "{text:?}"
            );
        }
        assert_eq!(
            ok("action review due diligence doc due tomorrow"),
            Command::Action {
                partner: None,
                text: "review due diligence doc".into(),
                due: Some(DateSpec::Tomorrow),
                owner: None
            }
        );
    }

    #[test]
    fn action_without_text_is_an_error() {
        err_says("action", "action", "What's the action item?");
        err_says("action @rahul", "action", "What's the action item?");
        err_says("action due friday owner me", "action", "What's the action item?");
    }

    // --- actions, complete, note, held, skip --------------------------------------

    #[test]
    fn commands_without_arguments_refuse_extra_words() {
        assert_eq!(ok("actions"), Command::Actions);
        assert_eq!(ok("stats"), Command::Stats);
        assert_eq!(ok("templates"), Command::Templates);
        assert_eq!(ok("back"), Command::Back);
        err_says("actions @rahul", "actions", "`actions` doesn't take anything after it");
        err_says("stats please", "stats", "“please”");
        err_says("templates all", "templates", "“all”");
        err_says("back now", "back", "“now”");
    }

    #[test]
    fn complete_and_done_take_an_item_number_with_or_without_a_hash() {
        assert_eq!(ok("complete 12"), Command::Complete { item: 12 });
        assert_eq!(ok("complete #12"), Command::Complete { item: 12 });
        assert_eq!(ok("Done 7"), Command::Complete { item: 7 });
    }

    #[test]
    fn complete_errors_name_the_problem() {
        err_says("complete", "complete", "Which action item?");
        err_says("done", "complete", "Which action item?");
        err_says("complete twelve", "complete", "“twelve” as an action item number");
        err_says("complete 0", "complete", "numbered from 1");
        err_says("complete -3", "complete", "“-3”");
        err_says("complete 3 4", "complete", "takes one number");
    }

    #[test]
    fn note_takes_an_optional_person_and_required_text() {
        assert_eq!(
            ok("note @rahul Seemed tired"),
            Command::Note {
                partner: name("rahul"),
                text: "Seemed tired".into()
            }
        );
        assert_eq!(
            ok("note tired"),
            Command::Note {
                partner: None,
                text: "tired".into()
            }
        );
        err_says("note @rahul", "note", "What should the note say?");
    }

    #[test]
    fn held_pause_resume_and_end_take_an_optional_person() {
        assert_eq!(ok("held"), Command::Held { partner: None });
        assert_eq!(ok("held @r"), Command::Held { partner: name("r") });
        assert_eq!(ok("pause @r"), Command::Pause { partner: name("r") });
        assert_eq!(ok("resume"), Command::Resume { partner: None });
        assert_eq!(ok("end <@U9>"), Command::End { partner: mention("U9") });
        err_says("pause for a while", "pause", "“for” as a person");
        err_says("end it", "end", "“it” as a person");
    }

    #[test]
    fn skip_takes_an_optional_person_and_reason() {
        assert_eq!(
            ok("skip"),
            Command::Skip {
                partner: None,
                reason: None
            }
        );
        assert_eq!(
            ok("skip @rahul"),
            Command::Skip {
                partner: name("rahul"),
                reason: None
            }
        );
        assert_eq!(
            ok("skip @rahul Travelling this week ✈️"),
            Command::Skip {
                partner: name("rahul"),
                reason: Some("Travelling this week ✈️".into())
            }
        );
        assert_eq!(
            ok("skip sick"),
            Command::Skip {
                partner: None,
                reason: Some("sick".into())
            }
        );
    }

    // --- reschedule -------------------------------------------------------------

    #[test]
    fn reschedule_takes_a_date_and_an_optional_time() {
        let when = |date, time| Command::Reschedule {
            partner: name("x"),
            when: WhenSpec { date, time },
        };
        assert_eq!(
            ok("reschedule @x to friday 3pm"),
            when(DateSpec::Next(Weekday::Fri), Some(t(15, 0)))
        );
        assert_eq!(
            ok("reschedule @x friday at 3pm"),
            when(DateSpec::Next(Weekday::Fri), Some(t(15, 0)))
        );
        assert_eq!(
            ok("reschedule @x 2026-12-04 14:30"),
            when(date(2026, 12, 4), Some(t(14, 30)))
        );
        assert_eq!(ok("reschedule @x tomorrow"), when(DateSpec::Tomorrow, None));
        assert_eq!(
            ok("reschedule @x in 3 days at 2:30 pm"),
            when(DateSpec::InDays(3), Some(t(14, 30)))
        );
        assert_eq!(
            ok("reschedule @x 3pm friday"),
            when(DateSpec::Next(Weekday::Fri), Some(t(15, 0)))
        );
        assert_eq!(ok("reschedule @x at noon today"), when(DateSpec::Today, Some(t(12, 0))));
        assert_eq!(
            ok("reschedule to today"),
            Command::Reschedule {
                partner: None,
                when: WhenSpec {
                    date: DateSpec::Today,
                    time: None
                }
            }
        );
    }

    #[test]
    fn reschedule_errors_name_the_problem() {
        err_says("reschedule", "reschedule", "When should the meeting move to?");
        err_says("reschedule @x to", "reschedule", "When should the meeting move to?");
        err_says("reschedule @x frday", "reschedule", "I couldn't read “frday” as a date");
        err_says("reschedule @x friday at 25pm", "reschedule", "“25pm” as a time");
        err_says("reschedule @x friday at", "reschedule", "At what time?");
        err_says("reschedule @x 3pm", "reschedule", "Which day?");
        err_says("reschedule @x 2026-02-30", "reschedule", "“2026-02-30” as a date");
    }

    // --- history, questions -----------------------------------------------------

    #[test]
    fn history_takes_an_optional_person_and_count() {
        assert_eq!(
            ok("history"),
            Command::History {
                partner: None,
                count: None
            }
        );
        assert_eq!(
            ok("history @r"),
            Command::History {
                partner: name("r"),
                count: None
            }
        );
        assert_eq!(
            ok("history 10"),
            Command::History {
                partner: None,
                count: Some(10)
            }
        );
        assert_eq!(
            ok("history @r 10"),
            Command::History {
                partner: name("r"),
                count: Some(10)
            }
        );
        assert_eq!(
            ok("history 3 @r"),
            Command::History {
                partner: name("r"),
                count: Some(3)
            }
        );
    }

    #[test]
    fn history_errors_name_the_problem() {
        err_says("history @r lots", "history", "I didn't understand “lots”");
        err_says("history 0", "history", "at least 1 meeting");
        err_says("history 500", "history", "at most 100");
        err_says("history @r 5 6", "history", "“6”");
    }

    #[test]
    fn questions_take_an_optional_category() {
        assert_eq!(ok("questions"), Command::Questions { category: None });
        assert_eq!(
            ok("questions feedback"),
            Command::Questions {
                category: Some(Category::Feedback)
            }
        );
        assert_eq!(
            ok("questions #Wellbeing"),
            Command::Questions {
                category: Some(Category::Wellbeing)
            }
        );
        err_says("questions money", "questions", "I don't know the category “money”");
        err_says("questions goals feedback", "questions", "takes one category");
    }

    // --- templates --------------------------------------------------------------

    #[test]
    fn template_shows_a_template_named_by_the_rest_of_the_line() {
        assert_eq!(
            ok("template Weekly check-in"),
            Command::TemplateShow {
                name: "Weekly check-in".into()
            }
        );
        assert_eq!(
            ok("template \"New hire\""),
            Command::TemplateShow {
                name: "New hire".into()
            }
        );
        assert_eq!(ok("template"), Command::Templates);
        err_says(
            &format!("template {}", "n".repeat(81)),
            "template",
            "81 characters long",
        );
    }

    #[test]
    fn template_new_splits_items_on_semicolons_and_drops_empty_ones() {
        assert_eq!(
            ok("template new Quarterly: Goals review;  Career growth ;; Feedback both ways; "),
            Command::TemplateNew {
                name: "Quarterly".into(),
                items: vec![
                    "Goals review".into(),
                    "Career growth".into(),
                    "Feedback both ways".into()
                ],
            }
        );
        assert_eq!(
            ok("Template New \"1:1 basics\": How are you?\nWhat's blocking you?"),
            Command::TemplateNew {
                name: "1:1 basics".into(),
                items: vec!["How are you?".into(), "What's blocking you?".into()],
            }
        );
        assert_eq!(
            ok("template new Retro: 👍 went well"),
            Command::TemplateNew {
                name: "Retro".into(),
                items: vec!["👍 went well".into()]
            }
        );
    }

    #[test]
    fn template_new_errors_name_the_problem() {
        err_says("template new", "template new", "Give the template a name");
        err_says(
            "template new Quarterly Goals; Growth",
            "template new",
            "Put a colon after the template's name",
        );
        err_says(
            "template new \"Q\" Goals",
            "template new",
            "Put a colon after the name “Q”",
        );
        err_says("template new Quarterly:  ; ;", "template new", "has no items");
        err_says("template new : a; b", "template new", "name is empty");
        let many = (1..=21).map(|i| format!("item {i}")).collect::<Vec<_>>().join("; ");
        err_says(
            &format!("template new Big: {many}"),
            "template new",
            "at most 20 items; this one has 21",
        );
        err_says(
            &format!("template new Long: ok; {}", "x".repeat(301)),
            "template new",
            "Item 2",
        );
        err_says(
            &format!("template new {}: a", "n".repeat(81)),
            "template new",
            "limit is 80",
        );
    }

    #[test]
    fn template_delete_takes_a_name() {
        assert_eq!(
            ok("template delete Quarterly"),
            Command::TemplateDelete {
                name: "Quarterly".into()
            }
        );
        assert_eq!(
            ok("template DELETE My  template"),
            Command::TemplateDelete {
                name: "My  template".into()
            }
        );
        err_says("template delete", "template delete", "Which template?");
    }

    // --- settings, away, request --------------------------------------------------

    #[test]
    fn settings_take_any_of_tz_hours_and_nudges_in_any_order() {
        assert_eq!(
            ok("settings tz Europe/Berlin hours 9:00-17:30 nudges off"),
            Command::Settings {
                tz: Some(chrono_tz::Europe::Berlin),
                hours: Some((t(9, 0), t(17, 30))),
                nudges: Some(false),
            }
        );
        assert_eq!(
            ok("settings nudges on"),
            Command::Settings {
                tz: None,
                hours: None,
                nudges: Some(true)
            }
        );
        assert_eq!(
            ok("settings hours 9am - 5pm tz asia/tokyo"),
            Command::Settings {
                tz: Some(chrono_tz::Asia::Tokyo),
                hours: Some((t(9, 0), t(17, 0))),
                nudges: None
            }
        );
    }

    #[test]
    fn working_hours_accept_the_common_forms() {
        for (s, want) in [
            ("9-17:30", (t(9, 0), t(17, 30))),
            ("9am-5pm", (t(9, 0), t(17, 0))),
            ("09:00-18:00", (t(9, 0), t(18, 0))),
            ("8:30am – 4:30pm", (t(8, 30), t(16, 30))),
            ("10 - 16", (t(10, 0), t(16, 0))),
        ] {
            assert_eq!(parse_hours(s), Ok(want), "{s:?}");
        }
    }

    #[test]
    fn bare_settings_asks_to_show_the_current_ones() {
        assert_eq!(
            parse("settings").unwrap(),
            Command::Settings {
                tz: None,
                hours: None,
                nudges: None
            }
        );
    }

    #[test]
    fn settings_errors_name_the_problem() {
        err_says("settings hours 17-9", "settings", "must start before they end");
        err_says("settings hours 9-9", "settings", "must start before they end");
        err_says("settings hours 9 to 5", "settings", "as working hours");
        err_says("settings hours 9-25", "settings", "“25” as a time");
        err_says("settings nudges maybe", "settings", "not “maybe”");
        err_says("settings nudges", "settings", "Nudges on or off?");
        err_says("settings tz Mars/Olympus", "settings", "“Mars/Olympus”");
        err_says("settings tz", "settings", "Which time zone?");
        err_says("settings colour blue", "settings", "I didn't understand “colour”");
        err_says("settings nudges on nudges off", "settings", "`nudges` twice");
    }

    #[test]
    fn away_takes_a_date_with_or_without_until() {
        assert_eq!(
            ok("away until 2026-12-04"),
            Command::Away {
                until: date(2026, 12, 4)
            }
        );
        assert_eq!(
            ok("away 2026-12-04"),
            Command::Away {
                until: date(2026, 12, 4)
            }
        );
        assert_eq!(
            ok("away until in 2 weeks"),
            Command::Away {
                until: DateSpec::InDays(14)
            }
        );
        assert_eq!(
            ok("Away Until Friday"),
            Command::Away {
                until: DateSpec::Next(Weekday::Fri)
            }
        );
        err_says("away", "away", "Until when?");
        err_says("away until", "away", "Until when?");
        err_says("away until christmas", "away", "“christmas” as a date");
    }

    #[test]
    fn request_needs_a_person_and_takes_optional_text() {
        assert_eq!(
            ok("request @maria Could we talk about my career?"),
            Command::Request {
                partner: PersonRef::Name("maria".into()),
                text: Some("Could we talk about my career?".into())
            }
        );
        assert_eq!(
            ok("request <@U2>"),
            Command::Request {
                partner: PersonRef::Mention("U2".into()),
                text: None
            }
        );
        err_says("request", "request", "Who would you like to meet?");
        err_says("request maria please", "request", "“maria” as a person");
    }

    // --- pieces -----------------------------------------------------------------

    #[test]
    fn times_in_twelve_and_twenty_four_hour_forms_parse() {
        for (s, want) in [
            ("10:00", t(10, 0)),
            ("10am", t(10, 0)),
            ("10 AM", t(10, 0)),
            ("2:30pm", t(14, 30)),
            ("2:30 p.m.", t(14, 30)),
            ("14:30", t(14, 30)),
            ("9.15", t(9, 15)),
            ("0:00", t(0, 0)),
            ("23:59", t(23, 59)),
            ("12am", t(0, 0)),
            ("12pm", t(12, 0)),
            ("noon", t(12, 0)),
            ("Midnight", t(0, 0)),
        ] {
            assert_eq!(parse_time(s), Some(want), "{s:?}");
        }
        for s in [
            "", "3", "24:00", "10:60", "13pm", "0am", "10:5", "ten", "10:00:00", "1:300pm", "-1:00",
        ] {
            assert_eq!(parse_time(s), None, "{s:?}");
        }
    }

    #[test]
    fn dates_in_every_form_parse() {
        for (s, want) in [
            ("2026-12-04", date(2026, 12, 4)),
            ("2026-1-4", date(2026, 1, 4)),
            ("today", DateSpec::Today),
            ("Tomorrow", DateSpec::Tomorrow),
            ("friday", DateSpec::Next(Weekday::Fri)),
            ("fri", DateSpec::Next(Weekday::Fri)),
            ("next tue", DateSpec::Next(Weekday::Tue)),
            ("in 3 days", DateSpec::InDays(3)),
            ("in 1 day", DateSpec::InDays(1)),
            ("In 2 Weeks", DateSpec::InDays(14)),
        ] {
            assert_eq!(parse_date_str(s), Some(want), "{s:?}");
        }
        for s in [
            "",
            "2026-13-01",
            "2026-02-30",
            "26-12-04",
            "fridays",
            "in days",
            "in 3 months",
            "in -3 days",
            "in 99999 days",
            "in 4294967295 weeks",
            "next",
            "yesterday",
        ] {
            assert_eq!(parse_date_str(s), None, "{s:?}");
        }
    }

    #[test]
    fn durations_in_every_form_parse_to_minutes() {
        for (s, want) in [
            ("30m", 30),
            ("30min", 30),
            ("30 minutes", 30),
            ("45", 45),
            ("1h", 60),
            ("1 hour", 60),
            ("2hrs", 120),
            ("1h30m", 90),
            ("1h30", 90),
            ("1 hour 15 minutes", 75),
            ("1.5h", 90),
            ("0.25h", 15),
            ("90 min", 90),
        ] {
            assert_eq!(parse_duration(s), Some(want), "{s:?}");
        }
        for s in [
            "",
            "0",
            "0m",
            "h",
            "1.333h",
            "30m1h",
            "1h2h",
            "30s",
            "2 days",
            "1.h",
            "25h",
            "abc",
            "99999999999",
        ] {
            assert_eq!(parse_duration(s), None, "{s:?}");
        }
    }

    #[test]
    fn zones_are_iana_names_in_any_case_plus_utc() {
        assert_eq!(parse_zone("Europe/Berlin"), Some(chrono_tz::Europe::Berlin));
        assert_eq!(parse_zone("europe/berlin"), Some(chrono_tz::Europe::Berlin));
        assert_eq!(parse_zone("AMERICA/NEW_YORK"), Some(chrono_tz::America::New_York));
        assert_eq!(parse_zone("UTC"), Some(Tz::UTC));
        assert_eq!(parse_zone("utc"), Some(Tz::UTC));
        assert_eq!(parse_zone("Berlin"), None);
        assert_eq!(parse_zone("Mars/Olympus"), None);
    }

    #[test]
    fn parse_cadence_refuses_trailing_words() {
        assert!(parse_cadence("weekly monday please").is_err_and(|m| m.contains("“please”")));
        assert!(parse_cadence("").is_err());
    }

    #[test]
    fn the_usage_table_has_one_entry_per_command_in_spec_order() {
        let names: Vec<&str> = USAGES.iter().map(|u| u.name).collect();
        assert_eq!(
            names,
            [
                "home",
                "help",
                "setup",
                "add",
                "agenda",
                "comment",
                "action",
                "actions",
                "complete",
                "note",
                "held",
                "skip",
                "reschedule",
                "history",
                "pause",
                "resume",
                "end",
                "questions",
                "templates",
                "template",
                "template new",
                "template delete",
                "stats",
                "settings",
                "away",
                "back",
                "request",
            ]
        );
        assert_eq!(usage_of("Template  New").map(|u| u.name), Some("template new"));
        assert_eq!(usage_of("done").map(|u| u.name), Some("complete"));
        assert_eq!(usage_of("nope"), None);
    }

    #[test]
    fn every_usage_example_parses_to_its_own_command() {
        for u in USAGES {
            assert!(u.example.starts_with("/oneonone"), "{}", u.example);
            let cmd = ok(u.example);
            assert_eq!(cmd.name(), u.name, "{}", u.example);
        }
    }

    #[test]
    fn huge_input_is_rejected_quickly() {
        let start = std::time::Instant::now();
        let blob = "z".repeat(100_000);
        err(&blob);
        err(&format!("help {blob}"));
        err_says(&format!("setup @r weekly mon tz {blob}"), "setup", "IANA name");
        err_says(&format!("add {blob}"), "add", "100,000 characters");
        let words = "word ".repeat(20_000);
        err_says(&format!("action {words} due friday"), "action", "characters long");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn edit_distance_counts_transpositions_as_one_step() {
        assert_eq!(edit_distance("setpu", "setup"), 1);
        assert_eq!(edit_distance("agnda", "agenda"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    // --- properties -------------------------------------------------------------

    /// Words that steer `parse` into its deeper branches.
    fn grammar_word() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "setup",
                "add",
                "action",
                "comment",
                "reschedule",
                "settings",
                "template",
                "new",
                "delete",
                "away",
                "until",
                "due",
                "owner",
                "me",
                "at",
                "for",
                "tz",
                "cron",
                "\"",
                "“",
                "weekly",
                "every",
                "monthly",
                "the",
                "last",
                "friday",
                "in",
                "days",
                "hours",
                "nudges",
                "on",
                "#goals",
                "#x",
                "@r",
                "<@U1|a b>",
                "<@",
                ">",
                "<mailto:a@b.c|a@b.c>",
                "9-17",
                "10am",
                "2026-12-04",
                ":",
                ";",
                "#3",
                "0",
                "history",
            ])
            .prop_map(str::to_string),
            "\\PC{0,6}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_never_panics_on_arbitrary_text(s in ".*") {
            let _ = parse(&s);
        }

        #[test]
        fn parse_never_panics_on_arbitrary_unicode(s in any::<String>()) {
            let _ = parse(&s);
        }

        #[test]
        fn parse_never_panics_on_command_like_lines_and_errors_carry_a_known_usage(
            words in prop::collection::vec(grammar_word(), 0..10),
            sep in prop::sample::select(vec![" ", "  ", "\n", " \t"]),
        ) {
            let line = words.join(sep);
            if let Err(e) = parse(&line) {
                prop_assert!(!e.message.is_empty());
                prop_assert!(USAGES.iter().any(|u| u.usage == e.usage && u.example == e.example));
            }
        }

        #[test]
        fn generated_add_lines_parse_to_their_parts(
            id in "U[A-Z0-9]{8}",
            display in prop::option::of("[a-z]{1,8}( [a-z]{1,8})?"),
            category in prop::option::of(prop::sample::select(Category::ALL.to_vec())),
            words in prop::collection::vec("[A-Za-z0-9çé🙂的][A-Za-z0-9,.!?çé🙂的]{0,9}", 1..12),
            upper in any::<bool>(),
        ) {
            let person = match &display {
                Some(d) => format!("<@{id}|{d}>"),
                None => format!("<@{id}>"),
            };
            let text = words.join(" ");
            let cat = category.map(|c| format!(" #{}", c.as_str())).unwrap_or_default();
            let cmd = if upper { "ADD" } else { "add" };
            let line = format!("{cmd} {person}{cat}  {text} ");
            prop_assert_eq!(
                parse(&line),
                Ok(Command::Add { partner: Some(PersonRef::Mention(id)), category, text })
            );
        }

        #[test]
        fn generated_setup_lines_parse_to_their_parts(
            person in "[a-z]{1,10}",
            interval in 1u32..=52,
            weekday in prop::sample::select(vec![
                Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun,
            ]),
            hour in 0u32..24,
            minute in 0u32..60,
            duration in MIN_DURATION_MINUTES..=MAX_DURATION_MINUTES,
            zone in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
            template in prop::option::of("[A-Za-z][A-Za-z0-9 -]{0,30}[A-Za-z0-9]"),
            order in 0usize..3,
        ) {
            let cadence = match interval {
                1 => format!("weekly on {}", weekday_name(weekday)),
                2 => format!("biweekly {}", weekday_name(weekday)),
                n => format!("every {n} weeks on {}", weekday_name(weekday)),
            };
            let mut options = [
                format!("at {hour}:{minute:02}"),
                format!("for {duration} minutes"),
                format!("tz {zone}"),
            ];
            options.rotate_left(order);
            let tpl = template.as_ref().map(|t| format!(" template {t}")).unwrap_or_default();
            let line = format!("setup @{person} {cadence} {}{tpl}", options.join(" "));
            prop_assert_eq!(
                parse(&line),
                Ok(Command::Setup(SetupArgs {
                    partner: PersonRef::Name(person),
                    cadence: Cadence::Weekly { interval, weekday },
                    time: NaiveTime::from_hms_opt(hour, minute, 0),
                    duration_minutes: Some(duration),
                    tz: parse_zone(zone),
                    template,
                }))
            );
        }

        #[test]
        fn generated_action_lines_parse_to_their_parts(
            words in prop::collection::vec("[A-Za-z][a-z]{0,9}", 1..10)
                .prop_filter("no clause keywords", |ws| ws.iter().all(|w| {
                    !w.eq_ignore_ascii_case("due") && !w.eq_ignore_ascii_case("owner")
                })),
            due in prop::option::of(prop_oneof![
                Just(("today".to_string(), DateSpec::Today)),
                Just(("tomorrow".to_string(), DateSpec::Tomorrow)),
                (1u32..=365).prop_map(|n| (format!("in {n} days"), DateSpec::InDays(n))),
                (2020i32..2040, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| (
                    format!("{y}-{m:02}-{d:02}"),
                    DateSpec::On(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()),
                )),
            ]),
            owner in prop::option::of(prop_oneof![
                Just(("me".to_string(), OwnerRef::Me)),
                "[a-z]{1,8}".prop_map(|n| (format!("@{n}"), OwnerRef::Person(PersonRef::Name(n)))),
            ]),
            owner_first in any::<bool>(),
        ) {
            let text = words.join(" ");
            let due_clause = due.as_ref().map(|(s, _)| format!(" due {s}")).unwrap_or_default();
            let owner_clause = owner.as_ref().map(|(s, _)| format!(" owner {s}")).unwrap_or_default();
            let line = if owner_first {
                format!("action @rahul {text}{owner_clause}{due_clause}")
            } else {
                format!("action @rahul {text}{due_clause}{owner_clause}")
            };
            prop_assert_eq!(
                parse(&line),
                Ok(Command::Action {
                    partner: Some(PersonRef::Name("rahul".into())),
                    text,
                    due: due.map(|(_, d)| d),
                    owner: owner.map(|(_, o)| o),
                })
            );
        }
    }
}
