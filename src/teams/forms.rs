//! The set-up form of Teams (Slack's set-up modal): a card with a people
//! picker over the people the bot knows in the tenant, the cadence, the day
//! and the time. Submitting it runs the `setup` command line it builds, so
//! every rule of the command (and its permission checks) applies unchanged.

use super::cards::{CARD_CONTENT_TYPE, CARD_VERSION, CardAction};
use serde_json::{Value, json};

/// The verb of the form's submit button.
pub const SETUP_SUBMIT: &str = "setup_submit";

const CADENCES: [(&str, &str); 3] = [
    ("Every week", "weekly"),
    ("Every two weeks", "biweekly"),
    ("Once a month (first …)", "monthly"),
];
const DAYS: [&str; 5] = ["monday", "tuesday", "wednesday", "thursday", "friday"];

/// The set-up card. `people` are `(name, platform id)`; `preselect` is the
/// person to start with (the one who asked for a 1:1); `zone` is named so the
/// time is not misread.
pub fn setup_card(people: &[(String, String)], preselect: Option<&str>, zone: &str) -> Value {
    let choices: Vec<Value> = people
        .iter()
        .map(|(name, id)| json!({ "title": super::cards::escape(name), "value": id }))
        .collect();
    let mut picker = json!({
        "type": "Input.ChoiceSet",
        "id": "partner",
        "label": "With",
        "style": "filtered",
        "placeholder": "Search people",
        "isRequired": true,
        "errorMessage": "Choose who the 1:1 is with.",
        "choices": choices,
    });
    if let Some(p) = preselect.filter(|p| people.iter().any(|(_, id)| id == p)) {
        picker["value"] = json!(p);
    }
    let data = json!({ "value": "" });
    let mut submit_data = data.clone();
    submit_data["verb"] = json!(SETUP_SUBMIT);
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": [
            { "type": "TextBlock", "text": "Set up a 1:1", "size": "Large", "weight": "Bolder", "wrap": true },
            picker,
            {
                "type": "Input.ChoiceSet", "id": "cadence", "label": "How often", "style": "compact",
                "isRequired": true, "errorMessage": "Choose how often.", "value": "weekly",
                "choices": CADENCES.iter().map(|(t, v)| json!({ "title": t, "value": v })).collect::<Vec<_>>(),
            },
            {
                "type": "Input.ChoiceSet", "id": "day", "label": "On", "style": "compact",
                "isRequired": true, "errorMessage": "Choose a day.", "value": "monday",
                "choices": DAYS.iter().map(|d| json!({ "title": capitalised(d), "value": d })).collect::<Vec<_>>(),
            },
            {
                "type": "Input.Time", "id": "time", "label": format!("At (your time, {})", super::cards::escape(zone)),
                "isRequired": true, "errorMessage": "Choose a time.", "value": "10:00",
            },
            {
                "type": "TextBlock", "isSubtle": true, "size": "Small", "wrap": true,
                "text": "Someone missing? They appear once they have installed the app. You can also type: setup @name weekly on monday at 10:00",
            },
        ],
        "actions": [{
            "type": "Action.Execute",
            "title": "Set up",
            "verb": SETUP_SUBMIT,
            "data": data,
            "fallback": { "type": "Action.Submit", "title": "Set up", "data": submit_data },
        }],
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The `setup` line a submitted form stands for, or `None` if any field is
/// not one the form offers (a forged submission).
pub fn setup_line(a: &CardAction) -> Option<String> {
    let get = |k: &str| a.inputs.get(k).and_then(Value::as_str).map(str::trim);
    let partner = get("partner").filter(|p| {
        !p.is_empty() && p.len() <= 200 && !p.chars().any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '|'))
    })?;
    let cadence = get("cadence").filter(|c| CADENCES.iter().any(|(_, v)| v == c))?;
    let day = get("day").filter(|d| DAYS.contains(d))?;
    let time = get("time").and_then(|t| {
        chrono::NaiveTime::parse_from_str(t, "%H:%M")
            .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .ok()
    })?;
    let when = match cadence {
        "monthly" => format!("monthly on the first {day}"),
        other => format!("{other} on {day}"),
    };
    Some(format!("setup <@{partner}> {when} at {}", time.format("%H:%M")))
}

/// The Connector activity carrying a card built outside [`super::cards`].
pub fn card_activity(card: &Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{ "contentType": CARD_CONTENT_TYPE, "content": card }],
    })
}

/// The invoke response replacing the clicked card with `card`.
pub fn card_response(card: &Value) -> Value {
    json!({ "statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(inputs: Value) -> CardAction {
        CardAction {
            verb: SETUP_SUBMIT.into(),
            value: String::new(),
            inputs: inputs.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn the_form_builds_a_setup_line_and_refuses_anything_it_did_not_offer() {
        let ok = submitted(json!({"partner": "29:rahul", "cadence": "biweekly", "day": "tuesday", "time": "15:30"}));
        assert_eq!(
            setup_line(&ok).as_deref(),
            Some("setup <@29:rahul> biweekly on tuesday at 15:30")
        );
        let monthly = submitted(json!({"partner": "29:r", "cadence": "monthly", "day": "friday", "time": "09:00"}));
        assert_eq!(
            setup_line(&monthly).as_deref(),
            Some("setup <@29:r> monthly on the first friday at 09:00")
        );
        for forged in [
            json!({"partner": "29:r> template x", "cadence": "weekly", "day": "monday", "time": "10:00"}),
            json!({"partner": "29:r", "cadence": "hourly", "day": "monday", "time": "10:00"}),
            json!({"partner": "29:r", "cadence": "weekly", "day": "sunday", "time": "10:00"}),
            json!({"partner": "29:r", "cadence": "weekly", "day": "monday", "time": "10am; drop"}),
            json!({"cadence": "weekly", "day": "monday", "time": "10:00"}),
        ] {
            assert_eq!(setup_line(&submitted(forged.clone())), None, "{forged}");
        }
    }

    #[test]
    fn the_form_follows_our_card_rules() {
        let people = vec![
            ("Rahul <b>".to_string(), "29:r".to_string()),
            ("Sam".into(), "29:s".into()),
        ];
        let card = setup_card(&people, Some("29:s"), "Europe/Berlin");
        assert!(super::super::cards::validate_card(&card).is_empty(), "{card}");
        assert_eq!(card["body"][1]["value"], "29:s");
        // A preselection that is not in the list is not offered.
        assert!(
            setup_card(&people, Some("29:x"), "UTC")["body"][1]
                .get("value")
                .is_none()
        );
    }
}
