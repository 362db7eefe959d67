//! `Reply`: what the bot says, independent of the platform. The command layer
//! builds it; `slack::render`, `teams::render` and the console turn it into
//! Block Kit, Adaptive Cards or text.
//!
//! User-provided text is carried as `Span::User` and is escaped by every
//! renderer: it can never ping `@channel`, mention anyone or break the layout.

use super::model::{MeetingId, PersonId, SeriesId};

/// One run of text with a single meaning for the renderers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Our own wording. Renderers still escape it, but it carries no user input.
    Plain(String),
    /// Our own wording, emphasised.
    Bold(String),
    /// Text a person typed (talking points, comments, names, reasons). Always
    /// escaped; shown verbatim, never as formatting or a mention.
    User(String),
    /// A person's typed text shown emphasised (e.g. a partner's name).
    BoldUser(String),
    /// Monospace: a command or usage line (`/oneonone add …`).
    Code(String),
    /// A line break inside the same block.
    Newline,
}

impl Span {
    /// What the span says, without its formatting (a line break for `Newline`).
    pub fn text(&self) -> &str {
        match self {
            Span::Plain(t) | Span::Bold(t) | Span::User(t) | Span::BoldUser(t) | Span::Code(t) => t,
            Span::Newline => "\n",
        }
    }
}

/// Rich text: a sequence of spans.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub Vec<Span>);

impl Text {
    pub fn new() -> Self {
        Text(Vec::new())
    }
    pub fn plain(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Plain(s.into()));
        self
    }
    pub fn bold(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Bold(s.into()));
        self
    }
    pub fn user(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::User(s.into()));
        self
    }
    pub fn bold_user(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::BoldUser(s.into()));
        self
    }
    pub fn code(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Code(s.into()));
        self
    }
    pub fn newline(mut self) -> Self {
        self.0.push(Span::Newline);
        self
    }
    pub fn push(&mut self, span: Span) {
        self.0.push(span);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The text with no formatting at all (for fallbacks, logs and tests).
    pub fn to_plain(&self) -> String {
        self.0.iter().map(Span::text).collect()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::new().plain(s)
    }
}
impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::new().plain(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary,
    Danger,
}

/// A button. `action_id` names what it does (`pick_partner`, `tp_discussed`, …);
/// `value` names the object it acts on. Whatever comes back from a click is
/// re-checked against the verified caller before anything changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub action_id: String,
    pub value: String,
    pub style: Option<ButtonStyle>,
    /// Asks "are you sure?" with this text before the click counts.
    pub confirm: Option<String>,
}

impl Button {
    pub fn new(label: impl Into<String>, action_id: impl Into<String>, value: impl Into<String>) -> Self {
        Button {
            label: label.into(),
            action_id: action_id.into(),
            value: value.into(),
            style: None,
            confirm: None,
        }
    }
    pub fn primary(mut self) -> Self {
        self.style = Some(ButtonStyle::Primary);
        self
    }
    pub fn danger(mut self) -> Self {
        self.style = Some(ButtonStyle::Danger);
        self
    }
    pub fn confirm(mut self, text: impl Into<String>) -> Self {
        self.confirm = Some(text.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A short title (plain, one line).
    Header(String),
    /// A paragraph of rich text.
    Section(Text),
    /// Small print under a section.
    Context(Text),
    Divider,
    /// A row of buttons.
    Actions(Vec<Button>),
    /// A pick-one list: choosing an option acts at once (`action_id`, the
    /// option's value).
    Select(Select),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Select {
    pub placeholder: String,
    pub action_id: String,
    /// (label, value)
    pub options: Vec<(String, String)>,
}

/// Whether a command reply is shown only to the caller (the default) or posted
/// for everyone in the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    #[default]
    Ephemeral,
    InChannel,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub visibility: Visibility,
    pub blocks: Vec<Block>,
}

impl Reply {
    pub fn new() -> Self {
        Reply::default()
    }
    /// A one-paragraph reply.
    pub fn text(t: impl Into<Text>) -> Self {
        Reply::new().section(t)
    }
    pub fn header(mut self, s: impl Into<String>) -> Self {
        self.blocks.push(Block::Header(s.into()));
        self
    }
    pub fn section(mut self, t: impl Into<Text>) -> Self {
        self.blocks.push(Block::Section(t.into()));
        self
    }
    pub fn context(mut self, t: impl Into<Text>) -> Self {
        self.blocks.push(Block::Context(t.into()));
        self
    }
    pub fn divider(mut self) -> Self {
        self.blocks.push(Block::Divider);
        self
    }
    pub fn select(
        mut self,
        placeholder: impl Into<String>,
        action_id: impl Into<String>,
        options: Vec<(String, String)>,
    ) -> Self {
        if !options.is_empty() {
            self.blocks.push(Block::Select(Select {
                placeholder: placeholder.into(),
                action_id: action_id.into(),
                options,
            }));
        }
        self
    }
    pub fn buttons(mut self, b: Vec<Button>) -> Self {
        if !b.is_empty() {
            self.blocks.push(Block::Actions(b));
        }
        self
    }
    pub fn push(&mut self, b: Block) {
        self.blocks.push(b);
    }
    /// The whole reply as plain text, one block per paragraph: the `text`
    /// fallback of a Slack message and what tests assert on.
    pub fn to_plain(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for b in &self.blocks {
            match b {
                Block::Header(h) => parts.push(h.clone()),
                Block::Section(t) | Block::Context(t) => parts.push(t.to_plain()),
                Block::Divider | Block::Select(_) => {}
                Block::Actions(bs) => parts.push(
                    bs.iter()
                        .map(|b| format!("[{}]", b.label))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            }
        }
        parts.join("\n")
    }
}

/// A message to someone other than the caller, caused by a command (the
/// partner told about a skip, a request for a 1:1). Delivered by the adapter
/// as a direct message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub to: PersonId,
    /// The recipient's platform user id.
    pub to_external: String,
    pub reply: Reply,
}

/// What carrying out a command produced: the answer to the caller and any
/// direct messages to others.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    pub reply: Reply,
    pub notices: Vec<Notice>,
    /// 1:1s whose agendas changed: posted copies and home views are refreshed.
    pub changed: Vec<SeriesId>,
    /// The command's own write already marked `changed` for the scheduler's
    /// next pass (`Db::append_point`), so it need not be marked again.
    pub changed_marked: bool,
    /// Set when the reply is the agenda of this meeting, so an adapter that
    /// posts it can remember the message (for reactions, replies, updates).
    pub agenda: Option<MeetingId>,
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Self {
        Outcome {
            reply,
            ..Outcome::default()
        }
    }
}
