//! How instants and dates read to a person: always in the viewer's zone.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// "Mon 30 Nov 2026, 10:00 CET"
pub fn format_instant(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%a %-d %b %Y, %H:%M %Z").to_string()
}

/// "Fri 4 Dec 2026"
pub fn format_date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

/// "30 min", "1 h", "1 h 30 min"
pub fn format_minutes(m: u32) -> String {
    match (m / 60, m % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_are_shown_in_the_viewers_zone_with_its_abbreviation() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        assert_eq!(
            format_instant(at, chrono_tz::Europe::Berlin),
            "Mon 30 Nov 2026, 10:00 CET"
        );
        assert_eq!(format_instant(at, chrono_tz::Asia::Tokyo), "Mon 30 Nov 2026, 18:00 JST");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_minutes(30), "30 min");
        assert_eq!(format_minutes(60), "1 h");
        assert_eq!(format_minutes(90), "1 h 30 min");
    }
}
