//! A `Reply` as plain terminal text: what the console prints.

use crate::domain::reply::{Block, Reply, Span};

pub fn to_text(reply: &Reply) -> String {
    let mut out: Vec<String> = Vec::new();
    for b in &reply.blocks {
        match b {
            Block::Header(h) => out.push(format!("== {h} ==")),
            Block::Section(t) => out.push(spans(&t.0)),
            Block::Context(t) => out.push(format!("({})", spans(&t.0))),
            Block::Divider => out.push("----".to_string()),
            Block::Select(sel) => out.push(format!("[{} ▾ {} options]", sel.placeholder, sel.options.len())),
            Block::Actions(buttons) => out.push(
                buttons
                    .iter()
                    .map(|b| format!("[{}]", b.label))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
    out.join("\n")
}

fn spans(spans: &[Span]) -> String {
    let mut s = String::new();
    for sp in spans {
        match sp {
            Span::Plain(t) | Span::User(t) | Span::Bold(t) | Span::BoldUser(t) => s.push_str(t),
            Span::Code(t) => {
                s.push('`');
                s.push_str(t);
                s.push('`');
            }
            Span::Newline => s.push('\n'),
        }
    }
    s
}
