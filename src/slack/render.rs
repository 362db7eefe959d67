//! `Reply` → Slack Block Kit (SPEC §6): the message content for
//! `chat.postMessage`/`response_url`, the JSON body answering a slash command,
//! and the blocks of the App Home tab.
//!
//! Two promises, both tested here and relied on everywhere else:
//!
//! * **What we send is valid by Slack's limits** (50 blocks a message, 100 in
//!   a view, 3,000 characters a section or context text, 150 a header, 75 a
//!   button label, 255 an action id, 2,000 a button value, 25 elements an
//!   actions block, action ids unique within a block). A long section is split
//!   into several, a long header, context or label is cut with "…", and a
//!   reply with too many blocks is cut with a note. Slack rejects the whole
//!   message over a single violation, so the renderer never hands it one;
//!   [`validate_blocks`] states the rules so tests everywhere can check them.
//! * **User text is inert.** Every span is escaped for mrkdwn (`&`, `<`, `>`,
//!   Slack's rule), and text a person typed is also neutralised (see
//!   [`neutralise`]): it can never ping `@channel`, mention anyone, link
//!   anywhere, turn into formatting or break the layout.
//!
//! Buttons that share an action id inside one actions block (the 1–5 rating,
//! the "which 1:1?" picker) get a `#N` suffix, because Slack wants action ids
//! unique per block; [`action_name`] strips it again on the way in.

use crate::domain::reply::{Block, Button, ButtonStyle, Reply, Select, Span, Text, Visibility};
use serde_json::Value;
use slack_morphism::prelude::*;
use std::collections::HashSet;

/// Blocks in a message (`chat.postMessage`, `response_url`, command answers).
pub const MAX_MESSAGE_BLOCKS: usize = 50;
/// Blocks in a modal or the App Home tab.
pub const MAX_VIEW_BLOCKS: usize = 100;
const MAX_SECTION_TEXT: usize = 3000;
const MAX_SECTION_FIELD: usize = 2000;
const MAX_SECTION_FIELDS: usize = 10;
const MAX_CONTEXT_TEXT: usize = 3000;
const MAX_CONTEXT_ELEMENTS: usize = 10;
const MAX_HEADER_TEXT: usize = 150;
const MAX_BUTTON_TEXT: usize = 75;
const MAX_BUTTON_VALUE: usize = 2000;
const MAX_BUTTON_URL: usize = 3000;
const MAX_ID: usize = 255;
const MAX_ACTIONS: usize = 25;
const MAX_OPTIONS: usize = 100;
const MAX_OPTION_TEXT: usize = 75;
const MAX_OPTION_VALUE: usize = 150;
const MAX_PLACEHOLDER: usize = 150;
const MAX_CONFIRM_TITLE: usize = 100;
const MAX_CONFIRM_TEXT: usize = 300;
/// The `text` fallback is only used for notifications and screen readers;
/// Slack would accept 40,000 characters, but nobody reads that in a banner.
const MAX_FALLBACK_TEXT: usize = 3000;

/// ZERO WIDTH SPACE: invisible, and enough to stop Slack pairing a formatting
/// character or recognising `@here`.
const ZWSP: char = '\u{200B}';
const ELLIPSIS: char = '…';
/// Separates an action id from the suffix that makes it unique in its block.
const ACTION_SUFFIX: char = '#';

/// The message content for a Reply: blocks + a plain `text` fallback.
pub fn message(reply: Reply) -> SlackMessageContent {
    let Rendered { blocks, text } = render(reply, MAX_MESSAGE_BLOCKS, true);
    let content = SlackMessageContent::new().with_text(text);
    if blocks.is_empty() {
        // Slack rejects an empty `blocks` array; the text alone is a valid message.
        content
    } else {
        content.with_blocks(blocks.into_iter().map(SlackBlock::from).collect())
    }
}

/// The blocks of the App Home tab (`views.publish`), where up to 100 fit.
pub fn home_blocks(reply: Reply) -> Vec<SlackBlock> {
    render(reply, MAX_VIEW_BLOCKS, false)
        .blocks
        .into_iter()
        .map(SlackBlock::from)
        .collect()
}

/// The JSON body answering a slash command:
/// `{"response_type":"ephemeral"|"in_channel","text":…,"blocks":[…]}`.
/// Serialised straight to bytes by the handlers, from our own block types
/// (no slack-morphism values on the way: this is the answer of every command).
#[derive(Debug, serde::Serialize)]
pub struct CommandResponse {
    response_type: &'static str,
    text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blocks: Vec<Kit>,
}

impl CommandResponse {
    pub fn new(reply: Reply) -> CommandResponse {
        let visibility = reply.visibility;
        let Rendered { blocks, text } = render(reply, MAX_MESSAGE_BLOCKS, true);
        CommandResponse {
            response_type: match visibility {
                Visibility::Ephemeral => "ephemeral",
                Visibility::InChannel => "in_channel",
            },
            text,
            blocks,
        }
    }

    /// The JSON this serialises to, written directly: the shape is fixed and
    /// small, and its strings are escaped eight bytes at a time (`json_str`),
    /// where serde_json looks at every byte. A test holds the two equal.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() * 3 + 1024);
        out.extend_from_slice(b"{\"response_type\":");
        json_str(&mut out, self.response_type);
        out.extend_from_slice(b",\"text\":");
        json_str(&mut out, &self.text);
        if !self.blocks.is_empty() {
            out.extend_from_slice(b",\"blocks\":[");
            for (i, block) in self.blocks.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                block.write_json(&mut out);
            }
            out.push(b']');
        }
        out.push(b'}');
        out
    }
}

impl axum::response::IntoResponse for CommandResponse {
    fn into_response(self) -> axum::response::Response {
        ([(axum::http::header::CONTENT_TYPE, "application/json")], self.to_json()).into_response()
    }
}

/// `s` as a JSON string, quoted, escaped as serde_json escapes (`"`, `\\`,
/// and the control characters below U+0020). Text rarely holds any of
/// them: eight bytes are checked at a time, and the runs between escapes
/// copied whole.
fn json_str(out: &mut Vec<u8>, s: &str) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    /// Whether any byte of `w` is below 0x20, or is `"` or `\`.
    fn needs_escape(w: u64) -> bool {
        let below_space = w.wrapping_sub(LO * 0x20) & !w;
        let has = |b: u64| {
            let x = w ^ (LO * b);
            x.wrapping_sub(LO) & !x
        };
        (below_space | has(b'"' as u64) | has(b'\\' as u64)) & HI != 0
    }
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            if !needs_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0C => Some(b"\\f"),
            0..=0x1F => None,
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[run..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xF) as usize]]);
            }
        }
        i += 1;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// `{"type":"plain_text","text":…}` / `{"type":"mrkdwn","text":…}`.
fn json_text(out: &mut Vec<u8>, kind: &str, text: &str) {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"text\":");
    json_str(out, text);
    out.push(b'}');
}

impl Kit {
    /// The block as JSON, as its `Serialize` would write it.
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Kit::Header { text } => {
                out.extend_from_slice(b"{\"type\":\"header\",\"text\":");
                json_text(out, "plain_text", &text.text);
            }
            Kit::Section { text } => {
                out.extend_from_slice(b"{\"type\":\"section\",\"text\":");
                json_text(out, "mrkdwn", &text.text);
            }
            Kit::Context { elements: [text] } => {
                out.extend_from_slice(b"{\"type\":\"context\",\"elements\":[");
                json_text(out, "mrkdwn", &text.text);
                out.push(b']');
            }
            Kit::Divider => out.extend_from_slice(b"{\"type\":\"divider\""),
            Kit::Actions { elements } => {
                out.extend_from_slice(b"{\"type\":\"actions\",\"elements\":[");
                for (i, element) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    element.write_json(out);
                }
                out.push(b']');
            }
        }
        out.push(b'}');
    }
}

impl Element {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Element::Button {
                action_id,
                text,
                value,
                style,
                confirm,
            } => {
                out.extend_from_slice(b"{\"type\":\"button\",\"action_id\":");
                json_str(out, action_id);
                out.extend_from_slice(b",\"text\":");
                json_text(out, "plain_text", &text.text);
                if let Some(value) = value {
                    out.extend_from_slice(b",\"value\":");
                    json_str(out, value);
                }
                match style {
                    Some(Style::Primary) => out.extend_from_slice(b",\"style\":\"primary\""),
                    Some(Style::Danger) => out.extend_from_slice(b",\"style\":\"danger\""),
                    None => {}
                }
                if let Some(c) = confirm {
                    let parts = [
                        ("title", &c.title),
                        ("text", &c.text),
                        ("confirm", &c.confirm),
                        ("deny", &c.deny),
                    ];
                    out.extend_from_slice(b",\"confirm\":{");
                    for (i, (key, text)) in parts.into_iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        json_str(out, key);
                        out.push(b':');
                        json_text(out, "plain_text", &text.text);
                    }
                    out.push(b'}');
                }
            }
            Element::StaticSelect {
                action_id,
                placeholder,
                options,
            } => {
                out.extend_from_slice(b"{\"type\":\"static_select\",\"action_id\":");
                json_str(out, action_id);
                out.extend_from_slice(b",\"placeholder\":");
                json_text(out, "plain_text", &placeholder.text);
                out.extend_from_slice(b",\"options\":[");
                for (i, option) in options.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(b"{\"text\":");
                    json_text(out, "plain_text", &option.text.text);
                    out.extend_from_slice(b",\"value\":");
                    json_str(out, &option.value);
                    out.push(b'}');
                }
                out.push(b']');
            }
        }
        out.push(b'}');
    }
}

/// A block as rendered: exactly what Slack is sent, valid by its limits, in
/// our own small types. Serialised as Block Kit JSON as it is (the answer
/// to a slash command) or turned into slack-morphism's [`SlackBlock`] for
/// the Web API calls; a test holds the two to the same JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kit {
    Header { text: PlainText },
    Section { text: Mrkdwn },
    Context { elements: [Mrkdwn; 1] },
    Divider,
    Actions { elements: Vec<Element> },
}

/// A `plain_text` text object.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename = "plain_text")]
pub struct PlainText {
    text: String,
}

/// A `mrkdwn` text object.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename = "mrkdwn")]
pub struct Mrkdwn {
    text: String,
}

/// An interactive element of an actions block.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    Button {
        action_id: String,
        text: PlainText,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        style: Option<Style>,
        #[serde(skip_serializing_if = "Option::is_none")]
        confirm: Option<Box<Confirm>>,
    },
    StaticSelect {
        action_id: String,
        placeholder: PlainText,
        options: Vec<Choice>,
    },
}

/// A button's colour.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    Primary,
    Danger,
}

/// A button's "are you sure?" dialog.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Confirm {
    title: PlainText,
    text: PlainText,
    confirm: PlainText,
    deny: PlainText,
}

/// One option of a select.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Choice {
    text: PlainText,
    value: String,
}

fn plain(text: String) -> PlainText {
    PlainText { text }
}

impl From<Kit> for SlackBlock {
    fn from(kit: Kit) -> SlackBlock {
        match kit {
            Kit::Header { text } => SlackHeaderBlock::new(pt!(text.text)).into(),
            Kit::Section { text } => SlackSectionBlock::new().with_text(md!(text.text)).into(),
            Kit::Context { elements: [text] } => SlackContextBlock::new(vec![md!(text.text)]).into(),
            Kit::Divider => SlackDividerBlock::new().into(),
            Kit::Actions { elements } => {
                SlackActionsBlock::new(elements.into_iter().map(SlackActionBlockElement::from).collect()).into()
            }
        }
    }
}

impl From<Element> for SlackActionBlockElement {
    fn from(element: Element) -> SlackActionBlockElement {
        match element {
            Element::Button {
                action_id,
                text,
                value,
                style,
                confirm,
            } => {
                let mut el = SlackBlockButtonElement::new(pt!(text.text)).with_action_id(SlackActionId::new(action_id));
                if let Some(value) = value {
                    el = el.with_value(value);
                }
                if let Some(c) = confirm {
                    el = el.with_confirm(SlackBlockConfirmItem::new(
                        SlackBlockPlainTextOnly::from(c.title.text),
                        SlackBlockText::from(SlackBlockPlainText::new(c.text.text)),
                        SlackBlockPlainTextOnly::from(c.confirm.text),
                        SlackBlockPlainTextOnly::from(c.deny.text),
                    ));
                }
                match style {
                    Some(Style::Primary) => el = el.with_style(SlackBlockButtonStyle::Primary),
                    Some(Style::Danger) => el = el.with_style(SlackBlockButtonStyle::Danger),
                    None => {}
                }
                el.into()
            }
            Element::StaticSelect {
                action_id,
                placeholder,
                options,
            } => SlackBlockStaticSelectElement::new()
                .with_action_id(SlackActionId::new(action_id))
                .with_placeholder(SlackBlockPlainTextOnly::from(placeholder.text))
                .with_options(
                    options
                        .into_iter()
                        .map(|o| SlackBlockChoiceItem::new(SlackBlockPlainTextOnly::from(o.text.text), o.value))
                        .collect(),
                )
                .into(),
        }
    }
}

/// The action id a button was given by the command layer, without the `#N`
/// suffix the renderer adds to make it unique within its actions block.
/// Route clicks on this, never on the raw `action_id`.
pub fn action_name(action_id: &str) -> &str {
    action_id.split_once(ACTION_SUFFIX).map_or(action_id, |(name, _)| name)
}

/// Escapes text for mrkdwn: `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`
/// (Slack's rule). Applied to every span, including our own wording.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`escape`], appended to `out`.
fn escape_into(out: &mut String, s: &str) {
    push_replacing(out, s, |_, b| escaped(b));
}

/// What `&`, `<` and `>` become in mrkdwn.
fn escaped(b: u8) -> Option<&'static str> {
    match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    }
}

/// Appends `s` to `out` with each byte that `with(position, byte)` answers
/// for replaced; the runs between are copied whole. Only ASCII bytes may be
/// replaced (they never sit inside a multi-byte character).
fn push_replacing(out: &mut String, s: &str, with: impl Fn(usize, u8) -> Option<&'static str>) {
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(replacement) = with(i, b) {
            debug_assert!(b.is_ascii());
            out.push_str(&s[run..i]);
            out.push_str(replacement);
            run = i + 1;
        }
    }
    out.push_str(&s[run..]);
}

/// Escapes *and* neutralises text a person typed, for mrkdwn.
///
/// * `&`, `<`, `>` are escaped, so `<!channel>`, `<@U123>`, `<#C1>` and
///   `<https://evil|click>` show as typed and never become specials, mentions
///   or disguised links.
/// * A ZERO WIDTH SPACE goes after the `@` of `@channel`, `@here` and
///   `@everyone` (any case), which Slack would otherwise parse as a broadcast.
/// * A ZERO WIDTH SPACE goes after **every** `*`, `_`, `~` and `` ` ``. Slack
///   pairs these only when the opening one is followed by a non-space and the
///   closing one is followed by a word boundary. Whichever way Slack classifies
///   U+200B, one of the two fails: as a space it stops every mark from opening;
///   as a letter it stops every mark from closing. So `*x*`, `_x_`, `~x~`,
///   `` `x` `` and ```` ``` ```` blocks all show literally. This is simpler than
///   finding the pairs and cannot be fooled by nesting.
/// * A `>` at the start of a line (a quote) gets a ZERO WIDTH SPACE before it.
/// * `\r\n` and `\r` become `\n`, runs of three or more line breaks shrink to
///   two, other control characters become spaces, and bidirectional overrides
///   are dropped, so a talking point cannot push the rest of the message
///   around or reverse it.
///
/// Links that people paste (`https://…`) stay clickable: Slack links bare URLs
/// itself, and that is a feature for talking points.
pub fn neutralise(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    neutralise_into(&mut out, s);
    out
}

/// [`neutralise`], appended to `out`.
fn neutralise_into(out: &mut String, s: &str) {
    let cleaned = if needs_layout_cleaning(s) {
        std::borrow::Cow::Owned(clean_layout(s))
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    let text: &str = &cleaned;
    let bytes = text.as_bytes();
    // "\u{200B}" is ZWSP.
    push_replacing(out, text, |i, b| match b {
        b'>' if i == 0 || bytes[i - 1] == b'\n' => Some("\u{200B}&gt;"),
        b'*' => Some("*\u{200B}"),
        b'_' => Some("_\u{200B}"),
        b'~' => Some("~\u{200B}"),
        b'`' => Some("`\u{200B}"),
        b'@' if is_broadcast_word(&text[i + 1..]) => Some("@\u{200B}"),
        b => escaped(b),
    });
}

/// Whether the text after an `@` starts with one of Slack's broadcast words
/// (any case; the words are ASCII, so comparing bytes is exact).
fn is_broadcast_word(rest: &str) -> bool {
    ["channel", "here", "everyone"].iter().any(|word| {
        rest.as_bytes()
            .get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word.as_bytes()))
    })
}

/// Whether [`clean_layout`] would change `s` (most text it would not).
fn needs_layout_cleaning(s: &str) -> bool {
    let bytes = s.as_bytes();
    // Most text is printable: no control character below 0x20 but the line
    // break and the tab, no DEL, and no 0xC2 or 0xE2 (the first bytes of a C1
    // control and of a bidirectional override in UTF-8). Only such text has
    // its characters looked at one by one.
    let printable = bytes
        .iter()
        .all(|&b| (b >= 0x20 && !matches!(b, 0x7F | 0xC2 | 0xE2)) || b == b'\n' || b == b'\t');
    bytes.windows(3).any(|w| w == b"\n\n\n")
        || (!printable
            && s.chars().any(|c| {
                (c.is_control() && c != '\n' && c != '\t')
                    || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            }))
}

/// Line breaks normalised and capped at two in a row; control characters and
/// bidirectional overrides removed (see [`neutralise`]).
fn clean_layout(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut newlines = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let c = if c == '\r' {
            if chars.peek() == Some(&'\n') {
                continue; // the `\n` that follows stands for both
            }
            '\n'
        } else {
            c
        };
        if c == '\n' {
            newlines += 1;
            if newlines <= 2 {
                out.push('\n');
            }
            continue;
        }
        newlines = 0;
        match c {
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {}
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `*inner*` appended to `out`, for our own emphasised wording. Surrounding
/// whitespace is moved outside the stars, where Slack needs it to recognise
/// them. `inner` is written by `write`, which must keep whitespace as it is
/// (escaping does: it replaces only `&`, `<` and `>`).
fn bold_into(out: &mut String, inner: &str, write: impl FnOnce(&mut String, &str)) {
    let trimmed = inner.trim();
    if trimmed.is_empty() {
        out.push_str(inner);
        return;
    }
    out.push_str(&inner[..inner.len() - inner.trim_start().len()]);
    out.push('*');
    write(out, trimmed);
    out.push('*');
    out.push_str(&inner[inner.trim_end().len()..]);
}

/// Appends to `out` with `write`, then copies what it wrote into the
/// fallback (if open): written once, not twice.
fn written_and_copied(out: &mut String, fallback: Option<&mut String>, write: impl FnOnce(&mut String)) {
    let at = out.len();
    write(out);
    if let Some(fb) = fallback {
        fb.push_str(&out[at..]);
    }
}

/// One `Text` as mrkdwn; its part of the `text` fallback appended to
/// `fallback` on the way (see [`Fallback`]): the same escaping, so user text
/// is neutralised once and copied, but no `*` or backticks.
fn mrkdwn(text: &Text, fallback: &mut Fallback) -> String {
    // What the spans say, and a little room for escapes: one allocation.
    let size: usize = text.0.iter().map(|span| span.text().len() + 2).sum();
    let mut out = String::with_capacity(size + size / 8);
    for span in &text.0 {
        let fb = fallback.open();
        match span {
            Span::Plain(s) => written_and_copied(&mut out, fb, |o| escape_into(o, s)),
            Span::User(s) => written_and_copied(&mut out, fb, |o| neutralise_into(o, s)),
            Span::Bold(s) => {
                bold_into(&mut out, s, escape_into);
                if let Some(fb) = fb {
                    escape_into(fb, s);
                }
            }
            // Emphasis cannot span lines in mrkdwn: a name is one line anyway.
            Span::BoldUser(s) => {
                // Neutralised first: it may turn a control character at
                // either end into a space, which must go outside the stars.
                let inner = neutralise(s.replace(['\r', '\n'], " ").trim());
                bold_into(&mut out, &inner, |o, t| o.push_str(t));
                if let Some(fb) = fb {
                    neutralise_into(fb, s);
                }
            }
            Span::Code(s) => {
                let inner: String = s
                    .chars()
                    .filter(|&c| c != '`')
                    .map(|c| if c == '\n' { ' ' } else { c })
                    .collect();
                if !inner.trim().is_empty() {
                    out.push('`');
                    out.push_str(&escape(&inner));
                    out.push('`');
                }
                if let Some(fb) = fb {
                    escape_into(fb, s);
                }
            }
            Span::Newline => {
                out.push('\n');
                if let Some(fb) = fb {
                    fb.push('\n');
                }
            }
        }
    }
    out
}

/// The `text` of a message, written while its blocks are rendered:
/// `Reply::to_plain`'s shape, escaped (Slack parses it as mrkdwn too, so user
/// text is neutralised), at most 3,000 characters. Written no further than
/// the cut, and cut by bytes (a character is at least one byte, so the limit
/// holds without counting characters; text beyond ASCII is cut a little
/// shorter). Off for the App Home, which has no fallback.
struct Fallback {
    out: String,
    on: bool,
    first: bool,
}

impl Fallback {
    /// The text to append to, unless it is off or already past the cut.
    fn open(&mut self) -> Option<&mut String> {
        (self.on && self.out.len() <= MAX_FALLBACK_TEXT).then_some(&mut self.out)
    }

    /// [`Fallback::open`] for the next block, with the line break that
    /// separates it from the one before.
    fn next_block(&mut self) -> Option<&mut String> {
        self.open()?;
        if !std::mem::take(&mut self.first) {
            self.out.push('\n');
        }
        Some(&mut self.out)
    }

    /// Cut to the limit; never empty, which Slack would refuse without blocks.
    fn finish(self) -> String {
        let mut out = self.out;
        if out.len() > MAX_FALLBACK_TEXT {
            let mut cut = MAX_FALLBACK_TEXT - ELLIPSIS.len_utf8();
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            let cut = safe_cut(&out, cut);
            out.truncate(out[..cut].trim_end().len());
            out.push(ELLIPSIS);
        }
        if out.trim().is_empty() {
            ELLIPSIS.to_string()
        } else {
            out
        }
    }
}

/// The byte index just after the first `n` characters of `s` (or its length).
fn byte_index(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// Moves a cut position back so that it does not fall inside an escape
/// entity (`&amp;`, `&lt;`, `&gt;`) or between a character and the ZERO WIDTH
/// SPACE that neutralises it. `cut` is a char boundary of `s`.
fn safe_cut(s: &str, mut cut: usize) -> usize {
    loop {
        let before = &s[..cut];
        // Inside an entity: an `&` among the last four bytes with no `;` after it.
        let tail_start = before.len().saturating_sub(4);
        let in_entity = before
            .char_indices()
            .rev()
            .take_while(|&(i, _)| i >= tail_start)
            .find(|&(_, c)| c == '&' || c == ';')
            .is_some_and(|(_, c)| c == '&');
        if in_entity {
            cut = before.rfind('&').unwrap_or(0);
            continue;
        }
        if let Some((i, c)) = before.char_indices().next_back()
            && matches!(c, '*' | '_' | '~' | '`' | '@')
            && s[cut..].starts_with(ZWSP)
        {
            // Keep a mark and the ZWSP that neutralises it together.
            cut = i;
            continue;
        }
        return cut;
    }
}

/// `s` cut to at most `max` characters, ending in "…" when cut, never inside
/// an escape entity.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut = safe_cut(s, byte_index(s, max.saturating_sub(1)));
    let mut out = s[..cut].trim_end().to_string();
    out.push(ELLIPSIS);
    out
}

/// Plain text (headers, button labels): one line, cut to `max` characters.
/// plain_text is shown as is by Slack, so it is not escaped.
fn one_line(s: &str, max: usize) -> String {
    if is_one_line(s, max) {
        return s.to_string();
    }
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut out: String = line.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push(ELLIPSIS);
    out
}

/// [`one_line`] of a string the caller gives up: kept as it is (not copied)
/// when it already is one.
fn one_line_owned(s: String, max: usize) -> String {
    if is_one_line(&s, max) { s } else { one_line(&s, max) }
}

/// Whether `s` is what [`one_line`] makes of it: most labels are short
/// single-spaced ASCII already.
fn is_one_line(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    b.len() <= max
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && b.iter().all(|&c| c.is_ascii_graphic() || c == b' ')
        && !b.windows(2).any(|w| w == b"  ")
}

/// Splits mrkdwn into pieces of at most `max` characters: at the last line
/// break that fits, else at the last space, else (one enormous word) at the
/// last position that does not break an entity. Blank pieces are dropped.
fn split_mrkdwn(s: String, max: usize) -> Vec<String> {
    // The common case, one piece without line breaks at its ends: moved, not copied.
    if (s.len() <= max || s.chars().count() <= max) && s.trim_matches('\n').len() == s.len() {
        return if s.trim().is_empty() { Vec::new() } else { vec![s] };
    }
    let mut out = Vec::new();
    let mut rest = s.as_str();
    while rest.chars().count() > max {
        let window = &rest[..byte_index(rest, max)];
        let (piece, next) = if let Some(i) = window.rfind('\n').filter(|&i| i > 0) {
            (&rest[..i], &rest[i + 1..])
        } else if let Some(i) = window.rfind(' ').filter(|&i| i > 0) {
            (&rest[..i], &rest[i + 1..])
        } else {
            let mut cut = safe_cut(rest, window.len());
            if cut == 0 {
                // Cannot happen with entities of five characters and max ≥ 6;
                // still, always make progress.
                cut = window.len();
            }
            (&rest[..cut], &rest[cut..])
        };
        push_piece(&mut out, piece);
        rest = next;
    }
    push_piece(&mut out, rest);
    out
}

/// Adds a piece of a split section unless it is blank, without the line
/// breaks at its ends (Slack would show them as empty lines).
fn push_piece(out: &mut Vec<String>, piece: &str) {
    let piece = piece.trim_matches('\n');
    if !piece.trim().is_empty() {
        out.push(piece.to_string());
    }
}

/// Buttons as actions blocks of at most 25, each with action ids unique in
/// its block. A button whose action id or value exceeds Slack's limits cannot
/// be shortened without breaking what it does, so it is left out and logged.
fn actions_blocks(buttons: Vec<Button>) -> Vec<Kit> {
    let usable: Vec<Button> = buttons
        .into_iter()
        .filter(|b| {
            let ok = !b.action_id.is_empty()
                && b.action_id.chars().count() <= MAX_ID
                && b.value.chars().count() <= MAX_BUTTON_VALUE
                && !b.label.trim().is_empty();
            if !ok {
                tracing::warn!(
                    action_id.len = b.action_id.chars().count(),
                    value.len = b.value.chars().count(),
                    label.empty = b.label.trim().is_empty(),
                    "button dropped: it does not fit Slack's limits"
                );
            }
            ok
        })
        .collect();
    let mut blocks = Vec::new();
    let mut usable = usable.into_iter().peekable();
    while usable.peek().is_some() {
        // At most 25 a block: the ids already taken are searched in a list.
        let mut elements: Vec<Element> = Vec::new();
        for (i, b) in usable.by_ref().take(MAX_ACTIONS).enumerate() {
            let taken = |id: &str| {
                elements
                    .iter()
                    .any(|e| matches!(e, Element::Button { action_id, .. } if action_id == id))
            };
            let mut id = b.action_id;
            let base = id.clone();
            let mut n = i + 1;
            while taken(&id) {
                id = format!("{base}{ACTION_SUFFIX}{n}");
                n += 1;
            }
            if id.chars().count() > MAX_ID {
                tracing::warn!(
                    action_id.len = id.chars().count(),
                    "button dropped: unique action id too long"
                );
                continue;
            }
            elements.push(Element::Button {
                action_id: id,
                text: plain(one_line_owned(b.label, MAX_BUTTON_TEXT)),
                value: (!b.value.is_empty()).then_some(b.value),
                style: b.style.map(|style| match style {
                    ButtonStyle::Primary => Style::Primary,
                    ButtonStyle::Danger => Style::Danger,
                }),
                confirm: b.confirm.map(|text| {
                    Box::new(Confirm {
                        title: plain(one_line("Are you sure?", MAX_CONFIRM_TITLE)),
                        text: plain(one_line_owned(text, MAX_CONFIRM_TEXT)),
                        confirm: plain("Yes".to_string()),
                        deny: plain("Cancel".to_string()),
                    })
                }),
            });
        }
        if !elements.is_empty() {
            blocks.push(Kit::Actions { elements });
        }
    }
    blocks
}

/// A pick-one list as an actions block with one static select: at most 100
/// options, option text 75 and value 150 characters (longer values are dropped).
fn select_block(select: Select) -> Option<Kit> {
    if select.action_id.is_empty() || select.action_id.chars().count() > MAX_ID {
        return None;
    }
    let options: Vec<Choice> = select
        .options
        .into_iter()
        .filter(|(_, value)| !value.is_empty() && value.chars().count() <= MAX_OPTION_VALUE)
        .take(MAX_OPTIONS)
        .map(|(label, value)| Choice {
            text: plain(one_line_owned(label, MAX_OPTION_TEXT)),
            value,
        })
        .collect();
    if options.is_empty() {
        return None;
    }
    Some(Kit::Actions {
        elements: vec![Element::StaticSelect {
            action_id: select.action_id,
            placeholder: plain(one_line_owned(select.placeholder, MAX_PLACEHOLDER)),
            options,
        }],
    })
}

/// A reply rendered: its blocks and its `text` fallback.
struct Rendered {
    blocks: Vec<Kit>,
    text: String,
}

/// Every block of the reply, valid by Slack's limits, at most `max_blocks`,
/// and (`with_text`) the `text` fallback, written in the same walk.
fn render(reply: Reply, max_blocks: usize, with_text: bool) -> Rendered {
    let mut blocks: Vec<Kit> = Vec::with_capacity(reply.blocks.len() + 2);
    let mut fallback = Fallback {
        out: String::with_capacity(if with_text { 1024 } else { 0 }),
        on: with_text,
        first: true,
    };
    for b in reply.blocks {
        match b {
            Block::Header(h) => {
                if let Some(fb) = fallback.next_block() {
                    escape_into(fb, &h);
                }
                let text = one_line_owned(h, MAX_HEADER_TEXT);
                if !text.is_empty() {
                    blocks.push(Kit::Header { text: plain(text) });
                }
            }
            Block::Section(t) => {
                fallback.next_block();
                for piece in split_mrkdwn(mrkdwn(&t, &mut fallback), MAX_SECTION_TEXT) {
                    blocks.push(Kit::Section {
                        text: Mrkdwn { text: piece },
                    });
                }
            }
            Block::Context(t) => {
                fallback.next_block();
                let text = truncate(mrkdwn(&t, &mut fallback).trim(), MAX_CONTEXT_TEXT);
                if !text.is_empty() {
                    blocks.push(Kit::Context {
                        elements: [Mrkdwn { text }],
                    });
                }
            }
            Block::Divider => blocks.push(Kit::Divider),
            Block::Actions(buttons) => {
                if let Some(fb) = fallback.next_block() {
                    for (i, b) in buttons.iter().enumerate() {
                        fb.push_str(if i == 0 { "[" } else { " [" });
                        escape_into(fb, &b.label);
                        fb.push(']');
                    }
                }
                blocks.extend(actions_blocks(buttons));
            }
            Block::Select(select) => blocks.extend(select_block(select)),
        }
    }
    if blocks.len() > max_blocks {
        // The command layer paginates; this is the safety net. Two blocks of
        // room: one for the note, one spare so a caller may append a footer.
        let keep = max_blocks.saturating_sub(2);
        let hidden = blocks[keep..].iter().filter(|b| !matches!(b, Kit::Divider)).count();
        blocks.truncate(keep);
        tracing::warn!(hidden, "reply cut to fit Slack's block limit");
        if hidden > 0 {
            let note = format!(
                "{ELLIPSIS}{hidden} more item{} not shown. Use a narrower command to see them.",
                if hidden == 1 { "" } else { "s" }
            );
            blocks.push(Kit::Context {
                elements: [Mrkdwn { text: escape(&note) }],
            });
        }
    }
    Rendered {
        blocks,
        text: fallback.finish(),
    }
}

/// Checks a rendered block list against Slack's limits; returns the list of
/// violations (empty = valid). `max_blocks` is 50 for a message, 100 for a
/// view. Used by tests everywhere.
pub fn validate_blocks(blocks: &Value, max_blocks: usize) -> Vec<String> {
    let mut v = Vec::new();
    let Some(list) = blocks.as_array() else {
        return vec!["blocks is not an array".to_string()];
    };
    if list.len() > max_blocks {
        v.push(format!("{} blocks, more than {max_blocks}", list.len()));
    }
    let mut block_ids: HashSet<&str> = HashSet::new();
    for (i, b) in list.iter().enumerate() {
        let at = format!("blocks[{i}]");
        if let Some(id) = b.get("block_id") {
            match id.as_str() {
                Some(id) => {
                    check_id(&mut v, &format!("{at}.block_id"), id);
                    if !block_ids.insert(id) {
                        v.push(format!("{at}.block_id: duplicate {id:?}"));
                    }
                }
                None => v.push(format!("{at}.block_id: not a string")),
            }
        }
        match b.get("type").and_then(Value::as_str) {
            Some("section") => {
                let text = b.get("text");
                let fields = b.get("fields");
                if text.is_none() && fields.is_none() {
                    v.push(format!("{at}: section without text or fields"));
                }
                if text.is_some() {
                    check_text(&mut v, &format!("{at}.text"), text, MAX_SECTION_TEXT, false);
                }
                if let Some(fields) = fields {
                    match fields.as_array() {
                        Some(fs) => {
                            if fs.len() > MAX_SECTION_FIELDS {
                                v.push(format!(
                                    "{at}.fields: {} fields, more than {MAX_SECTION_FIELDS}",
                                    fs.len()
                                ));
                            }
                            for (j, f) in fs.iter().enumerate() {
                                check_text(&mut v, &format!("{at}.fields[{j}]"), Some(f), MAX_SECTION_FIELD, false);
                            }
                        }
                        None => v.push(format!("{at}.fields: not an array")),
                    }
                }
                if let Some(acc) = b.get("accessory") {
                    check_element(&mut v, &format!("{at}.accessory"), acc);
                }
            }
            Some("header") => check_text(&mut v, &format!("{at}.text"), b.get("text"), MAX_HEADER_TEXT, true),
            Some("divider") => {}
            Some("context") => match b.get("elements").and_then(Value::as_array) {
                Some(els) => {
                    if els.is_empty() || els.len() > MAX_CONTEXT_ELEMENTS {
                        v.push(format!(
                            "{at}.elements: {} elements, not 1 to {MAX_CONTEXT_ELEMENTS}",
                            els.len()
                        ));
                    }
                    for (j, e) in els.iter().enumerate() {
                        if matches!(e.get("type").and_then(Value::as_str), Some("mrkdwn" | "plain_text")) {
                            check_text(&mut v, &format!("{at}.elements[{j}]"), Some(e), MAX_CONTEXT_TEXT, false);
                        }
                    }
                }
                None => v.push(format!("{at}: context without elements")),
            },
            Some("actions") => match b.get("elements").and_then(Value::as_array) {
                Some(els) => {
                    if els.is_empty() || els.len() > MAX_ACTIONS {
                        v.push(format!("{at}.elements: {} elements, not 1 to {MAX_ACTIONS}", els.len()));
                    }
                    let mut action_ids: HashSet<&str> = HashSet::new();
                    for (j, e) in els.iter().enumerate() {
                        let el_at = format!("{at}.elements[{j}]");
                        check_element(&mut v, &el_at, e);
                        if let Some(id) = e.get("action_id").and_then(Value::as_str)
                            && !action_ids.insert(id)
                        {
                            v.push(format!("{el_at}.action_id: duplicate {id:?} in the block"));
                        }
                    }
                }
                None => v.push(format!("{at}: actions without elements")),
            },
            // Blocks we never render (image, input, …) are not checked further.
            Some(_) => {}
            None => v.push(format!("{at}: no type")),
        }
    }
    v
}

fn check_id(v: &mut Vec<String>, at: &str, id: &str) {
    let n = id.chars().count();
    if n == 0 {
        v.push(format!("{at}: empty"));
    } else if n > MAX_ID {
        v.push(format!("{at}: {n} characters, more than {MAX_ID}"));
    }
}

/// A text object: the right type, a non-empty string, at most `max` characters.
fn check_text(v: &mut Vec<String>, at: &str, t: Option<&Value>, max: usize, plain_only: bool) {
    let Some(t) = t else {
        v.push(format!("{at}: missing"));
        return;
    };
    match t.get("type").and_then(Value::as_str) {
        Some("plain_text") => {}
        Some("mrkdwn") if !plain_only => {}
        other => v.push(format!("{at}: type {other:?} not allowed here")),
    }
    match t.get("text").and_then(Value::as_str) {
        None => v.push(format!("{at}: no text")),
        Some(s) if s.trim().is_empty() => v.push(format!("{at}: empty text")),
        Some(s) => {
            let n = s.chars().count();
            if n > max {
                v.push(format!("{at}: {n} characters, more than {max}"));
            }
        }
    }
}

/// An interactive element; buttons are checked in full.
fn check_element(v: &mut Vec<String>, at: &str, e: &Value) {
    if let Some(id) = e.get("action_id") {
        match id.as_str() {
            Some(id) => check_id(v, &format!("{at}.action_id"), id),
            None => v.push(format!("{at}.action_id: not a string")),
        }
    }
    if e.get("type").and_then(Value::as_str) != Some("button") {
        return;
    }
    check_text(v, &format!("{at}.text"), e.get("text"), MAX_BUTTON_TEXT, true);
    if let Some(value) = e.get("value").and_then(Value::as_str) {
        let n = value.chars().count();
        if n > MAX_BUTTON_VALUE {
            v.push(format!("{at}.value: {n} characters, more than {MAX_BUTTON_VALUE}"));
        }
    }
    if let Some(url) = e.get("url").and_then(Value::as_str) {
        let n = url.chars().count();
        if n > MAX_BUTTON_URL {
            v.push(format!("{at}.url: {n} characters, more than {MAX_BUTTON_URL}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// `neutralise` skips `clean_layout` when it would change nothing:
        /// the shortcut must see every text it would change. Line breaks
        /// are weighted so that runs of three come up.
        #[test]
        fn layout_cleaning_is_skipped_only_when_it_would_change_nothing(
            chars in prop::collection::vec(
                prop::sample::select(vec![
                    '\n', '\n', '\n', 'a', '\r', '\t', '\u{0}', '\u{7F}', '\u{85}', '\u{A0}', '\u{202A}', '\u{2000}',
                    '\u{2069}', 'é',
                ]),
                0..24,
            )
        ) {
            let s: String = chars.into_iter().collect();
            prop_assert_eq!(needs_layout_cleaning(&s), clean_layout(&s) != s);
        }

        #[test]
        fn layout_cleaning_is_skipped_only_when_it_would_change_nothing_for_any_text(s in any::<String>()) {
            prop_assert_eq!(needs_layout_cleaning(&s), clean_layout(&s) != s);
        }

        /// `one_line` takes most labels as they are; it must say exactly
        /// what joining the words and cutting says.
        #[test]
        fn one_line_matches_joining_the_words_and_cutting(
            parts in prop::collection::vec(
                prop::sample::select(vec!["a", "bc", " ", "  ", "\t", "\n", "\u{A0}", "é", "~"]),
                0..24,
            ),
            max in 1usize..20,
        ) {
            let s: String = parts.concat();
            let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
            let want = if line.chars().count() <= max {
                line
            } else {
                let mut cut: String = line.chars().take(max - 1).collect();
                cut.truncate(cut.trim_end().len());
                cut.push(ELLIPSIS);
                cut
            };
            prop_assert_eq!(one_line(&s, max), want);
        }

        /// `neutralise` walks bytes and copies runs; it must say exactly
        /// what a character-by-character walk says.
        #[test]
        fn neutralise_matches_a_character_by_character_walk(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "&", "<", ">", "*", "_", "~", "`", "@", "\n", "\n\n\n", "@channel", "@HeRe", "@everyone", "x",
                    "é", "\u{202E}", "\r\n", "\u{0}",
                ]),
                0..24,
            )
        ) {
            let s: String = parts.concat();
            prop_assert_eq!(neutralise(&s), neutralise_by_character(&s));
        }
    }

    use super::*;
    use crate::domain::reply::{Button, Text};
    use serde_json::json;

    /// The `text` fallback as it was first written, in a walk of its own
    /// over the reply (now written while the blocks are rendered).
    fn fallback_as_first_written(reply: &Reply) -> String {
        fn spans(out: &mut String, text: &Text, limit: usize) {
            for span in &text.0 {
                if out.len() > limit {
                    return;
                }
                match span {
                    Span::Plain(s) | Span::Bold(s) | Span::Code(s) => escape_into(out, s),
                    Span::User(s) | Span::BoldUser(s) => neutralise_into(out, s),
                    Span::Newline => out.push('\n'),
                }
            }
        }
        let mut out = String::new();
        let mut first = true;
        for b in &reply.blocks {
            if out.len() > MAX_FALLBACK_TEXT {
                break;
            }
            if matches!(b, Block::Divider | Block::Select(_)) {
                continue;
            }
            if !std::mem::take(&mut first) {
                out.push('\n');
            }
            match b {
                Block::Header(h) => escape_into(&mut out, h),
                Block::Section(t) | Block::Context(t) => spans(&mut out, t, MAX_FALLBACK_TEXT),
                Block::Divider | Block::Select(_) => {}
                Block::Actions(bs) => {
                    for (i, b) in bs.iter().enumerate() {
                        out.push_str(if i == 0 { "[" } else { " [" });
                        escape_into(&mut out, &b.label);
                        out.push(']');
                    }
                }
            }
        }
        let fallback = Fallback {
            out,
            on: true,
            first: false,
        };
        fallback.finish()
    }

    /// Replies of every block and span kind, with the characters that get
    /// escaped or neutralised and texts long enough to be split and cut.
    fn any_reply() -> impl Strategy<Value = Reply> {
        let word = prop::sample::select(vec![
            "a", "word ", "&", "<b>", "*x*", "_", "`", "@here", "\n", "\n\n\n", " ", "é", "中", "\u{202E}", "\r\n",
            "\u{0}",
        ]);
        let text = prop::collection::vec(word, 0..12).prop_map(|w| w.concat());
        let long = (1usize..900).prop_map(|n| "long words ".repeat(n));
        let string = prop_oneof![4 => text, 1 => long];
        let span = prop_oneof![
            string.clone().prop_map(Span::Plain),
            string.clone().prop_map(Span::Bold),
            string.clone().prop_map(Span::User),
            string.clone().prop_map(Span::BoldUser),
            string.clone().prop_map(Span::Code),
            Just(Span::Newline),
        ];
        let rich = prop::collection::vec(span, 0..6).prop_map(Text);
        let button = (
            string.clone(),
            prop::sample::select(vec!["tp_discussed", "meeting_held", "", "pick"]),
            prop::sample::select(vec!["m:1", "", "p:2"]),
            prop::option::of(prop::sample::select(vec![ButtonStyle::Primary, ButtonStyle::Danger])),
            prop::option::of(string.clone()),
        )
            .prop_map(|(label, id, value, style, confirm)| Button {
                label,
                action_id: id.to_string(),
                value: value.to_string(),
                style,
                confirm,
            });
        let select = (
            string.clone(),
            prop::collection::vec((string.clone(), prop::sample::select(vec!["1", "2", ""])), 0..4),
        )
            .prop_map(|(placeholder, options)| Select {
                placeholder,
                action_id: "ai_complete".to_string(),
                options: options.into_iter().map(|(l, v)| (l, v.to_string())).collect(),
            });
        let block = prop_oneof![
            1 => string.prop_map(Block::Header),
            3 => rich.clone().prop_map(Block::Section),
            1 => rich.prop_map(Block::Context),
            1 => Just(Block::Divider),
            1 => prop::collection::vec(button, 0..4).prop_map(Block::Actions),
            1 => select.prop_map(Block::Select),
        ];
        (prop::collection::vec(block, 0..8), any::<bool>()).prop_map(|(blocks, in_channel)| Reply {
            visibility: if in_channel {
                Visibility::InChannel
            } else {
                Visibility::Ephemeral
            },
            blocks,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The fallback written during the rendering walk says exactly what
        /// the walk of its own said.
        #[test]
        fn the_fallback_is_the_same_as_first_written(reply in any_reply()) {
            prop_assert_eq!(render(reply.clone(), MAX_MESSAGE_BLOCKS, true).text, fallback_as_first_written(&reply));
        }

        /// The answer written by hand is the JSON serde writes for it.
        #[test]
        fn the_command_answer_is_written_as_serde_writes_it(reply in any_reply()) {
            let response = CommandResponse::new(reply.clone());
            let ours: Value = serde_json::from_slice(&response.to_json()).unwrap();
            prop_assert_eq!(ours, serde_json::to_value(&response).unwrap());
        }

        /// Strings are escaped byte for byte as serde_json escapes them,
        /// whatever falls on the eight-byte words.
        #[test]
        fn json_strings_are_escaped_as_serde_json_escapes_them(
            parts in prop::collection::vec(
                prop::sample::select(vec![
                    "a", "abcdefgh", "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1f}", " ", "\u{7f}",
                    "é", "中", "🎉", "\u{2028}", "!", "#", "~",
                ]),
                0..40,
            ),
            any in any::<String>(),
        ) {
            for s in [parts.concat(), any] {
                let mut out = Vec::new();
                json_str(&mut out, &s);
                prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
            }
        }

        /// Our block types serialise to the JSON slack-morphism's would, so
        /// the command answer and the Web API calls send the same blocks.
        #[test]
        fn our_blocks_are_the_json_of_slack_morphisms(reply in any_reply()) {
            let Rendered { blocks, text } = render(reply.clone(), MAX_MESSAGE_BLOCKS, true);
            let ours = serde_json::to_value(&blocks).unwrap();
            let theirs: Vec<SlackBlock> = blocks.into_iter().map(SlackBlock::from).collect();
            prop_assert_eq!(&ours, &serde_json::to_value(&theirs).unwrap());
            prop_assert!(validate_blocks(&ours, MAX_MESSAGE_BLOCKS).is_empty());
            let content = serde_json::to_value(message(reply.clone())).unwrap();
            prop_assert_eq!(&content["text"], &Value::String(text));
            let response = serde_json::to_value(CommandResponse::new(reply.clone())).unwrap();
            prop_assert_eq!(&response["text"], &content["text"]);
            prop_assert_eq!(response.get("blocks"), content.get("blocks"));
        }
    }

    /// `neutralise` as it was first written, one character at a time.
    fn neutralise_by_character(s: &str) -> String {
        let cleaned = clean_layout(s);
        let mut out = String::new();
        let mut line_start = true;
        for (i, c) in cleaned.char_indices() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => {
                    if line_start {
                        out.push(ZWSP);
                    }
                    out.push_str("&gt;");
                }
                '*' | '_' | '~' | '`' => {
                    out.push(c);
                    out.push(ZWSP);
                }
                '@' => {
                    out.push('@');
                    if is_broadcast_word(&cleaned[i + 1..]) {
                        out.push(ZWSP);
                    }
                }
                c => out.push(c),
            }
            line_start = c == '\n';
        }
        out
    }

    /// [`CommandResponse`] as the JSON value Slack receives.
    fn command_response(reply: &Reply) -> Value {
        serde_json::to_value(CommandResponse::new(reply.clone())).unwrap()
    }

    fn blocks_json(reply: &Reply) -> Value {
        command_response(reply)["blocks"].clone()
    }

    fn assert_valid(reply: &Reply) -> Value {
        let blocks = blocks_json(reply);
        let violations = validate_blocks(&blocks, MAX_MESSAGE_BLOCKS);
        assert!(violations.is_empty(), "invalid blocks: {violations:#?}");
        blocks
    }

    /// All mrkdwn/plain text in the rendered blocks, joined.
    fn all_text(blocks: &Value) -> String {
        let mut out = Vec::new();
        for b in blocks.as_array().into_iter().flatten() {
            if let Some(t) = b["text"]["text"].as_str() {
                out.push(t.to_string());
            }
            for e in b["elements"].as_array().into_iter().flatten() {
                if let Some(t) = e["text"].as_str() {
                    out.push(t.to_string());
                }
                if let Some(t) = e["text"]["text"].as_str() {
                    out.push(t.to_string());
                }
            }
        }
        out.join("\n")
    }

    fn section_texts(blocks: &Value) -> Vec<String> {
        blocks
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "section")
            .filter_map(|b| b["text"]["text"].as_str().map(str::to_string))
            .collect()
    }

    fn agenda_reply() -> Reply {
        Reply::new()
            .header("1:1 with Sam Rivera")
            .context(Text::new().plain("Thursday 4 December, 10:00–10:30 (Europe/Berlin) · every 2 weeks"))
            .section(
                Text::new()
                    .bold("Talking points (3)")
                    .newline()
                    .plain("1. ")
                    .user("Q3 goals & the <launch> plan")
                    .plain("  — you, #goals")
                    .newline()
                    .plain("2. ✓ ")
                    .user("Feedback on *the* design review")
                    .plain("  — Sam, #feedback")
                    .newline()
                    .plain("3. ")
                    .user("Team offsite @here ideas")
                    .plain("  — Sam, #other (carried over 1×)"),
            )
            .section(
                Text::new()
                    .bold("Open action items (1)")
                    .newline()
                    .plain("#12 ")
                    .user("Draft the hiring plan")
                    .plain(" — ")
                    .bold_user("Sam Rivera")
                    .plain(", due Fri 5 Dec"),
            )
            .buttons(vec![
                Button::new("Add talking point", "tp_add", "m:41").primary(),
                Button::new("Meeting held", "meeting_held", "m:41"),
                Button::new("Skip", "meeting_skip", "m:41").danger(),
            ])
            .divider()
            .context(
                Text::new()
                    .plain("Add from anywhere with ")
                    .code("/oneonone add your topic"),
            )
    }

    fn help_reply() -> Reply {
        Reply::new()
            .header("oneonone: better 1:1s, every week")
            .section(
                Text::new()
                    .bold("Before the meeting")
                    .newline()
                    .code("/oneonone add [@person] [#category] TEXT")
                    .plain(" — a talking point for the next 1:1")
                    .newline()
                    .code("/oneonone agenda [@person]")
                    .plain(" — what you'll talk about"),
            )
            .section(
                Text::new()
                    .bold("After the meeting")
                    .newline()
                    .code("/oneonone held [@person]")
                    .plain(" — open points roll over to next time")
                    .newline()
                    .code("/oneonone action [@person] TEXT [due DATE] [owner @x|me]")
                    .plain(" — an action item"),
            )
            .context(
                Text::new()
                    .plain("Details for one command: ")
                    .code("/oneonone help add"),
            )
    }

    #[test]
    fn an_agenda_renders_as_this_block_kit_message() {
        let reply = agenda_reply();
        assert_valid(&reply);
        insta::assert_json_snapshot!("agenda_message", command_response(&reply));
    }

    #[test]
    fn help_renders_as_this_block_kit_message() {
        let reply = help_reply();
        assert_valid(&reply);
        insta::assert_json_snapshot!("help_message", command_response(&reply));
    }

    #[test]
    fn message_carries_the_same_blocks_and_text_as_the_command_response() {
        let reply = agenda_reply();
        let content = message(reply.clone());
        let as_json = serde_json::to_value(&content).unwrap_or_default();
        let response = command_response(&reply);
        assert_eq!(as_json["blocks"], response["blocks"]);
        assert_eq!(as_json["text"], response["text"]);
    }

    #[test]
    fn command_response_is_ephemeral_by_default() {
        let body = command_response(&Reply::text("Only you can see this."));
        assert_eq!(body["response_type"], "ephemeral");
        assert_eq!(body["text"], "Only you can see this.");
        assert_eq!(body["blocks"][0]["type"], "section");
        assert_eq!(body["blocks"][0]["text"]["type"], "mrkdwn");
        assert_eq!(body["blocks"][0]["text"]["text"], "Only you can see this.");
    }

    #[test]
    fn command_response_is_in_channel_when_the_reply_says_so() {
        let mut reply = Reply::text("Everyone sees this.");
        reply.visibility = Visibility::InChannel;
        let body = command_response(&reply);
        assert_eq!(body["response_type"], "in_channel");
        assert!(body["blocks"].is_array());
    }

    #[test]
    fn an_empty_reply_still_has_a_text_and_no_empty_blocks_array() {
        let body = command_response(&Reply::new());
        assert!(body.get("blocks").is_none());
        assert!(!body["text"].as_str().unwrap_or_default().is_empty());
        let content = message(Reply::new());
        assert!(content.blocks.is_none());
        assert!(content.text.is_some());
    }

    #[test]
    fn escape_replaces_the_three_characters_slack_reserves() {
        assert_eq!(escape("a & b < c > d"), "a &amp; b &lt; c &gt; d");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape("*bold* _it_"), "*bold* _it_");
    }

    #[test]
    fn our_own_wording_is_escaped_too() {
        let blocks = assert_valid(&Reply::text(Text::new().plain("Q&A <soon>").bold("R&D")));
        assert_eq!(section_texts(&blocks), vec!["Q&amp;A &lt;soon&gt;*R&amp;D*"]);
    }

    #[test]
    fn user_text_cannot_become_a_special_mention_or_link() {
        for (input, expected) in [
            ("<!channel>", "&lt;!channel&gt;"),
            ("<!here|here>", "&lt;!here|here&gt;"),
            ("<@U123>", "&lt;@U123&gt;"),
            ("<#C42|general>", "&lt;#C42|general&gt;"),
            ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
            ("&amp;", "&amp;amp;"),
            ("&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"),
        ] {
            assert_eq!(neutralise(input), expected, "{input:?}");
        }
    }

    #[test]
    fn user_text_cannot_ping_channel_here_or_everyone() {
        assert_eq!(neutralise("@here"), "@\u{200B}here");
        assert_eq!(neutralise("hi @channel!"), "hi @\u{200B}channel!");
        assert_eq!(neutralise("@Everyone"), "@\u{200B}Everyone");
        assert_eq!(neutralise("@HERE please"), "@\u{200B}HERE please");
        // Other @-words and e-mail addresses are left alone.
        assert_eq!(neutralise("@sam and a@b.example"), "@sam and a@b.example");
    }

    #[test]
    fn user_text_cannot_become_formatting() {
        assert_eq!(neutralise("*x*"), "*\u{200B}x*\u{200B}");
        assert_eq!(neutralise("_x_"), "_\u{200B}x_\u{200B}");
        assert_eq!(neutralise("~x~"), "~\u{200B}x~\u{200B}");
        assert_eq!(neutralise("`x`"), "`\u{200B}x`\u{200B}");
        assert_eq!(
            neutralise("```code```"),
            "`\u{200B}`\u{200B}`\u{200B}code`\u{200B}`\u{200B}`\u{200B}"
        );
        // No two formatting characters stay adjacent, and none is followed by text.
        let n = neutralise("**_~`mixed`~_**");
        for (i, c) in n.char_indices() {
            if matches!(c, '*' | '_' | '~' | '`') {
                assert!(n[i + c.len_utf8()..].starts_with('\u{200B}'), "{n:?}");
            }
        }
    }

    #[test]
    fn user_text_cannot_start_a_quote_or_stretch_the_layout() {
        assert_eq!(neutralise("> quoted"), "\u{200B}&gt; quoted");
        assert_eq!(neutralise("a\n> b"), "a\n\u{200B}&gt; b");
        assert_eq!(neutralise("a > b"), "a &gt; b");
        assert_eq!(neutralise("a\r\nb"), "a\nb");
        assert_eq!(neutralise("a\rb"), "a\nb");
        assert_eq!(neutralise("a\n\n\n\n\nb"), "a\n\nb");
        assert_eq!(neutralise("a\r\n\r\n\r\n\r\nb"), "a\n\nb");
        assert_eq!(neutralise("a\u{0}b\u{1b}c"), "a b c");
        assert_eq!(neutralise("abc\u{202E}fed"), "abcfed");
    }

    #[test]
    fn hostile_talking_points_render_inert_in_a_message() {
        let hostile = "<!channel> @here <@U123> *x* &amp; ```rm -rf``` <https://evil|click>";
        let reply = Reply::text(Text::new().plain("1. ").user(hostile)).context(Text::new().bold_user(hostile));
        let blocks = assert_valid(&reply);
        let text = all_text(&blocks);
        for forbidden in ["<!", "<@", "<http", "@here", "*x*", "```", " &amp; "] {
            assert!(!text.contains(forbidden), "{forbidden:?} survived in {text:?}");
        }
        let fallback = command_response(&reply)["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for forbidden in ["<!", "<@", "<http", "@here", "*x*", "```"] {
            assert!(
                !fallback.contains(forbidden),
                "{forbidden:?} survived in the fallback {fallback:?}"
            );
        }
    }

    #[test]
    fn bold_user_text_stays_on_one_line_inside_its_stars() {
        let blocks = assert_valid(&Reply::text(Text::new().plain("with ").bold_user(" Sam\nRivera ")));
        assert_eq!(section_texts(&blocks), vec!["with *Sam Rivera*"]);
    }

    #[test]
    fn code_spans_lose_their_backticks_and_are_escaped() {
        let blocks = assert_valid(&Reply::text(Text::new().code("/oneonone add `x` <y> & z")));
        assert_eq!(section_texts(&blocks), vec!["`/oneonone add x &lt;y&gt; &amp; z`"]);
    }

    #[test]
    fn a_ten_thousand_character_user_span_becomes_several_valid_sections() {
        let words: String = (0..2000).map(|i| format!("w{i:03} ")).collect::<String>();
        let long: String = words.chars().take(10_000).collect();
        let reply = Reply::text(Text::new().bold("Talking point").newline().user(long));
        let blocks = assert_valid(&reply);
        let sections = section_texts(&blocks);
        assert!(sections.len() >= 4, "{} sections", sections.len());
        assert!(sections.iter().all(|s| s.chars().count() <= 3000));
        let joined: usize = sections.iter().map(|s| s.chars().count()).sum();
        assert!(joined >= 10_000 - 10, "text was lost: {joined} characters left");
    }

    #[test]
    fn a_long_span_without_spaces_is_split_without_breaking_an_entity() {
        let reply = Reply::text(Text::new().user("&".repeat(4000)));
        let blocks = assert_valid(&reply);
        let sections = section_texts(&blocks);
        assert!(sections.len() >= 7);
        for s in &sections {
            assert!(s.chars().count() <= 3000);
            assert!(s.starts_with("&amp;") && s.ends_with("&amp;"), "cut inside an entity");
            assert_eq!(s.replace("&amp;", ""), "");
        }
        let total: usize = sections.iter().map(|s| s.matches("&amp;").count()).sum();
        assert_eq!(total, 4000);
    }

    #[test]
    fn a_long_span_of_marks_is_split_without_separating_a_mark_from_its_zwsp() {
        let blocks = assert_valid(&Reply::text(Text::new().user("*".repeat(5000))));
        for s in section_texts(&blocks) {
            assert!(
                s.starts_with('*') && s.ends_with('\u{200B}'),
                "{:?}…",
                s.chars().take(5).collect::<String>()
            );
        }
    }

    #[test]
    fn a_long_span_of_zero_width_spaces_still_splits() {
        let blocks = assert_valid(&Reply::text(Text::new().user("\u{200B}".repeat(10_000))));
        assert_eq!(section_texts(&blocks).len(), 4);
    }

    #[test]
    fn long_sections_split_at_line_breaks() {
        let mut t = Text::new();
        for i in 0..300 {
            t = t.plain(format!("{i:03}. a talking point of some length")).newline();
        }
        let blocks = assert_valid(&Reply::text(t));
        for s in section_texts(&blocks) {
            assert!(s.starts_with(|c: char| c.is_ascii_digit()), "{s:.20}");
            assert!(s.ends_with("length"), "split mid-line");
        }
    }

    #[test]
    fn long_headers_contexts_and_labels_are_cut_with_an_ellipsis() {
        let reply = Reply::new()
            .header("h".repeat(400))
            .context(Text::new().user("c".repeat(5000)))
            .buttons(vec![Button::new("b".repeat(200), "go", "1")]);
        let blocks = assert_valid(&reply);
        let header = blocks[0]["text"]["text"].as_str().unwrap_or_default();
        assert_eq!(header.chars().count(), 150);
        assert!(header.ends_with('…'));
        let context = blocks[1]["elements"][0]["text"].as_str().unwrap_or_default();
        assert_eq!(context.chars().count(), 3000);
        assert!(context.ends_with('…'));
        let label = blocks[2]["elements"][0]["text"]["text"].as_str().unwrap_or_default();
        assert_eq!(label.chars().count(), 75);
        assert!(label.ends_with('…'));
    }

    #[test]
    fn two_hundred_sections_fit_in_fifty_blocks_with_a_note() {
        let mut reply = Reply::new();
        for i in 0..200 {
            reply = reply.section(format!("point {i}"));
        }
        let blocks = assert_valid(&reply);
        let list = blocks.as_array().cloned().unwrap_or_default();
        assert!(list.len() <= 50);
        assert_eq!(list.len(), 49);
        assert_eq!(list[47]["text"]["text"], "point 47");
        let note = list[48]["elements"][0]["text"].as_str().unwrap_or_default();
        assert!(note.contains("152 more items not shown"), "{note}");
    }

    #[test]
    fn the_home_tab_takes_up_to_a_hundred_blocks() {
        let mut reply = Reply::new();
        for i in 0..200 {
            reply = reply.section(format!("point {i}"));
        }
        let blocks = serde_json::to_value(home_blocks(reply)).unwrap_or_default();
        assert!(validate_blocks(&blocks, MAX_VIEW_BLOCKS).is_empty());
        assert_eq!(blocks.as_array().map(Vec::len), Some(99));
        let small = serde_json::to_value(home_blocks(agenda_reply())).unwrap_or_default();
        assert_eq!(small, blocks_json(&agenda_reply()));
    }

    #[test]
    fn sixty_buttons_become_actions_blocks_of_at_most_twenty_five() {
        let buttons: Vec<Button> = (0..60)
            .map(|i| Button::new(format!("#{i}"), format!("act_{i}"), i.to_string()))
            .collect();
        let blocks = assert_valid(&Reply::new().buttons(buttons));
        let sizes: Vec<usize> = blocks
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["elements"].as_array().map(Vec::len))
            .collect();
        assert_eq!(sizes, vec![25, 25, 10]);
        assert_eq!(blocks[2]["elements"][9]["action_id"], "act_59");
        assert_eq!(blocks[2]["elements"][9]["value"], "59");
    }

    #[test]
    fn buttons_sharing_an_action_id_get_unique_ids_that_route_to_the_same_name() {
        let buttons: Vec<Button> = (1..=5)
            .map(|n| Button::new(n.to_string(), "rate", format!("41:{n}")))
            .collect();
        let blocks = assert_valid(&Reply::new().buttons(buttons));
        let ids: Vec<&str> = blocks[0]["elements"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["action_id"].as_str())
            .collect();
        assert_eq!(ids, vec!["rate", "rate#2", "rate#3", "rate#4", "rate#5"]);
        assert!(ids.iter().all(|id| action_name(id) == "rate"));
        assert_eq!(action_name("pick_partner"), "pick_partner");
    }

    #[test]
    fn buttons_keep_their_style_and_value() {
        let blocks = assert_valid(&Reply::new().buttons(vec![
            Button::new("Held", "meeting_held", "m:1").primary(),
            Button::new("Skip", "meeting_skip", "m:1").danger(),
            Button::new("Later", "later", ""),
        ]));
        let els = &blocks[0]["elements"];
        assert_eq!(els[0]["style"], "primary");
        assert_eq!(els[1]["style"], "danger");
        assert!(els[2].get("style").is_none());
        assert!(els[2].get("value").is_none(), "an empty value is left out");
        assert_eq!(els[0]["text"]["type"], "plain_text");
    }

    #[test]
    fn buttons_whose_action_id_or_value_do_not_fit_are_dropped() {
        let reply = Reply::new().section("Pick one").buttons(vec![
            Button::new("ok", "ok", "1"),
            Button::new("long id", "a".repeat(256), "1"),
            Button::new("long value", "v", "x".repeat(2001)),
        ]);
        let blocks = assert_valid(&reply);
        assert_eq!(blocks[1]["elements"].as_array().map(Vec::len), Some(1));
        // Nothing left: no empty actions block.
        let only_bad = assert_valid(
            &Reply::new()
                .section("x")
                .buttons(vec![Button::new("b", "a".repeat(300), "")]),
        );
        assert_eq!(only_bad.as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn empty_sections_headers_and_contexts_are_left_out() {
        let reply = Reply::new()
            .header("  ")
            .section(Text::new())
            .context(Text::new().user("\n\n"))
            .section("kept");
        let blocks = assert_valid(&reply);
        assert_eq!(section_texts(&blocks), vec!["kept"]);
        assert_eq!(blocks.as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn the_text_fallback_is_escaped_and_at_most_three_thousand_characters() {
        let reply = Reply::new()
            .header("A & B")
            .section(Text::new().user("<!channel> ".repeat(1000)));
        let text = command_response(&reply)["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(text.starts_with("A &amp; B\n&lt;!channel&gt;"));
        assert!(
            (2990..=3000).contains(&text.chars().count()),
            "{}",
            text.chars().count()
        );
        assert!(text.ends_with('…'));
        let entity_free = text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "");
        assert!(!entity_free.contains('&'), "cut inside an entity");
    }

    #[test]
    fn a_fallback_beyond_ascii_is_cut_within_three_thousand_characters() {
        for unit in ["é", "✓ ", "日本", "*_", "ab"] {
            let reply = Reply::new().section(Text::new().user(unit.repeat(4000)));
            let text = command_response(&reply)["text"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(text.chars().count() <= 3000, "{unit}: {}", text.chars().count());
            assert!(text.len() <= 3000, "{unit}: {} bytes", text.len());
            assert!(text.len() > 2900, "{unit}: cut too short, {} bytes", text.len());
            assert!(text.ends_with('…'), "{unit}");
            // A mark is never separated from the ZERO WIDTH SPACE after it.
            assert!(!text.trim_end_matches('…').ends_with(['*', '_']), "{unit}: {text:?}");
        }
    }

    #[test]
    fn validate_blocks_accepts_what_we_render() {
        assert!(validate_blocks(&blocks_json(&agenda_reply()), 50).is_empty());
        assert!(validate_blocks(&json!([]), 50).is_empty());
    }

    fn section(text: &str) -> Value {
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
    }

    fn button(text: &str, action_id: &str) -> Value {
        json!({ "type": "button", "text": { "type": "plain_text", "text": text }, "action_id": action_id })
    }

    fn one_violation(blocks: Value, max: usize, needle: &str) {
        let v = validate_blocks(&blocks, max);
        assert_eq!(v.len(), 1, "{v:#?}");
        assert!(v[0].contains(needle), "{:?} does not mention {needle:?}", v[0]);
    }

    #[test]
    fn validate_blocks_catches_too_many_blocks() {
        let blocks = Value::Array((0..51).map(|_| json!({ "type": "divider" })).collect());
        one_violation(blocks.clone(), 50, "51 blocks");
        assert!(validate_blocks(&blocks, 100).is_empty());
    }

    #[test]
    fn validate_blocks_catches_a_section_text_over_3000() {
        one_violation(json!([section(&"x".repeat(3001))]), 50, "3001 characters");
        assert!(validate_blocks(&json!([section(&"x".repeat(3000))]), 50).is_empty());
    }

    #[test]
    fn validate_blocks_catches_a_header_over_150() {
        let header = json!({ "type": "header", "text": { "type": "plain_text", "text": "h".repeat(151) } });
        one_violation(json!([header]), 50, "151 characters");
        let mrkdwn_header = json!({ "type": "header", "text": { "type": "mrkdwn", "text": "h" } });
        one_violation(json!([mrkdwn_header]), 50, "not allowed");
    }

    #[test]
    fn validate_blocks_catches_a_button_text_over_75() {
        let actions = json!({ "type": "actions", "elements": [button(&"b".repeat(76), "go")] });
        one_violation(json!([actions]), 50, "76 characters");
    }

    #[test]
    fn validate_blocks_catches_an_action_id_over_255() {
        let actions = json!({ "type": "actions", "elements": [button("b", &"a".repeat(256))] });
        one_violation(json!([actions]), 50, "action_id: 256 characters");
    }

    #[test]
    fn validate_blocks_catches_more_than_25_actions() {
        let elements: Vec<Value> = (0..26).map(|i| button("b", &format!("a{i}"))).collect();
        one_violation(json!([{ "type": "actions", "elements": elements }]), 50, "26 elements");
    }

    #[test]
    fn validate_blocks_catches_duplicate_block_ids() {
        let mut a = section("a");
        let mut b = section("b");
        a["block_id"] = json!("same");
        b["block_id"] = json!("same");
        one_violation(json!([a, b]), 50, "duplicate");
    }

    #[test]
    fn validate_blocks_catches_duplicate_action_ids_in_a_block() {
        let actions = json!({ "type": "actions", "elements": [button("1", "rate"), button("2", "rate")] });
        one_violation(json!([actions]), 50, "duplicate \"rate\"");
    }

    #[test]
    fn validate_blocks_catches_empty_texts_and_values_over_2000() {
        one_violation(json!([section("  ")]), 50, "empty text");
        let mut b = button("b", "go");
        b["value"] = json!("v".repeat(2001));
        one_violation(
            json!([{ "type": "actions", "elements": [b] }]),
            50,
            "value: 2001 characters",
        );
        one_violation(json!({ "type": "divider" }), 50, "not an array");
    }
}
