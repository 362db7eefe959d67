//! Tests of the Adaptive Card renderer: escaping, every block and button,
//! the inline forms and what comes back from them, the size budget, the
//! house rules, and (`every_card_the_bot_emits_…`) Microsoft's own
//! `adaptivecards` library run over every kind of card the bot emits.

use super::*;
use crate::commands::objects::{ObjectAction, apply_to, rating_prompt};
use crate::commands::{self, Actor, Ctx, Directory, DirectoryFuture, parse_error_reply, resolve_actor};
use crate::domain::grammar;
use crate::domain::model::{MeetingId, Platform, Profile, Workspace};
use crate::domain::reply::{Outcome, Text};
use crate::store::Db;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use std::io::Write;
use std::path::Path;
use std::process::Command;

fn ctx() -> CardContext {
    CardContext {
        partner_name: Some("Sam Rivera".to_string()),
    }
}

/// The card for `reply`, asserted valid by the house rules.
fn render(reply: &Reply) -> Value {
    let c = card(reply, &ctx());
    let v = validate_card(&c);
    assert!(v.is_empty(), "house rules broken: {v:#?}\n{c:#}");
    c
}

/// Every element and action object in the card, nested cards included.
fn walk<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    match node {
        Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        Value::Object(map) => {
            if map.contains_key("type") {
                out.push(node);
            }
            for (k, v) in map {
                if k != "data" && k != "fallback" {
                    walk(v, out);
                }
            }
        }
        _ => {}
    }
}

fn of_type<'a>(card: &'a Value, ty: &str) -> Vec<&'a Value> {
    let mut all = Vec::new();
    walk(card, &mut all);
    all.into_iter().filter(|n| n["type"] == ty).collect()
}

fn texts(card: &Value) -> Vec<String> {
    of_type(card, "TextBlock")
        .iter()
        .filter_map(|t| t["text"].as_str().map(str::to_string))
        .collect()
}

fn execute_with_verb<'a>(card: &'a Value, verb: &str) -> &'a Value {
    of_type(card, "Action.Execute")
        .into_iter()
        .find(|a| a["verb"] == verb)
        .unwrap_or_else(|| panic!("no Action.Execute with verb {verb:?} in {card:#}"))
}

/// The ShowCard whose title is `title`.
fn show_card_titled<'a>(card: &'a Value, title: &str) -> &'a Value {
    of_type(card, "Action.ShowCard")
        .into_iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no ShowCard {title:?} in {card:#}"))
}

fn input_ids(card: &Value) -> Vec<String> {
    let mut all = Vec::new();
    walk(card, &mut all);
    all.into_iter()
        .filter(|n| n["type"].as_str().is_some_and(|t| t.starts_with("Input.")))
        .filter_map(|n| n["id"].as_str().map(str::to_string))
        .collect()
}

/// What Teams sends when `action` is clicked with these inputs: the
/// `adaptiveCard/action` invoke value (data merged with the inputs).
fn invoke(action: &Value, inputs: &[(&str, &str)]) -> Value {
    let mut data = action["data"].clone();
    for (k, v) in inputs {
        data[*k] = json!(v);
    }
    json!({ "action": { "type": "Action.Execute", "id": "x", "verb": action["verb"], "data": data }, "trigger": "manual" })
}

/// The message value the `Action.Submit` fallback of `action` sends.
fn submit(action: &Value, inputs: &[(&str, &str)]) -> Value {
    let mut data = action["fallback"]["data"].clone();
    for (k, v) in inputs {
        data[*k] = json!(v);
    }
    data
}

/// Undoes [`escape`] the way a CommonMark renderer reads it: a backslash
/// before ASCII punctuation is dropped, and so is the ZERO WIDTH SPACE.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_punctuation) => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '\u{200B}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether one line of escaped Markdown can form nothing: every inline
/// marker escaped, `<` and `&` defused, no block marker at its start.
fn inert(line: &str) -> Result<(), String> {
    let chars: Vec<char> = line.chars().collect();
    let start = chars.iter().position(|c| !c.is_whitespace()).unwrap_or(chars.len());
    let rest: String = chars[start..].iter().collect();
    let heading = rest.starts_with('#') && {
        let n = rest.chars().take_while(|&c| c == '#').count();
        n <= 6 && rest.chars().nth(n).is_none_or(char::is_whitespace)
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let numbered = digits > 0 && matches!(rest.chars().nth(digits), Some('.' | ')'));
    if heading || numbered || rest.starts_with(['-', '+', '>', '=']) {
        return Err(format!("block marker at the start of {line:?}"));
    }
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if !chars.get(i + 1).is_some_and(char::is_ascii_punctuation) {
                    return Err(format!("stray backslash in {line:?}"));
                }
                i += 2;
                continue;
            }
            '*' | '_' | '`' | '~' | '[' | ']' => return Err(format!("unescaped {:?} in {line:?}", chars[i])),
            '<' | '&' if chars.get(i + 1) != Some(&'\u{200B}') => {
                return Err(format!("undefused {:?} in {line:?}", chars[i]));
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

const HOSTILE: &[&str] = &[
    "**x**",
    "_y_",
    "[click](https://evil.example)",
    "<at>Boss</at>",
    "# big",
    "### smaller",
    "1. list",
    "12) list",
    "- bullet",
    "+ bullet",
    "> quote",
    "`code` and ```fence```",
    "~~strike~~",
    "&lt;at&gt;Boss&lt;/at&gt;",
    "<b>html</b> <https://evil.example>",
    "back\\slash \\*not bold\\*",
    "![img](https://evil.example/x.png)",
    "---",
    "===",
];

// ---------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------

#[test]
fn markdown_markers_in_text_are_escaped() {
    assert_eq!(escape("**x**"), "\\*\\*x\\*\\*");
    assert_eq!(escape("_y_"), "\\_y\\_");
    assert_eq!(escape("[click](https://evil)"), "\\[click\\](https://evil)");
    assert_eq!(escape("`c`"), "\\`c\\`");
    assert_eq!(escape("~~s~~"), "\\~\\~s\\~\\~");
    assert_eq!(escape("a\\b"), "a\\\\b");
}

#[test]
fn tags_mentions_and_entities_cannot_form() {
    assert_eq!(escape("<at>Boss</at>"), "<\u{200B}at>Boss<\u{200B}/at>");
    assert_eq!(escape("&lt;at&gt;"), "&\u{200B}lt;at&\u{200B}gt;");
    assert_eq!(escape("Q&A"), "Q&\u{200B}A");
}

#[test]
fn block_markers_are_escaped_only_at_the_start_of_a_line() {
    assert_eq!(escape("# big"), "\\# big");
    assert_eq!(escape("###### six"), "\\###### six");
    assert_eq!(escape("#goals"), "#goals");
    assert_eq!(escape("#12 Draft the plan"), "#12 Draft the plan");
    assert_eq!(escape("1. list"), "1\\. list");
    assert_eq!(escape("12) list"), "12\\) list");
    assert_eq!(escape("2026 was good"), "2026 was good");
    assert_eq!(escape("- item"), "\\- item");
    assert_eq!(escape("+ item"), "\\+ item");
    assert_eq!(escape("> quote"), "\\> quote");
    assert_eq!(escape("a - b > c # d 1. e"), "a - b > c # d 1. e");
}

#[test]
fn every_hostile_string_is_inert_and_reads_as_typed() {
    for h in HOSTILE {
        let e = escape(h);
        assert_eq!(inert(&e), Ok(()), "{h:?}");
        assert_eq!(unescape(&e), *h);
    }
}

proptest! {
    #[test]
    fn any_line_escapes_to_inert_markdown_that_reads_as_typed(s in "[-*_`~\\[\\]()<>&#+=.!|0-9a-z \\\\]{0,40}") {
        let e = escape(&s);
        prop_assert_eq!(inert(&e), Ok(()));
        prop_assert_eq!(unescape(&e), s);
    }
}

#[test]
fn hostile_user_text_stays_inert_in_a_card_and_in_a_text_message() {
    let mut t = Text::new().bold("Talking points").newline();
    for (i, h) in HOSTILE.iter().enumerate() {
        t = t
            .plain(format!("{}. ", i + 1))
            .user(*h)
            .plain(" — ")
            .bold_user(*h)
            .newline();
    }
    t = t.user(HOSTILE.join("\n"));
    let reply = Reply::new()
        .header("<at>Boss</at> **1:1**")
        .section(t.clone())
        .context(t.clone());
    let c = render(&reply);
    let all = texts(&c);
    for text in &all {
        for line in text.split("\n\n") {
            // Our own bold markers are the only unescaped `**` pairs.
            let without_bold = line.replace("**", "");
            assert_eq!(inert(&without_bold), Ok(()), "in {text:?}");
        }
        assert!(!text.contains("<at>"), "{text:?}");
    }
    let text_message = message_activity(&Reply::text(t), &ctx());
    let md = text_message["text"].as_str().unwrap_or_default();
    for line in md.split("\n\n") {
        assert_eq!(inert(&line.replace("**", "")), Ok(()), "{line:?}");
    }
}

// ---------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------

#[test]
fn header_section_context_and_divider_map_to_text_blocks() {
    let reply = Reply::new()
        .header("1:1 with Sam")
        .section(
            Text::new()
                .bold("Talking points (2)")
                .newline()
                .plain("1. ")
                .user("Q3 goals"),
        )
        .divider()
        .context(Text::new().plain("Add from anywhere with ").code("add `your` topic"));
    let c = render(&reply);
    assert_eq!(c["type"], "AdaptiveCard");
    assert_eq!(c["version"], "1.5");
    assert_eq!(c["$schema"], "http://adaptivecards.io/schemas/adaptive-card.json");
    assert_eq!(c["msteams"]["width"], "Full");
    assert!(c.get("actions").is_none(), "no empty actions");
    let body = c["body"].as_array().cloned().unwrap_or_default();
    assert_eq!(body.len(), 3);
    assert_eq!(body[0]["text"], "1:1 with Sam");
    assert_eq!(body[0]["size"], "Large");
    assert_eq!(body[0]["weight"], "Bolder");
    assert_eq!(body[1]["text"], "**Talking points (2)**\n\n1\\. Q3 goals");
    assert_eq!(body[1]["wrap"], true);
    assert!(body[1].get("separator").is_none());
    assert_eq!(body[2]["text"], "Add from anywhere with “add your topic”");
    assert_eq!(body[2]["isSubtle"], true);
    assert_eq!(body[2]["size"], "Small");
    assert_eq!(body[2]["separator"], true, "the divider separates what follows");
}

#[test]
fn bold_keeps_its_spaces_outside_the_stars_and_names_stay_on_one_line() {
    let c = render(&Reply::text(
        Text::new()
            .plain("with ")
            .bold_user(" Sam\nRivera ")
            .bold(" today ")
            .plain("!"),
    ));
    assert_eq!(texts(&c), vec!["with **Sam Rivera** **today** !"]);
}

#[test]
fn blank_lines_shrink_and_lines_start_clean() {
    let c = render(&Reply::text(
        Text::new().user("  a\r\n\r\n\r\n\r\n    b\u{202E}c\u{0}d\n\n"),
    ));
    assert_eq!(texts(&c), vec!["a\n\n\u{00A0}\n\nbc d"]);
}

#[test]
fn empty_blocks_are_left_out_and_an_empty_reply_still_makes_a_valid_card() {
    let c = render(
        &Reply::new()
            .header("  ")
            .section(Text::new())
            .context(Text::new().user("\n\n")),
    );
    assert_eq!(texts(&c), vec!["…"]);
    let c = render(&Reply::new());
    assert_eq!(texts(&c), vec!["…"]);
}

#[test]
fn a_very_long_line_is_cut_with_an_ellipsis() {
    let c = render(&Reply::text(Text::new().user("w".repeat(10_000))));
    let t = &texts(&c)[0];
    assert_eq!(t.chars().count(), MAX_LINE_CHARS);
    assert!(t.ends_with('…'));
}

// ---------------------------------------------------------------------------
// Buttons
// ---------------------------------------------------------------------------

#[test]
fn a_button_is_an_execute_with_a_submit_fallback_and_no_inputs() {
    let c = render(&Reply::text("Did it happen?").buttons(vec![
        Button::new("Yes, held", "meeting_held", "41").primary(),
        Button::new("Dismiss", "dismiss", "keep").danger(),
        Button::new("Later", "later", ""),
    ]));
    let actions = c["actions"].as_array().cloned().unwrap_or_default();
    assert_eq!(actions.len(), 3, "the reply's last buttons are the card's actions");
    assert_eq!(
        actions[0],
        json!({
            "type": "Action.Execute", "title": "Yes, held", "verb": "meeting_held", "data": { "value": "41" },
            "style": "positive", "associatedInputs": "none",
            "fallback": { "type": "Action.Submit", "title": "Yes, held", "data": { "verb": "meeting_held", "value": "41" },
                          "style": "positive", "associatedInputs": "none" },
        })
    );
    assert_eq!(actions[1]["style"], "destructive");
    assert!(actions[2].get("style").is_none());
    assert_eq!(actions[2]["data"]["value"], "");
}

#[test]
fn buttons_before_other_blocks_stay_in_place_as_an_action_set() {
    let c = render(
        &Reply::text("Points")
            .buttons(vec![Button::new("Show all 80 talking points", "show_all_points", "41")])
            .context("small print"),
    );
    assert_eq!(c["body"][1]["type"], "ActionSet");
    assert_eq!(c["body"][1]["actions"][0]["verb"], "show_all_points");
    assert_eq!(c["body"][2]["text"], "small print");
    assert!(c.get("actions").is_none());
}

#[test]
fn a_button_with_a_confirmation_asks_first_in_a_show_card() {
    let c = render(&Reply::text("x").buttons(vec![
        Button::new("Skip", "meeting_skip", "41")
            .danger()
            .confirm("Skip this 1:1? Open talking points move to the next one."),
    ]));
    let show = &c["actions"][0];
    assert_eq!(show["type"], "Action.ShowCard");
    assert_eq!(show["title"], "Skip");
    assert_eq!(show["style"], "destructive");
    assert_eq!(
        show["card"]["body"][0]["text"],
        "Skip this 1:1? Open talking points move to the next one."
    );
    let yes = &show["card"]["actions"][0];
    assert_eq!(yes["title"], "Yes");
    assert_eq!(yes["verb"], "meeting_skip");
    assert_eq!(yes["data"]["value"], "41");
}

#[test]
fn more_than_six_buttons_show_five_and_the_rest_under_more() {
    let buttons: Vec<Button> = (0..25)
        .map(|i| Button::new(format!("Person {i}"), "pick_partner", format!("{i}:agenda")))
        .collect();
    let c = render(&Reply::text("Which 1:1?").buttons(buttons));
    let actions = c["actions"].as_array().cloned().unwrap_or_default();
    assert_eq!(actions.len(), 6);
    assert_eq!(actions[4]["title"], "Person 4");
    assert_eq!(actions[5]["title"], "More…");
    let rows: Vec<usize> = actions[5]["card"]["body"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["actions"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(rows, vec![6, 6, 6, 2]);
    assert_eq!(of_type(&c, "Action.Execute").len(), 25, "no button lost");
}

#[test]
fn buttons_that_cannot_come_back_intact_are_dropped() {
    let c = render(&Reply::text("x").buttons(vec![
        Button::new("ok", "ok", "1"),
        Button::new("bad verb", "Not A Verb!", "1"),
        Button::new("long value", "v", "x".repeat(2001)),
        Button::new("   ", "blank_label", "1"),
    ]));
    assert_eq!(c["actions"].as_array().map(Vec::len), Some(1));
}

// ---------------------------------------------------------------------------
// Inline forms and what comes back
// ---------------------------------------------------------------------------

fn agenda_buttons(meeting: &str) -> Vec<Button> {
    vec![
        Button::new("Add talking point", "open_add_point", meeting).primary(),
        Button::new("Add action item", "open_add_action", meeting),
        Button::new("Private note", "open_note", meeting),
        Button::new("Held ✓", "meeting_held", meeting),
        Button::new("Skip", "meeting_skip", meeting).confirm("Skip this 1:1?"),
        Button::new("Reschedule", "open_reschedule", meeting),
    ]
}

#[test]
fn add_point_is_an_inline_form_that_comes_back_as_tp_add() {
    let c = render(&Reply::text("x").buttons(agenda_buttons("41")));
    let form = show_card_titled(&c, "Add talking point");
    assert_eq!(form["style"], "positive");
    let body = &form["card"]["body"];
    let point = &body[1];
    assert_eq!(point["type"], "Input.Text");
    assert_eq!(point["id"], "point");
    assert_eq!(point["isRequired"], true);
    assert_eq!(point["maxLength"], MAX_TEXT_CHARS);
    assert!(point["errorMessage"].is_string() && point["label"].is_string());
    let category = &body[2];
    assert_eq!(category["id"], "category");
    assert_eq!(category["value"], "other");
    assert_eq!(category["choices"].as_array().map(Vec::len), Some(6));
    let add = &form["card"]["actions"][0];
    assert_eq!(add["verb"], verb::TP_ADD);
    assert!(
        add.get("associatedInputs").is_none(),
        "a form's submit sends its inputs"
    );
    let got = read_action(&invoke(add, &[("point", "Q3 goals"), ("category", "goals")]));
    let mut inputs = Map::new();
    inputs.insert("category".into(), json!("goals"));
    inputs.insert("point".into(), json!("Q3 goals"));
    assert_eq!(
        got,
        Some(CardAction {
            verb: "tp_add".into(),
            value: "41".into(),
            inputs
        })
    );
}

#[test]
fn add_action_offers_the_partner_by_name_or_me_and_an_optional_due_date() {
    let c = render(&Reply::text("x").buttons(agenda_buttons("41")));
    let form = show_card_titled(&c, "Add action item");
    let body = &form["card"]["body"];
    assert_eq!(body[0]["id"], "text");
    assert_eq!(body[1]["id"], "owner");
    assert_eq!(
        body[1]["choices"],
        json!([{ "title": "Sam Rivera", "value": "partner" }, { "title": "Me", "value": "me" }])
    );
    assert_eq!(body[2]["type"], "Input.Date");
    assert_eq!(body[2]["id"], "due");
    assert!(body[2].get("isRequired").is_none());
    assert_eq!(form["card"]["actions"][0]["verb"], verb::AI_ADD);
    // Without a partner name the choice still reads well.
    let anonymous = card(&Reply::text("x").buttons(agenda_buttons("41")), &CardContext::default());
    let form = show_card_titled(&anonymous, "Add action item");
    assert_eq!(form["card"]["body"][1]["choices"][0]["title"], "Your 1:1 partner");
}

#[test]
fn note_reschedule_rate_comment_and_extra_forms_have_their_verbs_and_inputs() {
    let c = render(&Reply::text("x").buttons(agenda_buttons("41")));
    let note = show_card_titled(&c, "Private note");
    assert_eq!(note["card"]["body"][1]["id"], "note");
    assert_eq!(note["card"]["body"][1]["isMultiline"], true);
    assert_eq!(note["card"]["actions"][0]["verb"], verb::NOTE_ADD);
    let resched = show_card_titled(&c, "Reschedule");
    assert_eq!(input_ids(resched), vec!["date", "time"]);
    assert_eq!(resched["card"]["body"][1]["type"], "Input.Date");
    assert_eq!(resched["card"]["body"][2]["type"], "Input.Time");
    assert_eq!(resched["card"]["actions"][0]["verb"], verb::RESCHEDULE);

    let c = render(&Reply::text("Thanks").buttons(vec![Button::new("Add a comment", "open_rate_comment", "41:4")]));
    let form = show_card_titled(&c, "Add a comment");
    assert_eq!(input_ids(form), vec!["comment"]);
    let save = &form["card"]["actions"][0];
    assert_eq!(save["verb"], verb::RATE);
    let got = read_action(&invoke(save, &[("comment", "Useful")])).expect("readable");
    assert_eq!((got.verb.as_str(), got.value.as_str()), ("rate", "41:4"));
    assert_eq!(got.inputs.get("comment"), Some(&json!("Useful")));

    let c = render(&Reply::text("x").buttons(vec![
        Button::new("Schedule a 1:1", "open_extra", "7"),
        Button::new("Schedule an extra meeting", "request_extra", "3"),
    ]));
    let extra = show_card_titled(&c, "Schedule a 1:1");
    assert_eq!(extra["card"]["actions"][0]["verb"], verb::EXTRA_ADD);
    assert_eq!(extra["card"]["actions"][0]["data"]["value"], "7");
    let request = show_card_titled(&c, "Schedule an extra meeting");
    assert_eq!(request["card"]["actions"][0]["verb"], verb::REQUEST_EXTRA_ADD);
    assert_eq!(input_ids(&c), vec!["date", "time", "date#2", "time#2"]);
}

#[test]
fn input_ids_are_unique_in_the_card_and_come_back_without_their_suffix() {
    let c = render(
        &Reply::text("x")
            .buttons(agenda_buttons("41"))
            .section("y")
            .buttons(agenda_buttons("42")),
    );
    let ids = input_ids(&c);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids.contains(&"point#2".to_string()), "{ids:?}");
    let second = of_type(&c, "Action.Execute")
        .into_iter()
        .find(|a| a["verb"] == "tp_add" && a["data"]["value"] == "42")
        .expect("second form");
    let got = read_action(&invoke(second, &[("point#2", "Hello"), ("category#2", "feedback")])).expect("readable");
    assert_eq!(got.value, "42");
    assert_eq!(got.inputs.get("point"), Some(&json!("Hello")));
    assert_eq!(got.inputs.get("category"), Some(&json!("feedback")));
}

#[test]
fn a_select_is_a_compact_choice_set_whose_button_sends_the_chosen_value() {
    let options = vec![
        ("1. Q3 goals".to_string(), "11".to_string()),
        ("2. **x**".to_string(), "12".to_string()),
    ];
    let c = render(&Reply::new().select("Mark a point discussed…", "tp_discussed", options));
    let set = &c["body"][0];
    assert_eq!(set["type"], "Input.ChoiceSet");
    assert_eq!(set["id"], "choice_tp_discussed");
    assert_eq!(set["style"], "compact");
    assert_eq!(set["placeholder"], "Mark a point discussed…");
    assert!(set.get("isRequired").is_none(), "other buttons gather it too");
    assert_eq!(set["choices"][1], json!({ "title": "2. **x**", "value": "12" }));
    let button = &c["body"][1]["actions"][0];
    assert_eq!(button["title"], "Mark discussed");
    assert_eq!(button["verb"], "tp_discussed");
    let got = read_action(&invoke(
        button,
        &[("choice_tp_discussed", "12"), ("choice_ai_complete", "5")],
    ))
    .expect("readable");
    assert_eq!((got.verb.as_str(), got.value.as_str()), ("tp_discussed", "12"));
    // Nothing chosen: an empty value, for the handler to ask again.
    let got = read_action(&invoke(button, &[])).expect("readable");
    assert_eq!(got.value, "");
}

#[test]
fn a_long_select_keeps_fifty_options_and_says_so() {
    let options: Vec<(String, String)> = (0..80)
        .map(|i| (format!("{i}. {}", "p".repeat(200)), i.to_string()))
        .collect();
    let c = render(&Reply::new().select("Mark a point discussed…", "tp_discussed", options));
    let set = &c["body"][0];
    assert_eq!(set["choices"].as_array().map(Vec::len), Some(50));
    assert_eq!(set["placeholder"], "Mark a point discussed… (first 50 of 80)");
    let title = set["choices"][0]["title"].as_str().unwrap_or_default();
    assert_eq!(title.chars().count(), MAX_OPTION_CHARS);
}

#[test]
fn the_submit_fallback_comes_back_as_the_same_action() {
    let c = render(&Reply::text("x").buttons(agenda_buttons("41")));
    for verb in ["meeting_held", "tp_add", "reschedule"] {
        let exec = execute_with_verb(&c, verb);
        let inputs: &[(&str, &str)] = &[("date", "2026-12-04"), ("time", "15:00"), ("point", "p")];
        assert_eq!(
            read_action(&submit(exec, inputs)),
            read_action(&invoke(exec, inputs)),
            "{verb}"
        );
    }
}

#[test]
fn read_action_refuses_what_we_could_not_have_sent() {
    for bad in [
        json!(null),
        json!("tp_add"),
        json!({}),
        json!({ "action": { "type": "Action.Submit", "verb": "tp_add", "data": {} } }),
        json!({ "action": { "type": "Action.Execute", "data": { "value": "1" } } }),
        json!({ "action": { "type": "Action.Execute", "verb": "", "data": {} } }),
        json!({ "action": { "type": "Action.Execute", "verb": "DROP TABLE", "data": {} } }),
        json!({ "action": { "type": "Action.Execute", "verb": "x".repeat(65) } }),
        json!({ "action": { "type": "Action.Execute", "verb": "tp_add", "data": "41" } }),
        json!({ "value": "41" }),
        json!({ "verb": 7, "value": "41" }),
    ] {
        assert_eq!(read_action(&bad), None, "{bad}");
    }
}

#[test]
fn read_action_keeps_only_string_inputs_and_tolerates_missing_data() {
    let got = read_action(&json!({ "action": { "type": "Action.Execute", "verb": "dismiss" } })).expect("readable");
    assert_eq!(
        (got.verb.as_str(), got.value.as_str(), got.inputs.len()),
        ("dismiss", "", 0)
    );
    let got = read_action(&json!({
        "verb": "ai_add", "value": 41, "text": "Plan", "due": null, "owner": ["me"], "msteams": { "type": "x" },
    }))
    .expect("readable");
    assert_eq!(got.value, "", "a non-string value is no value");
    assert_eq!(got.inputs.keys().collect::<Vec<_>>(), vec!["text"]);
}

// ---------------------------------------------------------------------------
// Activities and invoke responses
// ---------------------------------------------------------------------------

#[test]
fn plain_paragraphs_go_as_a_markdown_text_message() {
    let a = message_activity(
        &Reply::text(Text::new().plain("Added ").user("**x**").plain(" ✓")),
        &ctx(),
    );
    assert_eq!(
        a,
        json!({ "type": "message", "textFormat": "markdown", "text": "Added \\*\\*x\\*\\* ✓" })
    );
}

#[test]
fn anything_richer_goes_as_a_card_with_a_summary_and_no_text() {
    let reply = Reply::new()
        .header("1:1 with Sam")
        .section("points")
        .buttons(agenda_buttons("41"));
    let a = message_activity(&reply, &ctx());
    assert_eq!(a["type"], "message");
    assert!(a.get("text").is_none(), "Teams would show the text above the card");
    assert_eq!(a["summary"], "1:1 with Sam");
    assert_eq!(a["attachments"][0]["contentType"], CARD_CONTENT_TYPE);
    assert_eq!(a["attachments"][0]["content"], card(&reply, &ctx()));
    let empty = message_activity(&Reply::new(), &ctx());
    assert_eq!(empty["summary"], "…");
}

#[test]
fn invoke_responses_carry_a_card_or_a_message() {
    let reply = Reply::text("Done").buttons(vec![Button::new("Undo", "undo", "1")]);
    assert_eq!(
        invoke_response(&reply, &ctx()),
        json!({ "statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": card(&reply, &ctx()) })
    );
    assert_eq!(
        invoke_message("Saved."),
        json!({ "statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": "Saved." })
    );
}

// ---------------------------------------------------------------------------
// The size budget
// ---------------------------------------------------------------------------

/// An agenda with `n` talking points, shaped like `commands::meetings`'.
fn agenda_reply(n: usize) -> Reply {
    let mut points = Text::new().bold(format!("Talking points ({n})"));
    for i in 1..=n {
        points = points
            .newline()
            .plain(format!("{i}. "))
            .user(format!("Talking point number {i} about <at>Boss</at> and **the** [plan](https://evil.example), with a fairly long explanation of what to discuss"))
            .plain("  — Sam, #goals");
    }
    let options: Vec<(String, String)> = (1..=n)
        .map(|i| {
            (
                format!("{i}. Talking point number {i} about the plan"),
                (100 + i).to_string(),
            )
        })
        .collect();
    Reply::new()
        .header("1:1 with Sam Rivera")
        .context("Thu 4 Dec, 10:00 (Europe/Berlin) · 30 min")
        .section(points)
        .section(
            Text::new()
                .bold("Open action items (1)")
                .newline()
                .plain("#12 ")
                .user("Draft the hiring plan")
                .plain(" — ")
                .bold_user("Sam Rivera"),
        )
        .select("Mark a point discussed…", "tp_discussed", options)
        .select(
            "Complete an action item…",
            "ai_complete",
            vec![("#12 Draft the hiring plan".into(), "12".into())],
        )
        .buttons(agenda_buttons("41"))
}

#[test]
fn a_two_hundred_point_agenda_is_cut_to_fit_with_a_note_and_keeps_its_controls() {
    let c = render(&agenda_reply(200));
    assert!(size(&c) <= MAX_CARD_BYTES, "{} bytes", size(&c));
    let all = texts(&c).join("\n");
    assert!(all.contains("1\\. Talking point number 1 "), "the first points stay");
    assert!(!all.contains("number 200 "), "the last point cannot fit");
    assert!(all.contains("more lines not shown"), "the cut is announced");
    for verb in [
        "tp_discussed",
        "ai_complete",
        "tp_add",
        "ai_add",
        "note_add",
        "meeting_held",
        "meeting_skip",
        "reschedule",
    ] {
        execute_with_verb(&c, verb);
    }
    // As much as fits: one more line would not.
    let pieces = pieces(&agenda_reply(200), &ctx());
    let kept = all.matches("Talking point number").count();
    assert!(
        size(&assemble(&pieces, kept + 3, 0)) > MAX_CARD_BYTES,
        "{kept} points kept; more would fit"
    );
}

#[test]
fn a_small_agenda_is_not_cut() {
    let c = render(&agenda_reply(5));
    assert!(!texts(&c).join("\n").contains("not shown"));
}

#[test]
fn buttons_with_huge_values_are_dropped_last_and_announced() {
    let buttons: Vec<Button> = (0..25)
        .map(|i| {
            Button::new(
                format!("Person {i}"),
                "pick_partner",
                format!("{i}:{}", "x".repeat(1_900)),
            )
        })
        .collect();
    let c = render(&Reply::text("Which 1:1?").buttons(buttons));
    assert!(size(&c) <= MAX_CARD_BYTES);
    let kept = of_type(&c, "Action.Execute").len();
    assert!((1..25).contains(&kept), "{kept}");
    assert!(texts(&c).join(" ").contains("more buttons not shown"));
    assert_eq!(c["actions"][0]["title"], "Person 0", "the first ones stay");
}

// ---------------------------------------------------------------------------
// House rules
// ---------------------------------------------------------------------------

fn minimal() -> Value {
    json!({ "type": "AdaptiveCard", "version": "1.5", "body": [{ "type": "TextBlock", "text": "x" }] })
}

fn add(c: &mut Value, el: Value) {
    if let Some(body) = c["body"].as_array_mut() {
        body.push(el);
    }
}

fn one_violation(c: Value, needle: &str) {
    let v = validate_card(&c);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert!(v[0].contains(needle), "{:?} does not mention {needle:?}", v[0]);
}

#[test]
fn validate_card_accepts_what_we_render() {
    assert!(validate_card(&minimal()).is_empty());
    assert!(validate_card(&card(&agenda_reply(200), &ctx())).is_empty());
}

#[test]
fn validate_card_catches_the_wrong_type_version_or_size() {
    let mut c = minimal();
    c["version"] = json!("1.6");
    one_violation(c, "version");
    let mut c = minimal();
    c["type"] = json!("Card");
    one_violation(c, "not AdaptiveCard");
    let mut c = minimal();
    c["body"][0]["text"] = json!("x".repeat(MAX_CARD_BYTES));
    one_violation(c, "bytes");
}

#[test]
fn validate_card_catches_duplicate_ids_also_in_nested_cards() {
    let mut c = minimal();
    add(&mut c, json!({ "type": "Input.Text", "id": "point" }));
    c["actions"] = json!([{ "type": "Action.ShowCard", "title": "s", "card": { "type": "AdaptiveCard", "body": [{ "type": "Input.Text", "id": "point" }] } }]);
    one_violation(c, "duplicate \"point\"");
}

#[test]
fn validate_card_catches_required_inputs_without_label_or_error_message() {
    let mut c = minimal();
    add(
        &mut c,
        json!({ "type": "Input.Text", "id": "a", "isRequired": true, "label": "A" }),
    );
    one_violation(c, "errorMessage");
    let mut c = minimal();
    add(
        &mut c,
        json!({ "type": "Input.Text", "id": "a", "isRequired": true, "errorMessage": "A" }),
    );
    one_violation(c, "label");
}

#[test]
fn validate_card_catches_an_execute_without_verb_or_a_fallback_that_differs() {
    let exec = execute("Go", "go", "1", None, false);
    let mut c = minimal();
    c["actions"] = json!([exec.clone()]);
    assert!(validate_card(&c).is_empty());
    let mut no_verb = exec.clone();
    no_verb["verb"] = json!("");
    no_verb["fallback"]["data"]["verb"] = json!("");
    c["actions"] = json!([no_verb]);
    one_violation(c.clone(), "verb: missing");
    let mut other_value = exec.clone();
    other_value["fallback"]["data"]["value"] = json!("2");
    c["actions"] = json!([other_value]);
    one_violation(c.clone(), "fallback.data.value");
    let mut no_fallback = exec;
    no_fallback.as_object_mut().map(|o| o.remove("fallback"));
    c["actions"] = json!([no_fallback]);
    one_violation(c, "fallback");
}

#[test]
fn validate_card_catches_too_many_actions_unknown_types_and_empty_choices() {
    let mut c = minimal();
    c["actions"] = Value::Array(
        (0..7)
            .map(|i| execute("b", &format!("b{i}"), "", None, false))
            .collect(),
    );
    one_violation(c, "7 actions");
    let mut c = minimal();
    add(&mut c, json!({ "type": "Fancy" }));
    one_violation(c, "unknown element type");
    let mut c = minimal();
    add(&mut c, json!({ "type": "Input.ChoiceSet", "id": "c", "choices": [] }));
    one_violation(c, "choices");
    let mut c = minimal();
    add(&mut c, json!({ "type": "ActionSet", "actions": [] }));
    one_violation(c, "empty");
}

// ---------------------------------------------------------------------------
// Snapshot
// ---------------------------------------------------------------------------

#[test]
fn an_agenda_renders_as_this_adaptive_card() {
    let reply = Reply::new()
        .header("1:1 with Sam Rivera")
        .context("Thursday 4 December, 10:00–10:30 (Europe/Berlin) · every 2 weeks")
        .section(
            Text::new()
                .bold("Talking points (2)")
                .newline()
                .plain("1. ")
                .user("Q3 goals & the <launch> plan")
                .plain("  — you, #goals")
                .newline()
                .plain("2. ✓ ")
                .user("Feedback on *the* design review")
                .plain("  — Sam, #feedback"),
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
        .select(
            "Mark a point discussed…",
            "tp_discussed",
            vec![("1. Q3 goals & the <launch> plan".into(), "101".into())],
        )
        .select(
            "Complete an action item…",
            "ai_complete",
            vec![("#12 Draft the hiring plan".into(), "12".into())],
        )
        .buttons(agenda_buttons("41"));
    insta::assert_json_snapshot!("agenda_card", render(&reply));
}

// ---------------------------------------------------------------------------
// Every card the bot emits, through Microsoft's renderer library
// ---------------------------------------------------------------------------

/// Everyone is called after their id, with hostile names for some.
struct Names;

impl Directory for Names {
    fn profile<'a>(&'a self, _workspace: &'a Workspace, external_id: &'a str) -> DirectoryFuture<'a> {
        let display_name = match external_id {
            "mgr" => "Morgan Manager".to_string(),
            "rep" => "Riley <at>Boss</at> **Report**".to_string(),
            "rep2" => "Sam [click](https://evil.example)".to_string(),
            other => format!("# {other}"),
        };
        Box::pin(async move {
            Ok(Some(Profile {
                external_id: external_id.to_string(),
                display_name,
                email: None,
                tz: Some(chrono_tz::Europe::Berlin),
                is_bot: false,
                deleted: false,
            }))
        })
    }
}

struct Session {
    db: Db,
    ws: Workspace,
    now: DateTime<Utc>,
    cards: Vec<(String, Reply)>,
}

impl Session {
    async fn actor(&self, who: &str, line: &str) -> Actor {
        let ctx = self.ctx(line);
        let person = resolve_actor(&ctx, &self.ws, who, who).await.expect("caller");
        Actor::new(self.ws.clone(), person)
    }

    fn ctx<'a>(&'a self, line: &'a str) -> Ctx<'a> {
        Ctx {
            db: &self.db,
            now: self.now,
            directory: &Names,
            platform: Platform::Teams,
            invocation: "",
            line,
        }
    }

    /// Runs `line` as `who` and keeps the reply and every DM it caused.
    async fn run(&mut self, who: &str, line: &str) -> Outcome {
        let actor = self.actor(who, line).await;
        let outcome = match grammar::parse(line) {
            Ok(cmd) => commands::apply(&self.ctx(line), &actor, cmd).await.expect("command"),
            Err(e) => parse_error_reply("", &e).into(),
        };
        self.keep(&format!("{who}> {line}"), &outcome);
        outcome
    }

    fn keep(&mut self, name: &str, outcome: &Outcome) {
        self.cards.push((name.to_string(), outcome.reply.clone()));
        for (i, n) in outcome.notices.iter().enumerate() {
            self.cards
                .push((format!("{name} (DM {i} to {})", n.to_external), n.reply.clone()));
        }
    }
}

/// Replies built where the command layer is not reachable from here (the
/// scheduler's prompts, the reaction prompts, the Home tab's button), shaped
/// exactly as in `scheduler::worker`, `slack::events` and `slack::sync`.
fn replies_built_elsewhere() -> Vec<(String, Reply)> {
    let partner = Text::new().bold_user("Riley <at>Boss</at>");
    vec![
        (
            "worker: follow-up".into(),
            Reply::text(
                Text::new()
                    .plain("Did your 1:1 with ")
                    .bold_user("Riley")
                    .plain(" on Thu 4 Dec, 10:00 happen?"),
            )
            .buttons(vec![
                Button::new("Yes, held", "meeting_held", "41").primary(),
                Button::new("No, skipped", "meeting_skip", "41"),
                Button::new("Reschedule…", "open_reschedule", "41"),
            ]),
        ),
        (
            "worker: overdue".into(),
            Reply::text(
                Text::new()
                    .plain("It's been 20 days without a 1:1 with ")
                    .bold_user("# Riley")
                    .plain("."),
            )
            .buttons(vec![Button::new("Schedule a 1:1", "open_extra", "7").primary()]),
        ),
        (
            "worker: action digest".into(),
            Reply::text(
                Text::new()
                    .bold("2 overdue action items")
                    .newline()
                    .plain("#3 ")
                    .user("**x** [y](z)")
                    .plain(" — due Mon 1 Dec"),
            )
            .select(
                "Mark one done…",
                "ai_complete",
                vec![("#3 **x** [y](z)".into(), "3".into()), ("#4 other".into(), "4".into())],
            ),
        ),
        (
            "worker: stuck topic".into(),
            Reply::text(
                Text::new()
                    .plain("Your talking point “")
                    .user("1. stuck")
                    .plain("” has moved to the next 1:1 3 times."),
            )
            .buttons(vec![
                Button::new("Resolved", "tp_discussed", "5").primary(),
                Button::new("Make it an action item", "open_add_action", "41"),
                Button::new("Drop it", "tp_drop", "5")
                    .danger()
                    .confirm("Remove this talking point from the agenda?"),
            ]),
        ),
        (
            "reaction: skip".into(),
            Reply::text(partner.clone().plain(" — skip?")).buttons(vec![
                Button::new("Skip it", "confirm_skip", "41").danger(),
                Button::new("Keep it", "dismiss", "keep"),
            ]),
        ),
        (
            "reaction: reschedule".into(),
            Reply::text(partner.plain(" — move?")).buttons(vec![
                Button::new("Reschedule…", "open_reschedule", "41").primary(),
                Button::new("Keep it", "dismiss", "keep"),
            ]),
        ),
        (
            "home: set up".into(),
            Reply::text("No 1:1s yet.").buttons(vec![Button::new("Set up a 1:1", "open_setup", "home").primary()]),
        ),
        ("built: 200-point agenda".into(), agenda_reply(200)),
        (
            "built: hostile everything".into(),
            Reply::new()
                .header(HOSTILE.join(" "))
                .section(Text::new().user(HOSTILE.join("\n")))
                .context(Text::new().bold_user(HOSTILE.join(" ")))
                .divider()
                .select(
                    "**pick**",
                    "tp_discussed",
                    HOSTILE.iter().map(|h| (h.to_string(), "1".to_string())).collect(),
                )
                .buttons(HOSTILE.iter().map(|h| Button::new(*h, "dismiss", *h)).collect()),
        ),
    ]
}

/// Every kind of reply the bot sends, most of them from the real command
/// layer on a fresh SQLite database.
async fn every_reply() -> Vec<(String, Reply)> {
    let db = crate::store::testing::fresh_sqlite().await;
    let ws = db
        .ensure_workspace(Platform::Teams, "tenant", "Tenant")
        .await
        .expect("workspace");
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("a time");
    let mut s = Session {
        db,
        ws,
        now,
        cards: Vec::new(),
    };
    for (who, line) in [
        ("mgr", "help"),
        ("mgr", "help add"),
        ("mgr", "frobnicate the **thing**"),
        ("mgr", "agenda"),
        (
            "mgr",
            "setup <@rep> weekly on thursday at 10am for 30m tz Europe/Berlin",
        ),
        ("mgr", "setup <@rep2> weekly on friday at 11am"),
        ("mgr", "setup <@rep3> weekly on wednesday at 9am"),
        ("rep", "add #goals **x** [click](https://evil.example) <at>Boss</at>"),
        ("rep", "add # big"),
        ("rep", "add 1. list"),
        ("mgr", "add <@rep> #feedback - dash\nsecond line"),
        ("mgr", "comment <@rep> 1 a `comment`"),
        ("mgr", "action <@rep> Draft the **plan** due friday owner me"),
        ("mgr", "note <@rep> private <at>thought</at>"),
        ("mgr", "agenda"),
        ("rep", "agenda"),
        ("rep2", "request <@mgr> Could we talk about my career path?"),
        ("rep4", "request <@mgr> Could we start having 1:1s?"),
        ("mgr", "actions"),
        ("mgr", "stats"),
        ("mgr", "templates"),
        ("mgr", "questions feedback"),
        ("mgr", "settings"),
        ("mgr", "skip <@rep2> Travelling"),
        ("mgr", "pause <@rep2>"),
        ("mgr", "resume <@rep2>"),
        ("mgr", "history <@rep>"),
    ] {
        s.run(who, line).await;
    }
    let agenda = s.run("mgr", "agenda <@rep>").await;
    let meeting: MeetingId = agenda.agenda.expect("an agenda names its meeting");
    let before = s.cards.len();
    for i in 1..=200 {
        s.run(
            "mgr",
            &format!(
                "add <@rep3> #development Point {i}: a topic with some detail about <at>team</at> **growth** and plans"
            ),
        )
        .await;
    }
    s.cards.truncate(before + 1); // one "added" answer is enough
    s.run("mgr", "agenda <@rep3>").await;
    // After the meeting: held, the rating prompt, a rating and its comment button.
    s.now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 40, 0).single().expect("a time");
    s.run("mgr", "held <@rep>").await;
    let m = s.db.meeting(meeting).await.expect("store").expect("meeting");
    s.cards.push(("rating prompt".into(), rating_prompt(&m)));
    let actor = s.actor("rep", "").await;
    let rated = apply_to(&s.ctx(""), &actor, ObjectAction::Rate(meeting, 4, None))
        .await
        .expect("rate");
    s.keep("rep rates 4", &rated);
    s.run("mgr", "history <@rep>").await;
    s.db.close().await;
    let mut all = s.cards;
    all.extend(replies_built_elsewhere());
    all
}

/// Runs `tests/cards/validate.js` over `cards` ([{name, card}]); `None` when
/// Node or the library is missing and this is not CI (after saying so).
fn run_validator(cards: &Value) -> Option<(bool, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cards");
    let library = dir.join("node_modules/adaptivecards/dist/adaptivecards.js");
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node || !library.exists() {
        let why = if node {
            "tests/cards/node_modules has no adaptivecards"
        } else {
            "node is not installed"
        };
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must validate the cards, but {why}: run `npm ci` in tests/cards"
        );
        // The real stderr: libtest captures eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: adaptivecards validation (run npm ci in tests/cards): {why} ***\n"
        );
        return None;
    }
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    serde_json::to_writer(&mut file, cards).expect("write the cards");
    file.flush().expect("flush the cards");
    let out = Command::new("node")
        .arg(dir.join("validate.js"))
        .arg(file.path())
        .output()
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

#[tokio::test]
async fn every_card_the_bot_emits_is_valid_for_the_adaptivecards_library_and_our_rules() {
    let replies = every_reply().await;
    let mut cards = Vec::new();
    let mut verbs = HashSet::new();
    for (name, reply) in &replies {
        let partner = CardContext {
            partner_name: Some("Riley <at>Boss</at>".into()),
        };
        let c = card(reply, &partner);
        let v = validate_card(&c);
        assert!(v.is_empty(), "{name}: {v:#?}");
        assert!(size(&c) <= MAX_CARD_BYTES, "{name}: {} bytes", size(&c));
        for a in of_type(&c, "Action.Execute") {
            verbs.insert(a["verb"].as_str().unwrap_or_default().to_string());
        }
        cards.push(json!({ "name": name, "card": c }));
        // The other shapes the card travels in.
        let activity = message_activity(reply, &partner);
        if let Some(content) = activity.pointer("/attachments/0/content") {
            assert_eq!(content, &c, "{name}");
        }
        assert_eq!(invoke_response(reply, &partner)["value"], c, "{name}");
    }
    // The corpus covers every action a card can send.
    for verb in [
        "tp_discussed",
        "ai_complete",
        "show_all_points",
        "tp_drop",
        "meeting_held",
        "meeting_skip",
        "confirm_skip",
        "rate",
        "tp_add",
        "ai_add",
        "note_add",
        "reschedule",
        "open_setup",
        "extra_add",
        "pick_partner",
        "request_setup",
        "request_extra_add",
        "dismiss",
    ] {
        assert!(
            verbs.contains(verb),
            "no card in the corpus sends {verb:?}; verbs: {verbs:?}"
        );
    }
    // The set-up form, built outside the renderer.
    let form = crate::teams::forms::setup_card(
        &[
            ("Riley <at>Boss</at>".into(), "29:riley".into()),
            ("Sam".into(), "29:sam".into()),
        ],
        Some("29:sam"),
        "Europe/Berlin",
    );
    assert!(validate_card(&form).is_empty());
    cards.push(json!({ "name": "setup form", "card": form }));
    let count = cards.len();
    let cards = Value::Array(cards);
    // To look at them (e.g. in the Adaptive Cards designer): the same list
    // of {name, card} that validate.js reads.
    if let Some(path) = std::env::var_os("ONEONONE_CARDS_OUT") {
        std::fs::write(path, serde_json::to_vec_pretty(&cards).expect("serialise")).expect("write the cards");
    }
    let Some((ok, output)) = run_validator(&cards) else {
        return;
    };
    assert!(ok, "the adaptivecards library rejected cards:\n{output}");
    assert!(output.contains(&format!("{count} of {count} cards valid")), "{output}");
}

#[test]
fn the_validator_rejects_broken_cards_so_it_cannot_pass_silently() {
    let good = card(&agenda_reply(3), &ctx());
    let mut duplicate = good.clone();
    add(
        &mut duplicate,
        json!({ "type": "Input.Text", "id": "choice_tp_discussed" }),
    );
    let mut unknown = good.clone();
    unknown["body"][0]["type"] = json!("FancyBlock");
    let mut misspelt = good.clone();
    misspelt["body"][0]["wrapp"] = json!(true);
    let mut bad_fallback = good.clone();
    bad_fallback["actions"][3]["fallback"]["type"] = json!("Action.Nope");
    let mut seven = good.clone();
    seven["actions"] = Value::Array(
        (0..7)
            .map(|i| execute("b", &format!("b{i}"), "", None, false))
            .collect(),
    );
    let mut unlabelled = good.clone();
    add(
        &mut unlabelled,
        json!({ "type": "Input.Text", "id": "lonely", "isRequired": true }),
    );
    let mut no_choices_title = good.clone();
    add(
        &mut no_choices_title,
        json!({ "type": "Input.ChoiceSet", "id": "c", "choices": [{ "value": "1" }] }),
    );
    let broken = [
        ("duplicate id", duplicate),
        ("unknown element type", unknown),
        ("misspelt property", misspelt),
        ("bad fallback", bad_fallback),
        ("seven actions", seven),
        ("required without label", unlabelled),
        ("choice without title", no_choices_title),
    ];
    let mut entries: Vec<Value> = broken.iter().map(|(n, c)| json!({ "name": n, "card": c })).collect();
    entries.push(json!({ "name": "the good one", "card": good }));
    let Some((ok, output)) = run_validator(&Value::Array(entries)) else {
        return;
    };
    assert!(!ok, "the validator passed broken cards:\n{output}");
    for (name, _) in &broken {
        assert!(
            output.contains(&format!("{name}: ")),
            "{name:?} was not reported:\n{output}"
        );
    }
    assert!(
        !output.contains("the good one: "),
        "a good card was reported:\n{output}"
    );
    assert!(output.contains("1 of 8 cards valid"), "{output}");
}
