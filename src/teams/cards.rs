//! `Reply` → Adaptive Card 1.5 for Microsoft Teams (SPEC §7), the activity and
//! invoke-response bodies that carry it, and [`read_action`] for the clicks
//! that come back. It mirrors `slack::render`: the same three promises, for
//! the other platform.
//!
//! * **What we send is valid.** Schema 1.5 (Teams' maximum), Universal Actions
//!   (`Action.Execute`) each with an `Action.Submit` fallback for older
//!   clients, input ids unique in the whole card (nested cards included),
//!   every required input with a `label` and an `errorMessage`, at most six
//!   actions in a row (Teams' limit; the rest go into a "More…" card), and the
//!   whole card at most [`MAX_CARD_BYTES`] of JSON. A reply that does not fit
//!   is cut with a note, never refused. [`validate_card`] states these house
//!   rules; `tests/cards/validate.js` checks every kind of card the bot emits
//!   with Microsoft's own `adaptivecards` library (see the tests).
//! * **User text is inert.** Every span, ours included, is escaped for the
//!   Markdown subset a `TextBlock` understands (see [`escape`]): what a person
//!   typed never becomes bold, a list, a heading, a link or an `<at>` mention.
//! * **Slack's forms are inline here.** A button that opens a modal in Slack
//!   becomes an `Action.ShowCard` holding the same form, whose submit button
//!   is an `Action.Execute` with a verb of its own (table below).
//!
//! # Verbs and inputs (what the Teams handlers receive)
//!
//! Every `Action.Execute` has `verb` = the button's action id and
//! `data = {"value": <button value>}`; the Submit fallback carries the same
//! with `"verb"` inside `data`. [`read_action`] reads both shapes into a
//! [`CardAction`]; input ids lose their uniqueness suffix (`point#2` →
//! `point`). Values and inputs are untrusted strings: re-check every id
//! against the caller, as `commands::objects` does.
//!
//! | button (action id)   | on the card             | verb sent            | `value`    | inputs (ids)                         |
//! |----------------------|-------------------------|----------------------|------------|--------------------------------------|
//! | `open_add_point`     | form                    | `tp_add`             | meeting id | `point` (required, ≤ 2,000 chars), `category` (`goals`…`other`, required, preset `other`) |
//! | `open_add_action`    | form                    | `ai_add`             | meeting id | `text` (required), `owner` (`partner`\|`me`, required, preset `partner`), `due` (`YYYY-MM-DD`, optional) |
//! | `open_note`          | form                    | `note_add`           | meeting id | `note` (required; a private note)    |
//! | `open_reschedule`    | form                    | `reschedule`         | meeting id | `date` (`YYYY-MM-DD`), `time` (`HH:MM`), both required |
//! | `open_rate_comment`  | form                    | `rate`               | `M:SCORE`  | `comment` (required)                 |
//! | `open_extra`         | form                    | `extra_add`          | series id  | `date`, `time`, both required        |
//! | `request_extra`      | form                    | `request_extra_add`  | request id | `date`, `time`, both required        |
//! | `rate`               | button                  | `rate`               | `M:SCORE`  | –                                    |
//! | button with `confirm`| "are you sure?" card    | the action id        | as given   | –                                    |
//! | any other button     | button                  | the action id        | as given   | –                                    |
//! | a `Select`           | drop-down + button      | the select's action id | the chosen option | `choice_<action id>`    |
//!
//! Other buttons today: `tp_discussed`, `ai_complete`, `show_all_points`,
//! `tp_drop`, `meeting_held`, `meeting_skip`, `confirm_skip`, `pick_partner`
//! (`SID:line`), `dismiss`, and `open_setup`/`request_setup`, which stay plain
//! buttons: the set-up form (a person picker and a cadence) is the handler's
//! to answer with, as a card in the invoke response.
//!
//! Buttons that need no input say `"associatedInputs": "none"`, so a click on
//! "Held" neither sends nor validates the inputs of the drop-downs on the
//! same card. The drop-downs are not required inputs for the same reason:
//! Teams validates every required input a button gathers.

use crate::domain::grammar::MAX_TEXT_CHARS;
use crate::domain::model::Category;
use crate::domain::reply::{Block, Button, ButtonStyle, Reply, Select, Span, Text};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

/// `contentType` of an Adaptive Card attachment, and `type` of an invoke
/// response that replaces the card.
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
/// `type` of an invoke response that shows a message instead of a new card.
pub const MESSAGE_CONTENT_TYPE: &str = "application/vnd.microsoft.activity.message";
/// The card schema version: Teams supports 1.5 and earlier, and Universal
/// Actions want 1.5.
pub const CARD_VERSION: &str = "1.5";
/// The budget for a card's serialized JSON. 28 KB is the limit of Teams'
/// incoming webhooks, not of bots (40 to 100 KB, depending on which page of
/// Microsoft's documentation one reads); the smaller number is safe
/// everywhere and is counted here as 28,000 bytes.
pub const MAX_CARD_BYTES: usize = 28_000;
/// Actions Teams shows in one row (`actions` or an `ActionSet`).
pub const MAX_ACTIONS: usize = 6;

const SCHEMA: &str = "http://adaptivecards.io/schemas/adaptive-card.json";
/// A rendered line longer than this is cut with "…" (a talking point is at
/// most 2,000 characters; a line adds its number, author and category).
const MAX_LINE_CHARS: usize = 2_500;
const MAX_HEADER_CHARS: usize = 150;
const MAX_LABEL_CHARS: usize = 60;
/// Longest button value sent back to us (Slack's limit; ours are short ids,
/// except the "which 1:1?" buttons, which carry the command line).
const MAX_VALUE_CHARS: usize = 2_000;
const MAX_VERB_CHARS: usize = 64;
const MAX_OPTIONS: usize = 50;
const MAX_OPTION_CHARS: usize = 60;
const MAX_OPTION_VALUE_CHARS: usize = 150;
const MAX_SUMMARY_CHARS: usize = 200;
const ELLIPSIS: char = '…';
/// ZERO WIDTH SPACE: after `<` and `&` it stops a tag, an `<at>` mention or an
/// entity from forming, with nothing visible.
const ZWSP: char = '\u{200B}';
/// Separates an input id from the suffix that makes it unique in the card.
const ID_SUFFIX: char = '#';

/// The submit verbs of the inline forms (see the module's table).
pub mod verb {
    /// Add a talking point; `value` = meeting id.
    pub const TP_ADD: &str = "tp_add";
    /// Add an action item; `value` = meeting id.
    pub const AI_ADD: &str = "ai_add";
    /// Add a private note; `value` = meeting id.
    pub const NOTE_ADD: &str = "note_add";
    /// Move a meeting; `value` = meeting id.
    pub const RESCHEDULE: &str = "reschedule";
    /// Rate a held meeting, with a comment from the form; `value` = `M:SCORE`.
    pub const RATE: &str = "rate";
    /// An extra meeting of a 1:1; `value` = series id.
    pub const EXTRA_ADD: &str = "extra_add";
    /// An extra meeting answering a request; `value` = request id.
    pub const REQUEST_EXTRA_ADD: &str = "request_extra_add";
}

/// The input ids of the inline forms, as [`read_action`] returns them.
pub mod input {
    /// The talking point's text.
    pub const POINT: &str = "point";
    /// The talking point's category (`Category::as_str`).
    pub const CATEGORY: &str = "category";
    /// The action item's text.
    pub const TEXT: &str = "text";
    /// The action item's owner: [`OWNER_ME`] or [`OWNER_PARTNER`].
    pub const OWNER: &str = "owner";
    /// `owner` value: the person who clicked.
    pub const OWNER_ME: &str = "me";
    /// `owner` value: the other participant of the 1:1.
    pub const OWNER_PARTNER: &str = "partner";
    /// Optional due date, `YYYY-MM-DD`.
    pub const DUE: &str = "due";
    /// The private note's text.
    pub const NOTE: &str = "note";
    /// A date, `YYYY-MM-DD`.
    pub const DATE: &str = "date";
    /// A time of day, `HH:MM`, in the clicker's zone.
    pub const TIME: &str = "time";
    /// The rating's comment.
    pub const COMMENT: &str = "comment";
    /// Prefix of a drop-down's input id: `choice_<action id>`.
    pub const CHOICE_PREFIX: &str = "choice_";
}

/// What the renderer needs besides the reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardContext {
    /// The other participant's display name, for labels (the action item's
    /// owner choice); "Your 1:1 partner" when unknown.
    pub partner_name: Option<String>,
}

/// A click that came back: the verb, the button's value, and the form's
/// inputs by plain id (`point`, `owner`, …). All of it is untrusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardAction {
    /// The action id of the button, or a form's submit verb.
    pub verb: String,
    /// The button's value (an object id, `M:SCORE`, …); for a drop-down's
    /// button, the chosen option's value. Empty when there is none.
    pub value: String,
    /// Input values by id without the uniqueness suffix; strings only.
    pub inputs: Map<String, Value>,
}

/// The Adaptive Card for `reply`: valid by [`validate_card`], at most
/// [`MAX_CARD_BYTES`] (a reply that does not fit is cut with a note).
pub fn card(reply: &Reply, ctx: &CardContext) -> Value {
    let pieces = pieces(reply, ctx);
    fit(&pieces)
}

/// The Bot Connector activity for `reply` (POST to a conversation, or PUT to
/// update a message).
///
/// A reply of plain paragraphs only (no header, small print, buttons or
/// drop-downs: "Added ✓", an error) is sent as a Markdown text message, which
/// reads like chat. Everything else is a card. A card message carries no
/// `text`: Teams would show it above the card, saying everything twice; its
/// `summary` (the first line) is what notifications may show instead of
/// "Sent a card". Teams' personal chats have no ephemeral messages, so
/// `reply.visibility` does not matter here.
pub fn message_activity(reply: &Reply, ctx: &CardContext) -> Value {
    if let Some(text) = text_only(reply) {
        return json!({ "type": "message", "textFormat": "markdown", "text": text });
    }
    json!({
        "type": "message",
        "summary": summary(reply),
        "attachments": [{ "contentType": CARD_CONTENT_TYPE, "content": card(reply, ctx) }],
    })
}

/// The body answering an `adaptiveCard/action` invoke with a card that
/// replaces the clicked one (HTTP 200).
pub fn invoke_response(reply: &Reply, ctx: &CardContext) -> Value {
    json!({ "statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card(reply, ctx) })
}

/// The body answering an `adaptiveCard/action` invoke with a short message
/// (shown by Teams as a toast; the card stays as it is).
pub fn invoke_message(text: &str) -> Value {
    json!({ "statusCode": 200, "type": MESSAGE_CONTENT_TYPE, "value": text })
}

/// Reads a click: the `value` of an `adaptiveCard/action` invoke
/// (`{"action":{"type":"Action.Execute","verb":…,"data":{…}}}`) or of a
/// message sent by the `Action.Submit` fallback (`{"verb":…,"value":…,
/// <inputs>}`). `None` when it is neither, or the verb is missing or not one
/// we could have sent (lowercase letters, digits and `_`, at most 64).
///
/// Input ids lose their `#N` suffix; non-string inputs are ignored. For a
/// drop-down's button (`value` empty, input `choice_<verb>` present) the
/// chosen option becomes `value`, so handlers see a select exactly as in Slack.
pub fn read_action(invoke_value: &Value) -> Option<CardAction> {
    let (verb, data) = match invoke_value.get("action") {
        Some(action) => {
            if action.get("type").and_then(Value::as_str) != Some("Action.Execute") {
                return None;
            }
            let data = match action.get("data") {
                None | Some(Value::Null) => None,
                Some(Value::Object(d)) => Some(d),
                Some(_) => return None,
            };
            (action.get("verb").and_then(Value::as_str)?, data)
        }
        None => {
            let data = invoke_value.as_object()?;
            (data.get("verb").and_then(Value::as_str)?, Some(data))
        }
    };
    if !is_verb(verb) {
        return None;
    }
    let mut value = data
        .and_then(|d| d.get("value"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut inputs = Map::new();
    // Sorted by key (serde_json's map), so `point` comes before `point#2`: a
    // payload that somehow has both keeps the first, deterministically.
    for (key, v) in data.into_iter().flatten() {
        if matches!(key.as_str(), "value" | "verb" | "msteams") {
            continue;
        }
        let Some(s) = v.as_str() else { continue };
        let name = input_name(key);
        if name.is_empty() || name.len() > MAX_VERB_CHARS + input::CHOICE_PREFIX.len() {
            continue;
        }
        inputs
            .entry(name.to_string())
            .or_insert_with(|| Value::String(s.to_string()));
    }
    if value.is_empty()
        && let Some(chosen) = inputs
            .get(&format!("{}{verb}", input::CHOICE_PREFIX))
            .and_then(Value::as_str)
    {
        value = chosen.to_string();
    }
    Some(CardAction {
        verb: verb.to_string(),
        value,
        inputs,
    })
}

/// An input id without the suffix that made it unique in its card.
pub fn input_name(id: &str) -> &str {
    id.split_once(ID_SUFFIX).map_or(id, |(name, _)| name)
}

fn is_verb(verb: &str) -> bool {
    !verb.is_empty()
        && verb.len() <= MAX_VERB_CHARS
        && verb
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

// ---------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------

/// Escapes text for a `TextBlock`'s Markdown, as the first thing on a line.
///
/// Teams' clients parse a CommonMark-like subset (bold, italic, lists,
/// links) with small differences between desktop, web and mobile, so this
/// is deliberately blunt:
///
/// * `\`, `*`, `_`, `` ` ``, `~`, `[` and `]` get a backslash, always: no
///   emphasis, code, strike-through or link (`[x](https://…)` needs `](`)
///   can form. A backslash before punctuation is CommonMark's own escape, and
///   what Teams bots that escape user text use in practice.
/// * `<` and `&` are followed by a ZERO WIDTH SPACE, so `<at>Boss</at>`,
///   `<b>`, `<https://…>` and `&lt;` stay text on every client, including
///   one that ignores backslashes; nothing visible is added.
/// * At the start of a line: a heading (`# `), quote (`>`), bullet (`-`, `+`)
///   or numbered item (`1.`, `1)`) gets a backslash before its marker.
///
/// Bare URLs are left alone: Teams links them itself, as Slack does, and a
/// pasted link in a talking point is a feature. Line breaks are the caller's:
/// this expects one line.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    escape_into(&mut out, s, true);
    out
}

fn escape_into(out: &mut String, s: &str, mut line_start: bool) {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if line_start && !c.is_whitespace() {
            line_start = false;
            match c {
                '#' => {
                    let hashes = chars[i..].iter().take_while(|&&h| h == '#').count();
                    let after = chars.get(i + hashes);
                    if hashes <= 6 && after.is_none_or(|a| a.is_whitespace()) {
                        out.push('\\');
                    }
                }
                '>' | '-' | '+' | '=' => out.push('\\'),
                d if d.is_ascii_digit() => {
                    let digits = chars[i..].iter().take_while(|d| d.is_ascii_digit()).count();
                    if digits <= 9 && matches!(chars.get(i + digits), Some('.' | ')')) {
                        out.extend(&chars[i..i + digits]);
                        out.push('\\');
                        out.push(chars[i + digits]);
                        i += digits + 1;
                        continue;
                    }
                }
                _ => {}
            }
        }
        match c {
            '\\' | '*' | '_' | '`' | '~' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' | '&' => {
                out.push(c);
                out.push(ZWSP);
            }
            c => out.push(c),
        }
        i += 1;
    }
}

/// Control characters become spaces, bidirectional overrides go, line breaks
/// become `\n`: a talking point cannot reverse or reflow the card.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' => out.push('\n'),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One line, whitespace runs collapsed, cut to `max` characters with "…".
fn one_line(s: &str, max: usize) -> String {
    let line = clean(s).split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&line, max)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push(ELLIPSIS);
    out
}

// ---------------------------------------------------------------------------
// Text → lines of Markdown
// ---------------------------------------------------------------------------

/// A run of one line, bold or not, not yet escaped.
#[derive(Debug, Clone)]
struct Seg {
    text: String,
    bold: bool,
}

/// Splits rich text into lines (at `Span::Newline` and at line breaks inside
/// spans), each at most [`MAX_LINE_CHARS`]. Runs of empty lines shrink to
/// one, and none is left at either end.
fn lines_of(text: &Text) -> Vec<Vec<Seg>> {
    fn push(lines: &mut Vec<Vec<Seg>>, s: &str, bold: bool) {
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                lines.push(Vec::new());
            }
            if !part.is_empty()
                && let Some(line) = lines.last_mut()
            {
                line.push(Seg {
                    text: part.to_string(),
                    bold,
                });
            }
        }
    }
    let mut lines: Vec<Vec<Seg>> = vec![Vec::new()];
    for span in &text.0 {
        match span {
            Span::Plain(s) | Span::User(s) => push(&mut lines, &clean(s), false),
            Span::Bold(s) => push(&mut lines, &clean(s), true),
            Span::BoldUser(s) => push(&mut lines, &one_line(s, usize::MAX), true),
            // A TextBlock has one font: a command to type is shown in quotes.
            Span::Code(s) => {
                let inner = one_line(&s.replace('`', ""), usize::MAX);
                if !inner.is_empty() {
                    push(&mut lines, &format!("“{inner}”"), false);
                }
            }
            Span::Newline => lines.push(Vec::new()),
        }
    }
    let mut out: Vec<Vec<Seg>> = Vec::new();
    for line in lines {
        let blank = line.iter().all(|s| s.text.trim().is_empty());
        if blank {
            if out.last().is_some_and(|l| !l.is_empty()) {
                out.push(Vec::new());
            }
            continue;
        }
        out.push(cut_line(line, MAX_LINE_CHARS));
    }
    while out.last().is_some_and(Vec::is_empty) {
        out.pop();
    }
    out
}

fn cut_line(line: Vec<Seg>, max: usize) -> Vec<Seg> {
    let total: usize = line.iter().map(|s| s.text.chars().count()).sum();
    if total <= max {
        return line;
    }
    let mut left = max.saturating_sub(1);
    let mut out = Vec::new();
    for seg in line {
        let n = seg.text.chars().count();
        if n <= left {
            left -= n;
            out.push(seg);
            continue;
        }
        let text: String = seg.text.chars().take(left).collect();
        out.push(Seg {
            text: format!("{}{ELLIPSIS}", text.trim_end()),
            bold: seg.bold,
        });
        return out;
    }
    out
}

/// One line as Markdown: escaped, bold runs in `**`, leading whitespace gone
/// (it would make an indented code block).
fn line_markdown(line: &[Seg]) -> String {
    let mut out = String::new();
    let mut line_start = true;
    for (i, seg) in line.iter().enumerate() {
        let text = if i == 0 {
            seg.text.trim_start()
        } else {
            seg.text.as_str()
        };
        let inner = text.trim();
        if !seg.bold || inner.is_empty() {
            escape_into(&mut out, text, line_start);
            line_start = line_start && text.trim().is_empty();
            continue;
        }
        // `**` must touch the text to count: spaces go outside.
        let lead = &text[..text.len() - text.trim_start().len()];
        let trail = &text[text.trim_end().len()..];
        out.push_str(lead);
        out.push_str("**");
        escape_into(&mut out, inner, false);
        out.push_str("**");
        out.push_str(trail);
        line_start = false;
    }
    out.trim_end().to_string()
}

/// Lines joined for one TextBlock: Teams wants `\n\n` for a line break
/// outside lists; an empty line becomes a visible gap.
fn join_lines(lines: &[String]) -> String {
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        if l.is_empty() {
            // A non-breaking space keeps the empty paragraph.
            out.push('\u{00A0}');
        } else {
            out.push_str(l);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Blocks → pieces
// ---------------------------------------------------------------------------

/// A rendered block, before the size budget decides how much of it stays.
#[derive(Debug, Clone)]
enum Piece {
    Header(String),
    /// Markdown lines (an empty string is a gap); `subtle` for small print.
    Text {
        lines: Vec<String>,
        subtle: bool,
    },
    Divider,
    /// A drop-down and its button.
    Select(Vec<Value>),
    /// A row of actions; `top_level` for the reply's last block.
    Buttons {
        actions: Vec<Value>,
        top_level: bool,
    },
}

/// Input ids, unique in the card: `point`, then `point#2`, `point#3`, …
#[derive(Default)]
struct Ids(HashMap<String, usize>);

impl Ids {
    fn next(&mut self, base: &str) -> String {
        let n = self.0.entry(base.to_string()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base.to_string()
        } else {
            format!("{base}{ID_SUFFIX}{n}")
        }
    }
}

fn pieces(reply: &Reply, ctx: &CardContext) -> Vec<Piece> {
    let mut ids = Ids::default();
    let mut out = Vec::new();
    let last = reply.blocks.len().saturating_sub(1);
    for (i, block) in reply.blocks.iter().enumerate() {
        match block {
            Block::Header(h) => {
                let text = one_line(h, MAX_HEADER_CHARS);
                if !text.is_empty() {
                    out.push(Piece::Header(escape(&text)));
                }
            }
            Block::Section(t) | Block::Context(t) => {
                let lines: Vec<String> = lines_of(t).iter().map(|l| line_markdown(l)).collect();
                if !lines.is_empty() {
                    out.push(Piece::Text {
                        lines,
                        subtle: matches!(block, Block::Context(_)),
                    });
                }
            }
            Block::Divider => out.push(Piece::Divider),
            Block::Actions(buttons) => {
                let actions: Vec<Value> = buttons.iter().filter_map(|b| action(b, ctx, &mut ids)).collect();
                if !actions.is_empty() {
                    out.push(Piece::Buttons {
                        actions,
                        top_level: i == last,
                    });
                }
            }
            Block::Select(select) => out.extend(select_elements(select, &mut ids).map(Piece::Select)),
        }
    }
    out
}

fn style_of(b: &Button) -> Option<&'static str> {
    match b.style {
        Some(ButtonStyle::Primary) => Some("positive"),
        Some(ButtonStyle::Danger) => Some("destructive"),
        None => None,
    }
}

/// An `Action.Execute` with its `Action.Submit` fallback (the same data, plus
/// the verb, which a Submit has nowhere else to carry).
fn execute(title: &str, verb: &str, value: &str, style: Option<&str>, needs_inputs: bool) -> Value {
    let mut exec = json!({ "type": "Action.Execute", "title": title, "verb": verb, "data": { "value": value } });
    let mut submit = json!({ "type": "Action.Submit", "title": title, "data": { "verb": verb, "value": value } });
    for a in [&mut exec, &mut submit] {
        if let Some(style) = style {
            a["style"] = json!(style);
        }
        if !needs_inputs {
            a["associatedInputs"] = json!("none");
        }
    }
    exec["fallback"] = submit;
    exec
}

fn show_card(title: &str, style: Option<&str>, body: Vec<Value>, actions: Vec<Value>) -> Value {
    let mut a = json!({
        "type": "Action.ShowCard",
        "title": title,
        "card": { "type": "AdaptiveCard", "body": body, "actions": actions },
    });
    if let Some(style) = style {
        a["style"] = json!(style);
    }
    a
}

fn small_print(text: &str) -> Value {
    json!({ "type": "TextBlock", "text": escape(text), "wrap": true, "isSubtle": true, "size": "Small" })
}

fn text_input(ids: &mut Ids, id: &str, label: &str, placeholder: &str, multiline: bool, if_blank: &str) -> Value {
    json!({
        "type": "Input.Text",
        "id": ids.next(id),
        "label": label,
        "placeholder": placeholder,
        "isMultiline": multiline,
        "maxLength": MAX_TEXT_CHARS,
        "isRequired": true,
        "errorMessage": if_blank,
    })
}

fn required(mut input: Value, id: String, label: &str, if_missing: &str) -> Value {
    input["id"] = json!(id);
    input["label"] = json!(label);
    input["isRequired"] = json!(true);
    input["errorMessage"] = json!(if_missing);
    input
}

fn date_time_inputs(ids: &mut Ids, date_label: &str, time_label: &str) -> Vec<Value> {
    vec![
        required(
            json!({ "type": "Input.Date" }),
            ids.next(input::DATE),
            date_label,
            "Choose a date.",
        ),
        required(
            json!({ "type": "Input.Time" }),
            ids.next(input::TIME),
            time_label,
            "Choose a time.",
        ),
    ]
}

/// A button as a card action: a plain `Action.Execute`, an "are you sure?"
/// card, or an inline form. `None` (logged) for a button we could not send
/// back intact.
fn action(b: &Button, ctx: &CardContext, ids: &mut Ids) -> Option<Value> {
    let title = one_line(&b.label, MAX_LABEL_CHARS);
    if title.is_empty() || !is_verb(&b.action_id) || b.value.chars().count() > MAX_VALUE_CHARS {
        tracing::warn!(
            action_id.len = b.action_id.len(),
            value.len = b.value.chars().count(),
            label.empty = title.is_empty(),
            "button dropped: it cannot be sent back intact"
        );
        return None;
    }
    let style = style_of(b);
    let value = b.value.as_str();
    let form = |body: Vec<Value>, submit_title: &str, verb: &str| {
        show_card(
            &title,
            style,
            body,
            vec![execute(submit_title, verb, value, Some("positive"), true)],
        )
    };
    Some(match b.action_id.as_str() {
        "open_add_point" => {
            let point = text_input(
                ids,
                input::POINT,
                "Talking point",
                "What would you like to talk about?",
                true,
                "Write the talking point first.",
            );
            let choices: Vec<Value> = Category::ALL
                .iter()
                .map(|c| json!({ "title": c.title(), "value": c.as_str() }))
                .collect();
            let category = required(
                json!({ "type": "Input.ChoiceSet", "style": "compact", "value": Category::Other.as_str(), "choices": choices }),
                ids.next(input::CATEGORY),
                "Category",
                "Choose a category.",
            );
            form(
                vec![small_print("Both of you will see it on the agenda."), point, category],
                "Add",
                verb::TP_ADD,
            )
        }
        "open_add_action" => {
            let text = text_input(
                ids,
                input::TEXT,
                "Action item",
                "What needs to happen?",
                false,
                "Write the action item first.",
            );
            let partner = ctx
                .partner_name
                .as_deref()
                .map(|n| one_line(n, MAX_OPTION_CHARS))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "Your 1:1 partner".to_string());
            let owner = required(
                json!({
                    "type": "Input.ChoiceSet",
                    "style": "compact",
                    "value": input::OWNER_PARTNER,
                    "choices": [
                        { "title": partner, "value": input::OWNER_PARTNER },
                        { "title": "Me", "value": input::OWNER_ME },
                    ],
                }),
                ids.next(input::OWNER),
                "Owner",
                "Choose who owns this action item.",
            );
            let due = json!({ "type": "Input.Date", "id": ids.next(input::DUE), "label": "Due date (optional)" });
            form(vec![text, owner, due], "Add", verb::AI_ADD)
        }
        "open_note" => {
            let note = text_input(
                ids,
                input::NOTE,
                "Note",
                "Something to remember for this 1:1",
                true,
                "Write the note first.",
            );
            form(
                vec![small_print("🔒 Only you will see this note."), note],
                "Save",
                verb::NOTE_ADD,
            )
        }
        "open_reschedule" => {
            let mut body = vec![small_print("Your partner will be told about the new time.")];
            body.extend(date_time_inputs(ids, "New date", "New time"));
            form(body, "Move meeting", verb::RESCHEDULE)
        }
        "open_extra" | "request_extra" => {
            let mut body = vec![small_print("Your partner will be told about the extra meeting.")];
            body.extend(date_time_inputs(ids, "Date", "Time"));
            let verb = if b.action_id == "open_extra" {
                verb::EXTRA_ADD
            } else {
                verb::REQUEST_EXTRA_ADD
            };
            form(body, "Schedule", verb)
        }
        "open_rate_comment" => {
            let comment = text_input(
                ids,
                input::COMMENT,
                "Comment",
                "What made it useful, or what would make it better?",
                true,
                "Write the comment first.",
            );
            form(
                vec![
                    small_print("Ratings are only ever shown as an average, never one by one."),
                    comment,
                ],
                "Save",
                verb::RATE,
            )
        }
        _ => match &b.confirm {
            Some(question) => show_card(
                &title,
                style,
                vec![json!({ "type": "TextBlock", "text": escape(&one_line(question, 300)), "wrap": true })],
                vec![execute("Yes", &b.action_id, value, style, false)],
            ),
            None => execute(&title, &b.action_id, value, style, false),
        },
    })
}

/// The button under a drop-down, named after what choosing does.
fn select_button_title(action_id: &str) -> &'static str {
    match action_id {
        "tp_discussed" => "Mark discussed",
        "ai_complete" => "Mark done",
        _ => "OK",
    }
}

/// A select as an `Input.ChoiceSet` (at most [`MAX_OPTIONS`] options) and an
/// `ActionSet` with the button that sends the choice.
fn select_elements(select: &Select, ids: &mut Ids) -> Option<Vec<Value>> {
    if !is_verb(&select.action_id) {
        tracing::warn!(
            action_id.len = select.action_id.len(),
            "select dropped: unusable action id"
        );
        return None;
    }
    let usable: Vec<&(String, String)> = select
        .options
        .iter()
        .filter(|(label, value)| {
            !value.is_empty() && value.chars().count() <= MAX_OPTION_VALUE_CHARS && !label.trim().is_empty()
        })
        .collect();
    if usable.is_empty() {
        return None;
    }
    // A compact drop-down shows option titles as plain text (Markdown applies
    // only to the expanded style, which we never use): no escaping, one line.
    let choices: Vec<Value> = usable
        .iter()
        .take(MAX_OPTIONS)
        .map(|(label, value)| json!({ "title": one_line(label, MAX_OPTION_CHARS), "value": value }))
        .collect();
    let mut placeholder = one_line(&select.placeholder, 100);
    if usable.len() > MAX_OPTIONS {
        placeholder = format!("{placeholder} (first {MAX_OPTIONS} of {})", usable.len());
    }
    let choice_set = json!({
        "type": "Input.ChoiceSet",
        "id": ids.next(&format!("{}{}", input::CHOICE_PREFIX, select.action_id)),
        "style": "compact",
        "placeholder": placeholder,
        "choices": choices,
    });
    let button = execute(
        select_button_title(&select.action_id),
        &select.action_id,
        "",
        None,
        true,
    );
    Some(vec![choice_set, json!({ "type": "ActionSet", "actions": [button] })])
}

// ---------------------------------------------------------------------------
// Pieces → card, within the budget
// ---------------------------------------------------------------------------

/// At most [`MAX_ACTIONS`] actions for one row: the first five and a
/// "More…" card holding the rest in rows of six.
fn row(mut actions: Vec<Value>) -> Vec<Value> {
    if actions.len() <= MAX_ACTIONS {
        return actions;
    }
    let rest = actions.split_off(MAX_ACTIONS - 1);
    let rows: Vec<Value> = rest
        .chunks(MAX_ACTIONS)
        .map(|chunk| json!({ "type": "ActionSet", "actions": chunk }))
        .collect();
    actions
        .push(json!({ "type": "Action.ShowCard", "title": "More…", "card": { "type": "AdaptiveCard", "body": rows } }));
    actions
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The card with at most `keep_lines` text lines (counted across all text
/// pieces, in order) and without the last `drop_buttons` buttons, each cut
/// announced by a note where it happened.
fn assemble(pieces: &[Piece], keep_lines: usize, drop_buttons: usize) -> Value {
    let total_buttons: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Buttons { actions, .. } => actions.len(),
            _ => 0,
        })
        .sum();
    let keep_buttons = total_buttons.saturating_sub(drop_buttons);
    let total_lines: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Text { lines, .. } => lines.len(),
            _ => 0,
        })
        .sum();
    let mut body: Vec<Value> = Vec::new();
    let mut top: Vec<Value> = Vec::new();
    let mut separator = false;
    let mut lines_seen = 0;
    let mut buttons_seen = 0;
    let mut lines_note = false;
    let mut buttons_note = false;
    /// Adds an element, with the separator a divider before it asked for.
    fn push(body: &mut Vec<Value>, mut el: Value, separator: &mut bool) {
        if std::mem::take(separator) && !body.is_empty() {
            el["separator"] = json!(true);
        }
        body.push(el);
    }
    for piece in pieces {
        match piece {
            Piece::Header(text) => push(
                &mut body,
                json!({ "type": "TextBlock", "text": text, "wrap": true, "size": "Large", "weight": "Bolder" }),
                &mut separator,
            ),
            Piece::Text { lines, subtle } => {
                let room = keep_lines.saturating_sub(lines_seen);
                lines_seen += lines.len();
                let kept = &lines[..room.min(lines.len())];
                if kept.iter().any(|l| !l.is_empty()) {
                    let mut el = json!({ "type": "TextBlock", "text": join_lines(kept), "wrap": true });
                    if *subtle {
                        el["isSubtle"] = json!(true);
                        el["size"] = json!("Small");
                    }
                    push(&mut body, el, &mut separator);
                }
                if kept.len() < lines.len() && !lines_note {
                    lines_note = true;
                    let hidden = total_lines - keep_lines.min(total_lines);
                    let note = format!(
                        "{ELLIPSIS}{} not shown: this card reached Teams' size limit. Ask for less (one 1:1, fewer items) to see the rest.",
                        plural(hidden, "more line", "more lines")
                    );
                    push(&mut body, small_print(&note), &mut separator);
                }
            }
            Piece::Divider => separator = true,
            Piece::Select(elements) => {
                for el in elements {
                    push(&mut body, el.clone(), &mut separator);
                }
            }
            Piece::Buttons { actions, top_level } => {
                let room = keep_buttons.saturating_sub(buttons_seen);
                buttons_seen += actions.len();
                let kept: Vec<Value> = actions.iter().take(room).cloned().collect();
                if kept.len() < actions.len() && !buttons_note {
                    buttons_note = true;
                    let note = format!(
                        "{ELLIPSIS}{} not shown: this card reached Teams' size limit.",
                        plural(drop_buttons.min(total_buttons), "more button", "more buttons")
                    );
                    push(&mut body, small_print(&note), &mut separator);
                }
                if kept.is_empty() {
                    continue;
                }
                if *top_level {
                    top = row(kept);
                } else {
                    push(
                        &mut body,
                        json!({ "type": "ActionSet", "actions": row(kept) }),
                        &mut separator,
                    );
                }
            }
        }
    }
    if body.is_empty() && top.is_empty() {
        body.push(json!({ "type": "TextBlock", "text": ELLIPSIS.to_string(), "wrap": true }));
    }
    let mut card = json!({
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": CARD_VERSION,
        "msteams": { "width": "Full" },
        "body": body,
    });
    if !top.is_empty() {
        card["actions"] = Value::Array(top);
    }
    card
}

fn size(card: &Value) -> usize {
    serde_json::to_vec(card).map_or(usize::MAX, |v| v.len())
}

/// The largest `n` in `0..=max` for which `fits(n)`, given `fits` is
/// monotone and `fits(0)`.
fn largest(max: usize, fits: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, max);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The whole card if it fits in [`MAX_CARD_BYTES`]; else as many text lines
/// as fit, keeping every control; else, only when the controls alone are too
/// big (dozens of "which 1:1?" buttons with long values), fewer buttons too.
fn fit(pieces: &[Piece]) -> Value {
    let whole = assemble(pieces, usize::MAX, 0);
    if size(&whole) <= MAX_CARD_BYTES {
        return whole;
    }
    let total_lines: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Text { lines, .. } => lines.len(),
            _ => 0,
        })
        .sum();
    let total_buttons: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Buttons { actions, .. } => actions.len(),
            _ => 0,
        })
        .sum();
    let fits = |lines: usize, drop: usize| size(&assemble(pieces, lines, drop)) <= MAX_CARD_BYTES;
    let drop = if fits(0, 0) {
        0
    } else {
        // The fewest buttons to drop so that the card fits without text.
        let keep = largest(total_buttons, |keep| fits(0, total_buttons - keep));
        total_buttons - keep
    };
    let lines = if fits(0, drop) {
        largest(total_lines, |n| fits(n, drop))
    } else {
        0
    };
    tracing::warn!(
        lines.hidden = total_lines - lines,
        buttons.hidden = drop,
        "card cut to fit the size budget"
    );
    let card = assemble(pieces, lines, drop);
    if size(&card) <= MAX_CARD_BYTES {
        return card;
    }
    // Drop-downs cannot exceed the budget (50 short options each), so this
    // takes a reply of many drop-downs; still, never send an invalid card.
    let header: Vec<Piece> = pieces
        .iter()
        .filter(|p| matches!(p, Piece::Header(_)))
        .cloned()
        .collect();
    let mut last = header;
    last.push(Piece::Text {
        lines: vec![escape(
            "This message is too large to show in Teams. Ask for less (one 1:1, fewer items).",
        )],
        subtle: false,
    });
    assemble(&last, usize::MAX, 0)
}

// ---------------------------------------------------------------------------
// Text-only messages and summaries
// ---------------------------------------------------------------------------

/// The Markdown text of a reply made only of sections, if it is one.
fn text_only(reply: &Reply) -> Option<String> {
    if reply.blocks.is_empty() || !reply.blocks.iter().all(|b| matches!(b, Block::Section(_))) {
        return None;
    }
    let mut paragraphs: Vec<String> = Vec::new();
    for b in &reply.blocks {
        if let Block::Section(t) = b {
            let lines: Vec<String> = lines_of(t).iter().map(|l| line_markdown(l)).collect();
            if !lines.is_empty() {
                paragraphs.push(join_lines(&lines));
            }
        }
    }
    let text = paragraphs.join("\n\n");
    // Same budget as a card; a longer text goes as a card, which cuts well.
    (!text.is_empty() && text.len() <= MAX_CARD_BYTES).then_some(text)
}

/// The first line of the reply, plain: what a notification may show.
fn summary(reply: &Reply) -> String {
    let first = reply.blocks.iter().find_map(|b| match b {
        Block::Header(h) => Some(h.clone()),
        Block::Section(t) | Block::Context(t) => {
            t.to_plain().lines().find(|l| !l.trim().is_empty()).map(str::to_string)
        }
        _ => None,
    });
    let line = one_line(&first.unwrap_or_default(), MAX_SUMMARY_CHARS);
    if line.is_empty() { ELLIPSIS.to_string() } else { line }
}

// ---------------------------------------------------------------------------
// House rules
// ---------------------------------------------------------------------------

const ELEMENT_TYPES: &[&str] = &[
    "TextBlock",
    "RichTextBlock",
    "Image",
    "ImageSet",
    "Media",
    "Container",
    "ColumnSet",
    "Column",
    "FactSet",
    "ActionSet",
    "Table",
    "Input.Text",
    "Input.Number",
    "Input.Date",
    "Input.Time",
    "Input.Toggle",
    "Input.ChoiceSet",
];
const ACTION_TYPES: &[&str] = &[
    "Action.Execute",
    "Action.Submit",
    "Action.OpenUrl",
    "Action.ShowCard",
    "Action.ToggleVisibility",
];

/// Checks a card against our house rules; returns the violations (empty =
/// valid). The rules: `type` AdaptiveCard and `version` 1.5; at most
/// [`MAX_CARD_BYTES`] of JSON; known 1.5 element and action types only;
/// every input has an id, unique in the whole card (nested cards included);
/// a required input has a `label` and an `errorMessage`; a choice set has
/// choices, each with a title and a value; a TextBlock has text; every
/// `Action.Execute` has a verb, object `data`, a title, and an
/// `Action.Submit` fallback carrying the same verb and value; a ShowCard has
/// a card; an `actions` list (top level, `ActionSet`, nested card) has at
/// most [`MAX_ACTIONS`] entries and an `ActionSet` at least one.
pub fn validate_card(card: &Value) -> Vec<String> {
    let mut v = Vec::new();
    if card.get("version").and_then(Value::as_str) != Some(CARD_VERSION) {
        v.push(format!("$.version: {:?}, not {CARD_VERSION:?}", card.get("version")));
    }
    let bytes = size(card);
    if bytes > MAX_CARD_BYTES {
        v.push(format!("$: {bytes} bytes, more than {MAX_CARD_BYTES}"));
    }
    let mut ids = HashSet::new();
    check_card(&mut v, "$", card, &mut ids);
    v
}

fn check_card(v: &mut Vec<String>, at: &str, card: &Value, ids: &mut HashSet<String>) {
    if !card.is_object() {
        v.push(format!("{at}: not an object"));
        return;
    }
    if card.get("type").and_then(Value::as_str) != Some("AdaptiveCard") {
        v.push(format!("{at}.type: not AdaptiveCard"));
    }
    if let Some(body) = card.get("body") {
        match body.as_array() {
            Some(els) => {
                for (i, el) in els.iter().enumerate() {
                    check_element(v, &format!("{at}.body[{i}]"), el, ids);
                }
            }
            None => v.push(format!("{at}.body: not an array")),
        }
    }
    if let Some(actions) = card.get("actions") {
        check_actions(v, &format!("{at}.actions"), actions, ids, false);
    }
}

fn check_actions(v: &mut Vec<String>, at: &str, actions: &Value, ids: &mut HashSet<String>, non_empty: bool) {
    let Some(list) = actions.as_array() else {
        v.push(format!("{at}: not an array"));
        return;
    };
    if list.len() > MAX_ACTIONS {
        v.push(format!("{at}: {} actions, more than {MAX_ACTIONS}", list.len()));
    }
    if non_empty && list.is_empty() {
        v.push(format!("{at}: empty"));
    }
    for (i, a) in list.iter().enumerate() {
        check_action(v, &format!("{at}[{i}]"), a, ids);
    }
}

fn non_empty_str<'a>(x: &'a Value, key: &str) -> Option<&'a str> {
    x.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

fn check_action(v: &mut Vec<String>, at: &str, a: &Value, ids: &mut HashSet<String>) {
    let ty = a.get("type").and_then(Value::as_str).unwrap_or_default();
    if !ACTION_TYPES.contains(&ty) {
        v.push(format!("{at}.type: unknown action type {ty:?}"));
        return;
    }
    if non_empty_str(a, "title").is_none() {
        v.push(format!("{at}.title: missing or empty"));
    }
    match ty {
        "Action.Execute" => {
            let verb = non_empty_str(a, "verb");
            if verb.is_none() {
                v.push(format!("{at}.verb: missing or empty"));
            }
            if a.get("data").is_some_and(|d| !d.is_object()) {
                v.push(format!("{at}.data: not an object"));
            }
            match a.get("fallback") {
                Some(f) if f.get("type").and_then(Value::as_str) == Some("Action.Submit") => {
                    if f.pointer("/data/verb") != a.get("verb") {
                        v.push(format!("{at}.fallback.data.verb: not the action's verb"));
                    }
                    if f.pointer("/data/value") != a.pointer("/data/value") {
                        v.push(format!("{at}.fallback.data.value: not the action's value"));
                    }
                    if non_empty_str(f, "title").is_none() {
                        v.push(format!("{at}.fallback.title: missing or empty"));
                    }
                }
                _ => v.push(format!("{at}.fallback: not an Action.Submit")),
            }
        }
        "Action.Submit" if a.get("data").is_some_and(|d| !d.is_object()) => {
            v.push(format!("{at}.data: not an object"));
        }
        "Action.ShowCard" => match a.get("card") {
            Some(card) => check_card(v, &format!("{at}.card"), card, ids),
            None => v.push(format!("{at}.card: missing")),
        },
        _ => {}
    }
}

fn check_element(v: &mut Vec<String>, at: &str, el: &Value, ids: &mut HashSet<String>) {
    let ty = el.get("type").and_then(Value::as_str).unwrap_or_default();
    if !ELEMENT_TYPES.contains(&ty) {
        v.push(format!("{at}.type: unknown element type {ty:?}"));
        return;
    }
    if ty.starts_with("Input.") {
        match non_empty_str(el, "id") {
            Some(id) => {
                if !ids.insert(id.to_string()) {
                    v.push(format!("{at}.id: duplicate {id:?}"));
                }
            }
            None => v.push(format!("{at}.id: missing or empty")),
        }
        if el.get("isRequired").and_then(Value::as_bool) == Some(true) {
            if non_empty_str(el, "errorMessage").is_none() {
                v.push(format!("{at}: required input without errorMessage"));
            }
            if non_empty_str(el, "label").is_none() {
                v.push(format!("{at}: required input without label"));
            }
        }
    } else if let Some(id) = non_empty_str(el, "id")
        && !ids.insert(id.to_string())
    {
        v.push(format!("{at}.id: duplicate {id:?}"));
    }
    match ty {
        "TextBlock" if non_empty_str(el, "text").is_none() => {
            v.push(format!("{at}.text: missing or empty"));
        }
        "Input.ChoiceSet" => match el.get("choices").and_then(Value::as_array) {
            Some(choices) if !choices.is_empty() => {
                for (i, c) in choices.iter().enumerate() {
                    if non_empty_str(c, "title").is_none() || non_empty_str(c, "value").is_none() {
                        v.push(format!("{at}.choices[{i}]: needs a title and a value"));
                    }
                }
            }
            _ => v.push(format!("{at}.choices: missing or empty")),
        },
        "ActionSet" => match el.get("actions") {
            Some(actions) => check_actions(v, &format!("{at}.actions"), actions, ids, true),
            None => v.push(format!("{at}.actions: missing")),
        },
        "Container" | "Column" => {
            for (i, item) in el
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                check_element(v, &format!("{at}.items[{i}]"), item, ids);
            }
        }
        "ColumnSet" => {
            for (i, col) in el
                .get("columns")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                check_element(v, &format!("{at}.columns[{i}]"), col, ids);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
