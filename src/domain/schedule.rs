//! Schedule math for 1:1 series: when the next meetings of a cadence fall,
//! how a cadence reads in a sentence, and how far apart its meetings nominally are.
//!
//! Pure: it imports nothing from axum, sqlx or reqwest and never reads the clock;
//! callers pass `after` (usually "now"). Everything is computed on *local* dates
//! and wall-clock times in the series' zone and only then turned into UTC by
//! [`localize`], so a 10:00 Europe/Berlin 1:1 stays at 10:00 for the people in
//! Berlin all year and its UTC instant moves by an hour at the DST changes.
//!
//! One DST policy everywhere (weekly, monthly and cron): a wall-clock time that
//! does not exist moves forward by the length of the gap, and a wall-clock time
//! that happens twice is the earlier instant. A meeting therefore never silently
//! disappears for a week and never fires twice.
//!
//! Finding the next occurrence jumps straight to the right week or month; the
//! scheduler runs this for every series on every pass.

use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

use super::model::{Cadence, MonthWeek};

/// Latest year we compute occurrences for. Far beyond any real 1:1 and far
/// enough from chrono's limits that no date arithmetic here can overflow.
const MAX_YEAR: i32 = 9999;

/// Earliest year we accept, for the same reason.
const MIN_YEAR: i32 = 1;

/// Days a monthly cadence counts as between meetings; also the fallback for a
/// cron expression that has fewer than two occurrences left, so such a series
/// is treated like a monthly one rather than nagging daily.
const MONTHLY_GAP_DAYS: u32 = 30;

/// Wall-clock date+time in `tz` -> UTC instant. A local time that does not exist
/// (spring-forward gap) moves FORWARD by the length of the gap (02:30 on Europe/Berlin's
/// March change day -> 03:30 CEST), never disappears; an ambiguous time (fall-back)
/// takes the EARLIER instant.
pub fn localize(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    localize_naive(tz, date.and_time(time))
}

fn localize_naive(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _later) => earlier.with_timezone(&Utc),
        LocalResult::None => across_gap(tz, wall),
    }
}

/// `wall` falls in a spring-forward gap. Reading it with the offset that was in
/// force just *before* the gap gives an instant just after the transition whose
/// local reading is `wall` plus the gap length (02:30 CET -> 01:30 UTC = 03:30 CEST).
fn across_gap(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    // A day earlier (read as UTC) is before the transition for any real offset
    // (all offsets are within ±14 h) and, in practice, after the previous one.
    let probe = wall.checked_sub_signed(TimeDelta::days(1)).unwrap_or(wall);
    let before = tz.offset_from_utc_datetime(&probe).fix();
    let shifted = wall
        .checked_sub_signed(TimeDelta::seconds(i64::from(before.local_minus_utc())))
        .map(|utc| Utc.from_utc_datetime(&utc));
    if let Some(candidate) = shifted {
        let local = candidate.with_timezone(&tz).naive_local();
        if local > wall {
            return candidate;
        }
    }
    // Zones with odd histories: fall back to the first existing minute after the gap.
    let mut probe = wall;
    for _ in 0..(2 * 24 * 60) {
        let Some(next) = probe.checked_add_signed(TimeDelta::minutes(1)) else {
            break;
        };
        probe = next;
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => {}
        }
    }
    Utc.from_utc_datetime(&wall)
}

/// The next `n` occurrences of `cadence` strictly after `after`, each at local `time`
/// in `tz` (for Weekly/Monthly), on or after local date `anchor`. For `Cadence::Cron`
/// the expression carries its own times: `time` is ignored and the expression is
/// evaluated in `tz` (its wall-clock times are read in `tz` with the same DST
/// policy as [`localize`]). Results strictly increasing, all > after.
/// An invalid cron expression yields an empty Vec (the grammar validates earlier).
pub fn next_occurrences(
    cadence: &Cadence,
    time: NaiveTime,
    tz: Tz,
    anchor: NaiveDate,
    after: DateTime<Utc>,
    n: usize,
) -> Vec<DateTime<Utc>> {
    if n == 0 || !in_range(anchor) || !in_range(after.date_naive()) {
        return Vec::new();
    }
    match cadence {
        Cadence::Weekly { interval, weekday } => weekly(*interval, *weekday, time, tz, anchor, after, n),
        Cadence::Monthly { week, weekday } => monthly(*week, *weekday, time, tz, anchor, after, n),
        Cadence::Cron(expr) => cron_occurrences(expr, tz, Some(anchor), after, n),
    }
}

/// The first of [`next_occurrences`].
pub fn next_occurrence(
    cadence: &Cadence,
    time: NaiveTime,
    tz: Tz,
    anchor: NaiveDate,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    next_occurrences(cadence, time, tz, anchor, after, 1).into_iter().next()
}

/// Human wording: "every Monday", "every 2 weeks on Monday", "every 3 weeks on Friday",
/// "monthly on the last Friday", "monthly on the first Tuesday", "cron \"0 0 10 * * Mon\"".
pub fn describe(cadence: &Cadence) -> String {
    match cadence {
        Cadence::Weekly { interval, weekday } if *interval <= 1 => {
            format!("every {}", weekday_name(*weekday))
        }
        Cadence::Weekly { interval, weekday } => {
            format!("every {interval} weeks on {}", weekday_name(*weekday))
        }
        Cadence::Monthly { week, weekday } => {
            format!("monthly on the {} {}", week.as_str(), weekday_name(*weekday))
        }
        Cadence::Cron(expr) => format!("cron \"{expr}\""),
    }
}

/// Nominal days between meetings: 7*interval for weekly, 30 for monthly, for cron the gap
/// between its next two occurrences after `after` rounded up to whole days (min 1).
/// A cron expression with fewer than two occurrences left (or an invalid one) counts as
/// 30 days, like monthly.
pub fn nominal_gap_days(cadence: &Cadence, tz: Tz, after: DateTime<Utc>) -> u32 {
    match cadence {
        Cadence::Weekly { interval, .. } => effective_interval(*interval).saturating_mul(7),
        Cadence::Monthly { .. } => MONTHLY_GAP_DAYS,
        Cadence::Cron(expr) => {
            if !in_range(after.date_naive()) {
                return MONTHLY_GAP_DAYS;
            }
            match cron_occurrences(expr, tz, None, after, 2).as_slice() {
                [first, second] => {
                    let secs = (*second - *first).num_seconds().max(1);
                    let days = (secs + 86_399) / 86_400;
                    u32::try_from(days).unwrap_or(u32::MAX).max(1)
                }
                _ => MONTHLY_GAP_DAYS,
            }
        }
    }
}

/// Interval 0 would never advance; it means "every week".
fn effective_interval(interval: u32) -> u32 {
    interval.max(1)
}

fn in_range(date: NaiveDate) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&date.year())
}

/// The local date of `after` in `tz`, minus one day: no occurrence on an earlier
/// local date can be after `after`, so searches start here. (One day of slack
/// covers a gap-shifted time landing on the next local date.)
fn search_start(tz: Tz, after: DateTime<Utc>) -> NaiveDate {
    let local = after.with_timezone(&tz).date_naive();
    local.pred_opt().unwrap_or(local)
}

/// Occurrence k is `first + k * interval` weeks, where `first` is the first
/// `weekday` on or after `anchor`. Weeks are counted from `first`, not from the
/// anchor's ISO week: they differ when `weekday` comes earlier in the week than
/// the anchor's day (anchor Tuesday, cadence Monday -> first is next week's
/// Monday), and a series must never start before its anchor.
fn weekly(
    interval: u32,
    weekday: Weekday,
    time: NaiveTime,
    tz: Tz,
    anchor: NaiveDate,
    after: DateTime<Utc>,
    n: usize,
) -> Vec<DateTime<Utc>> {
    let step_days = u64::from(effective_interval(interval)) * 7;
    let ahead = (7 + weekday.num_days_from_monday() - anchor.weekday().num_days_from_monday()) % 7;
    let Some(first) = anchor.checked_add_days(Days::new(u64::from(ahead))) else {
        return Vec::new();
    };

    // Jump to the last occurrence on or before the search start; everything
    // before it is certainly not after `after`.
    let start = search_start(tz, after);
    let mut k: u64 = match u64::try_from((start - first).num_days()) {
        Ok(days) => days / step_days,
        Err(_) => 0, // search start before `first`
    };

    let mut out = Vec::with_capacity(n.min(64));
    while out.len() < n {
        let Some(date) = k
            .checked_mul(step_days)
            .and_then(|d| first.checked_add_days(Days::new(d)))
            .filter(|d| in_range(*d))
        else {
            break;
        };
        let at = localize(tz, date, time);
        if at > after && out.last().is_none_or(|prev| at > *prev) {
            out.push(at);
        }
        k += 1;
    }
    out
}

fn monthly(
    week: MonthWeek,
    weekday: Weekday,
    time: NaiveTime,
    tz: Tz,
    anchor: NaiveDate,
    after: DateTime<Utc>,
    n: usize,
) -> Vec<DateTime<Utc>> {
    let start = search_start(tz, after).max(anchor);
    let Some(mut month) = start.with_day(1) else {
        return Vec::new();
    };

    let mut out = Vec::with_capacity(n.min(64));
    while out.len() < n && in_range(month) {
        if let Some(date) = nth_weekday_of_month(month.year(), month.month(), week, weekday)
            && date >= anchor
        {
            let at = localize(tz, date, time);
            if at > after && out.last().is_none_or(|prev| at > *prev) {
                out.push(at);
            }
        }
        match month.checked_add_months(Months::new(1)) {
            Some(next) => month = next,
            None => break,
        }
    }
    out
}

/// The first..fourth or last `weekday` of a month. "Last" is the fifth when the
/// month has one, else the fourth; "fourth" is always the fourth.
pub fn nth_weekday_of_month(year: i32, month: u32, week: MonthWeek, weekday: Weekday) -> Option<NaiveDate> {
    let nth = |n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n);
    match week {
        MonthWeek::First => nth(1),
        MonthWeek::Second => nth(2),
        MonthWeek::Third => nth(3),
        MonthWeek::Fourth => nth(4),
        MonthWeek::Last => nth(5).or_else(|| nth(4)),
    }
}

/// Cron in `tz`. The `cron` crate evaluated directly in a zone skips wall-clock
/// times that fall in a DST gap and yields both instants of a repeated time, so a
/// `0 30 2 * * Sun` 1:1 would vanish one week a year and a `0 30 1 …` one would
/// fire twice. Instead we run the expression over wall-clock time (a naive
/// datetime dressed as UTC, which has no DST) and [`localize`] each match, which
/// gives cron the same DST policy as the other cadences.
fn cron_occurrences(
    expr: &str,
    tz: Tz,
    anchor: Option<NaiveDate>,
    after: DateTime<Utc>,
    n: usize,
) -> Vec<DateTime<Utc>> {
    let Ok(schedule) = cron::Schedule::from_str(expr) else {
        return Vec::new();
    };

    // Wall-clock time to search strictly after.
    let mut cursor = after.with_timezone(&tz).naive_local();
    if let Some(day_before_anchor) = anchor
        .and_then(|a| a.and_hms_opt(0, 0, 0))
        .and_then(|midnight| midnight.checked_sub_signed(TimeDelta::seconds(1)))
    {
        cursor = cursor.max(day_before_anchor);
    }

    let mut out = Vec::with_capacity(n.min(64));
    let mut last = after;
    while out.len() < n {
        // Set when a match maps to an instant we are already past: a gap-shifted
        // time overtook later wall times, or the earlier of a repeated time is
        // before `after`. Restart the search from the later of the match and the
        // last instant's wall time instead of stepping through every match.
        let mut resume = None;
        for matched in schedule.after(&Utc.from_utc_datetime(&cursor)) {
            let wall = matched.naive_utc();
            let at = localize_naive(tz, wall);
            if at > last {
                out.push(at);
                last = at;
                if out.len() >= n {
                    break;
                }
            } else {
                resume = Some(wall.max(last.with_timezone(&tz).naive_local()));
                break;
            }
        }
        match resume {
            // Strictly later than before, so this terminates.
            Some(next) if next > cursor => cursor = next,
            _ => break,
        }
    }
    out
}

fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }
    fn utc(y: i32, mo: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, day, h, mi, 0).unwrap()
    }
    fn weekly(interval: u32, weekday: Weekday) -> Cadence {
        Cadence::Weekly { interval, weekday }
    }
    fn monthly(week: MonthWeek, weekday: Weekday) -> Cadence {
        Cadence::Monthly { week, weekday }
    }
    fn local_dates(tz: Tz, instants: &[DateTime<Utc>]) -> Vec<NaiveDate> {
        instants.iter().map(|i| i.with_timezone(&tz).date_naive()).collect()
    }
    fn local_times(tz: Tz, instants: &[DateTime<Utc>]) -> Vec<NaiveTime> {
        instants.iter().map(|i| i.with_timezone(&tz).time()).collect()
    }

    // ---- localize ----

    #[test]
    fn localize_reads_an_ordinary_time_in_the_zone() {
        assert_eq!(
            localize(Tz::Europe__Berlin, d(2026, 1, 12), t(10, 0)),
            utc(2026, 1, 12, 9, 0)
        );
    }

    #[test]
    fn a_time_in_the_berlin_spring_gap_moves_forward_by_the_gap() {
        let at = localize(Tz::Europe__Berlin, d(2026, 3, 29), t(2, 30));
        assert_eq!(at, utc(2026, 3, 29, 1, 30));
        assert_eq!(at.with_timezone(&Tz::Europe__Berlin).time(), t(3, 30));
    }

    #[test]
    fn a_repeated_new_york_fall_back_time_is_the_earlier_instant() {
        assert_eq!(
            localize(Tz::America__New_York, d(2026, 11, 1), t(1, 30)),
            utc(2026, 11, 1, 5, 30)
        );
    }

    #[test]
    fn a_half_hour_gap_moves_forward_by_half_an_hour() {
        // Lord Howe springs forward from 02:00 to 02:30.
        let at = localize(Tz::Australia__Lord_Howe, d(2026, 10, 4), t(2, 10));
        assert_eq!(
            at.with_timezone(&Tz::Australia__Lord_Howe).naive_local(),
            d(2026, 10, 4).and_time(t(2, 40))
        );
    }

    #[test]
    fn a_skipped_whole_day_moves_forward_by_a_day() {
        // Samoa skipped 2011-12-30 entirely.
        let at = localize(Tz::Pacific__Apia, d(2011, 12, 30), t(10, 0));
        assert_eq!(
            at.with_timezone(&Tz::Pacific__Apia).naive_local(),
            d(2011, 12, 31).and_time(t(10, 0))
        );
    }

    // ---- weekly ----

    #[test]
    fn a_weekly_monday_falls_on_every_monday() {
        let got = next_occurrences(
            &weekly(1, Weekday::Mon),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 7, 12, 0),
            3,
        );
        assert_eq!(
            got,
            vec![
                utc(2026, 1, 12, 10, 0),
                utc(2026, 1, 19, 10, 0),
                utc(2026, 1, 26, 10, 0)
            ]
        );
    }

    #[test]
    fn a_biweekly_series_counts_weeks_from_its_anchor() {
        // Anchor Wed 2026-01-07: first Monday on/after it is 01-12, then every 2 weeks.
        let cadence = weekly(2, Weekday::Mon);
        let got = next_occurrences(&cadence, t(9, 0), Tz::UTC, d(2026, 1, 7), utc(2026, 1, 13, 0, 0), 3);
        assert_eq!(
            local_dates(Tz::UTC, &got),
            vec![d(2026, 1, 26), d(2026, 2, 9), d(2026, 2, 23)]
        );
        // Same cadence anchored a week later is the other parity.
        let shifted = next_occurrences(&cadence, t(9, 0), Tz::UTC, d(2026, 1, 14), utc(2026, 1, 13, 0, 0), 2);
        assert_eq!(local_dates(Tz::UTC, &shifted), vec![d(2026, 1, 19), d(2026, 2, 2)]);
    }

    #[test]
    fn every_three_weeks_on_friday_skips_two_fridays_each_time() {
        let got = next_occurrences(
            &weekly(3, Weekday::Fri),
            t(15, 0),
            Tz::UTC,
            d(2026, 1, 2),
            utc(2026, 3, 1, 0, 0),
            3,
        );
        // Fridays from 2026-01-02 every 21 days: 01-02, 01-23, 02-13, 03-06, 03-27, 04-17.
        assert_eq!(
            local_dates(Tz::UTC, &got),
            vec![d(2026, 3, 6), d(2026, 3, 27), d(2026, 4, 17)]
        );
    }

    #[test]
    fn an_interval_of_zero_means_every_week() {
        let got = next_occurrences(
            &weekly(0, Weekday::Tue),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 1, 0, 0),
            2,
        );
        assert_eq!(local_dates(Tz::UTC, &got), vec![d(2026, 1, 6), d(2026, 1, 13)]);
    }

    #[test]
    fn after_exactly_on_an_occurrence_gives_the_following_one() {
        let cadence = weekly(1, Weekday::Mon);
        let at = utc(2026, 1, 12, 10, 0);
        let next = next_occurrence(&cadence, t(10, 0), Tz::UTC, d(2026, 1, 1), at);
        assert_eq!(next, Some(utc(2026, 1, 19, 10, 0)));
        let just_before = at - TimeDelta::nanoseconds(1);
        let next = next_occurrence(&cadence, t(10, 0), Tz::UTC, d(2026, 1, 1), just_before);
        assert_eq!(next, Some(at));
    }

    #[test]
    fn an_anchor_in_the_future_starts_there() {
        let got = next_occurrences(
            &weekly(2, Weekday::Thu),
            t(10, 0),
            Tz::UTC,
            d(2026, 6, 4),
            utc(2026, 1, 1, 0, 0),
            2,
        );
        assert_eq!(local_dates(Tz::UTC, &got), vec![d(2026, 6, 4), d(2026, 6, 18)]);
    }

    #[test]
    fn a_meeting_later_today_is_still_next() {
        let next = next_occurrence(
            &weekly(1, Weekday::Mon),
            t(16, 0),
            Tz::Asia__Tokyo,
            d(2026, 1, 1),
            utc(2026, 1, 12, 1, 0), // 10:00 Monday in Tokyo
        );
        assert_eq!(next, Some(utc(2026, 1, 12, 7, 0)));
    }

    #[test]
    fn asking_for_nothing_gives_nothing() {
        let got = next_occurrences(
            &weekly(1, Weekday::Mon),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 1, 0, 0),
            0,
        );
        assert!(got.is_empty());
    }

    // ---- monthly ----

    #[test]
    fn monthly_on_the_first_tuesday() {
        let got = next_occurrences(
            &monthly(MonthWeek::First, Weekday::Tue),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 10, 0, 0),
            3,
        );
        assert_eq!(
            local_dates(Tz::UTC, &got),
            vec![d(2026, 2, 3), d(2026, 3, 3), d(2026, 4, 7)]
        );
    }

    #[test]
    fn monthly_on_the_last_friday() {
        let got = next_occurrences(
            &monthly(MonthWeek::Last, Weekday::Fri),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 1, 0, 0),
            4,
        );
        assert_eq!(
            local_dates(Tz::UTC, &got),
            vec![d(2026, 1, 30), d(2026, 2, 27), d(2026, 3, 27), d(2026, 4, 24)]
        );
    }

    #[test]
    fn in_a_month_with_five_of_the_weekday_fourth_and_last_differ() {
        // January 2026 has five Fridays (2, 9, 16, 23, 30); February has four.
        let fourth = next_occurrences(
            &monthly(MonthWeek::Fourth, Weekday::Fri),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 1, 0, 0),
            2,
        );
        let last = next_occurrences(
            &monthly(MonthWeek::Last, Weekday::Fri),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 1, 0, 0),
            2,
        );
        assert_eq!(local_dates(Tz::UTC, &fourth), vec![d(2026, 1, 23), d(2026, 2, 27)]);
        assert_eq!(local_dates(Tz::UTC, &last), vec![d(2026, 1, 30), d(2026, 2, 27)]);
    }

    #[test]
    fn a_monthly_date_before_the_anchor_is_skipped() {
        // First Monday of June 2026 is 06-01; anchored on 06-02 it starts in July.
        let got = next_occurrences(
            &monthly(MonthWeek::First, Weekday::Mon),
            t(10, 0),
            Tz::UTC,
            d(2026, 6, 2),
            utc(2026, 1, 1, 0, 0),
            2,
        );
        assert_eq!(local_dates(Tz::UTC, &got), vec![d(2026, 7, 6), d(2026, 8, 3)]);
    }

    #[test]
    fn monthly_after_exactly_on_an_occurrence_gives_the_next_month() {
        let next = next_occurrence(
            &monthly(MonthWeek::Second, Weekday::Wed),
            t(10, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 14, 10, 0),
        );
        assert_eq!(next, Some(utc(2026, 2, 11, 10, 0)));
    }

    // ---- cron ----

    #[test]
    fn a_six_field_cron_runs_at_its_own_times() {
        let got = next_occurrences(
            &Cadence::Cron("0 0 10 * * Mon".into()),
            t(23, 59), // ignored
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 7, 0, 0),
            2,
        );
        assert_eq!(got, vec![utc(2026, 1, 12, 10, 0), utc(2026, 1, 19, 10, 0)]);
    }

    #[test]
    fn a_cron_is_evaluated_in_the_series_zone() {
        let got = next_occurrences(
            &Cadence::Cron("0 0 10 * * Mon".into()),
            t(0, 0),
            Tz::Europe__Berlin,
            d(2026, 1, 1),
            utc(2026, 3, 20, 0, 0),
            3,
        );
        // 10:00 CET, then 10:00 CEST after the March change.
        assert_eq!(
            got,
            vec![utc(2026, 3, 23, 9, 0), utc(2026, 3, 30, 8, 0), utc(2026, 4, 6, 8, 0)]
        );
    }

    #[test]
    fn a_cron_after_exactly_on_an_occurrence_gives_the_following_one() {
        let next = next_occurrence(
            &Cadence::Cron("0 30 9 * * *".into()),
            t(0, 0),
            Tz::UTC,
            d(2026, 1, 1),
            utc(2026, 1, 5, 9, 30),
        );
        assert_eq!(next, Some(utc(2026, 1, 6, 9, 30)));
    }

    #[test]
    fn a_cron_does_not_fire_before_the_anchor() {
        let next = next_occurrence(
            &Cadence::Cron("0 0 10 * * *".into()),
            t(0, 0),
            Tz::UTC,
            d(2026, 2, 1),
            utc(2026, 1, 5, 0, 0),
        );
        assert_eq!(next, Some(utc(2026, 2, 1, 10, 0)));
    }

    #[test]
    fn an_invalid_cron_has_no_occurrences() {
        let cadence = Cadence::Cron("not a cron".into());
        let got = next_occurrences(&cadence, t(0, 0), Tz::UTC, d(2026, 1, 1), utc(2026, 1, 1, 0, 0), 3);
        assert!(got.is_empty());
        assert_eq!(nominal_gap_days(&cadence, Tz::UTC, utc(2026, 1, 1, 0, 0)), 30);
    }

    #[test]
    fn a_cron_in_the_spring_gap_moves_forward_instead_of_vanishing() {
        let got = next_occurrences(
            &Cadence::Cron("0 30 2 * * Sun".into()),
            t(0, 0),
            Tz::Europe__Berlin,
            d(2026, 1, 1),
            utc(2026, 3, 23, 0, 0),
            2,
        );
        assert_eq!(got, vec![utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)]);
    }

    #[test]
    fn a_cron_on_a_repeated_time_fires_once_at_the_earlier_instant() {
        let got = next_occurrences(
            &Cadence::Cron("0 30 1 * * *".into()),
            t(0, 0),
            Tz::America__New_York,
            d(2026, 1, 1),
            utc(2026, 10, 31, 12, 0),
            2,
        );
        assert_eq!(got, vec![utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]);
    }

    #[test]
    fn a_frequent_cron_across_the_spring_gap_stays_strictly_increasing() {
        let tz = Tz::Europe__Berlin;
        let got = next_occurrences(
            &Cadence::Cron("0 */15 * * * *".into()),
            t(0, 0),
            tz,
            d(2026, 1, 1),
            utc(2026, 3, 29, 0, 30), // 01:30 CET
            8,
        );
        let wall: Vec<NaiveTime> = local_times(tz, &got);
        assert_eq!(
            wall,
            vec![
                t(1, 45),
                t(3, 0),
                t(3, 15),
                t(3, 30),
                t(3, 45),
                t(4, 0),
                t(4, 15),
                t(4, 30)
            ]
        );
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_cron_after_within_the_repeated_hour_skips_to_the_next_day() {
        // 01:40 EST is the second 01:40; today's 01:30 (EDT, earlier) has passed.
        let next = next_occurrence(
            &Cadence::Cron("0 30 1 * * *".into()),
            t(0, 0),
            Tz::America__New_York,
            d(2026, 1, 1),
            utc(2026, 11, 1, 6, 10),
        );
        assert_eq!(next, Some(utc(2026, 11, 2, 6, 30)));
    }

    // ---- DST for weekly meetings ----

    fn assert_weekly_ten_oclock_across(tz: Tz, change_sunday: NaiveDate, weekday: Weekday) {
        let after = localize(tz, change_sunday - Days::new(21), t(0, 0));
        let got = next_occurrences(&weekly(1, weekday), t(10, 0), tz, d(2026, 1, 1), after, 6);
        assert_eq!(got.len(), 6);
        for at in &got {
            let local = at.with_timezone(&tz);
            assert_eq!(local.time(), t(10, 0), "{local}");
            assert_eq!(local.weekday(), weekday, "{local}");
        }
        let offsets: Vec<i32> = got
            .iter()
            .map(|at| at.with_timezone(&tz).offset().fix().local_minus_utc())
            .collect();
        assert!(offsets.first() != offsets.last(), "{offsets:?}");
    }

    #[test]
    fn a_berlin_ten_oclock_stays_ten_oclock_across_march_change() {
        assert_weekly_ten_oclock_across(Tz::Europe__Berlin, d(2026, 3, 29), Weekday::Mon);
        assert_weekly_ten_oclock_across(Tz::Europe__Berlin, d(2026, 3, 29), Weekday::Sun);
    }

    #[test]
    fn a_berlin_ten_oclock_stays_ten_oclock_across_october_change() {
        assert_weekly_ten_oclock_across(Tz::Europe__Berlin, d(2026, 10, 25), Weekday::Mon);
        assert_weekly_ten_oclock_across(Tz::Europe__Berlin, d(2026, 10, 25), Weekday::Sun);
    }

    #[test]
    fn a_new_york_ten_oclock_stays_ten_oclock_across_march_change() {
        assert_weekly_ten_oclock_across(Tz::America__New_York, d(2026, 3, 8), Weekday::Wed);
        assert_weekly_ten_oclock_across(Tz::America__New_York, d(2026, 3, 8), Weekday::Sun);
    }

    #[test]
    fn a_new_york_ten_oclock_stays_ten_oclock_across_november_change() {
        assert_weekly_ten_oclock_across(Tz::America__New_York, d(2026, 11, 1), Weekday::Wed);
        assert_weekly_ten_oclock_across(Tz::America__New_York, d(2026, 11, 1), Weekday::Sun);
    }

    #[test]
    fn a_berlin_ten_oclock_shifts_by_an_hour_in_utc() {
        let got = next_occurrences(
            &weekly(1, Weekday::Mon),
            t(10, 0),
            Tz::Europe__Berlin,
            d(2026, 1, 1),
            utc(2026, 3, 20, 0, 0),
            2,
        );
        assert_eq!(got, vec![utc(2026, 3, 23, 9, 0), utc(2026, 3, 30, 8, 0)]);
    }

    #[test]
    fn a_half_past_two_on_the_berlin_spring_forward_sunday_is_half_past_three() {
        let tz = Tz::Europe__Berlin;
        let got = next_occurrences(
            &weekly(1, Weekday::Sun),
            t(2, 30),
            tz,
            d(2026, 1, 1),
            utc(2026, 3, 25, 0, 0),
            2,
        );
        assert_eq!(got, vec![utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)]);
        assert_eq!(local_times(tz, &got), vec![t(3, 30), t(2, 30)]);
        assert_eq!(local_dates(tz, &got), vec![d(2026, 3, 29), d(2026, 4, 5)]);
    }

    #[test]
    fn half_past_one_on_the_new_york_fall_back_sunday_is_the_earlier_instant() {
        let got = next_occurrences(
            &weekly(1, Weekday::Sun),
            t(1, 30),
            Tz::America__New_York,
            d(2026, 1, 1),
            utc(2026, 10, 28, 0, 0),
            2,
        );
        assert_eq!(got, vec![utc(2026, 11, 1, 5, 30), utc(2026, 11, 8, 6, 30)]);
    }

    #[test]
    fn after_between_the_two_half_past_ones_moves_to_the_next_week() {
        // 06:00 UTC is 01:00 EST, after the earlier 01:30 (05:30 UTC) has passed.
        let next = next_occurrence(
            &weekly(1, Weekday::Sun),
            t(1, 30),
            Tz::America__New_York,
            d(2026, 1, 1),
            utc(2026, 11, 1, 6, 0),
        );
        assert_eq!(next, Some(utc(2026, 11, 8, 6, 30)));
    }

    // ---- describe and nominal gap ----

    #[test]
    fn cadences_read_as_plain_english() {
        assert_eq!(describe(&weekly(1, Weekday::Mon)), "every Monday");
        assert_eq!(describe(&weekly(2, Weekday::Mon)), "every 2 weeks on Monday");
        assert_eq!(describe(&weekly(3, Weekday::Fri)), "every 3 weeks on Friday");
        assert_eq!(
            describe(&monthly(MonthWeek::Last, Weekday::Fri)),
            "monthly on the last Friday"
        );
        assert_eq!(
            describe(&monthly(MonthWeek::First, Weekday::Tue)),
            "monthly on the first Tuesday"
        );
        assert_eq!(
            describe(&Cadence::Cron("0 0 10 * * Mon".into())),
            "cron \"0 0 10 * * Mon\""
        );
    }

    #[test]
    fn nominal_gaps_follow_the_cadence() {
        let now = utc(2026, 1, 1, 0, 0);
        assert_eq!(nominal_gap_days(&weekly(1, Weekday::Mon), Tz::UTC, now), 7);
        assert_eq!(nominal_gap_days(&weekly(0, Weekday::Mon), Tz::UTC, now), 7);
        assert_eq!(nominal_gap_days(&weekly(3, Weekday::Mon), Tz::UTC, now), 21);
        assert_eq!(
            nominal_gap_days(&monthly(MonthWeek::Last, Weekday::Fri), Tz::UTC, now),
            30
        );
        let cron = |e: &str| Cadence::Cron(e.into());
        assert_eq!(nominal_gap_days(&cron("0 0 10 * * Mon"), Tz::UTC, now), 7);
        assert_eq!(nominal_gap_days(&cron("0 0 10 * * Mon,Thu"), Tz::UTC, now), 4);
        assert_eq!(nominal_gap_days(&cron("0 */5 * * * *"), Tz::UTC, now), 1);
        // Only one occurrence left: no gap to measure.
        assert_eq!(nominal_gap_days(&cron("0 0 10 1 1 * 2026"), Tz::UTC, now), 30);
    }

    #[test]
    fn the_nth_weekday_helper_knows_when_a_fifth_exists() {
        assert_eq!(
            nth_weekday_of_month(2026, 1, MonthWeek::Last, Weekday::Fri),
            Some(d(2026, 1, 30))
        );
        assert_eq!(
            nth_weekday_of_month(2026, 2, MonthWeek::Last, Weekday::Fri),
            Some(d(2026, 2, 27))
        );
        assert_eq!(
            nth_weekday_of_month(2026, 2, MonthWeek::Fourth, Weekday::Fri),
            Some(d(2026, 2, 27))
        );
    }

    #[test]
    fn far_future_inputs_end_quietly() {
        let far = Utc.with_ymd_and_hms(9999, 12, 1, 0, 0, 0).unwrap();
        let got = next_occurrences(&weekly(4, Weekday::Mon), t(10, 0), Tz::UTC, d(2026, 1, 1), far, 100);
        assert!(got.len() < 100);
        let got = next_occurrences(
            &monthly(MonthWeek::Last, Weekday::Sun),
            t(10, 0),
            Tz::Pacific__Kiritimati,
            d(2026, 1, 1),
            far,
            100,
        );
        assert!(got.len() < 100);
        let got = next_occurrences(
            &Cadence::Cron("0 0 10 * * *".into()),
            t(0, 0),
            Tz::UTC,
            d(2026, 1, 1),
            DateTime::<Utc>::MAX_UTC,
            3,
        );
        assert!(got.is_empty());
    }

    // ---- properties ----

    const ZONES: [Tz; 7] = [
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::America__Los_Angeles,
        Tz::Asia__Tokyo,
        Tz::Australia__Sydney,
        Tz::Asia__Kolkata,
        Tz::UTC,
    ];
    const WEEKS: [MonthWeek; 5] = [
        MonthWeek::First,
        MonthWeek::Second,
        MonthWeek::Third,
        MonthWeek::Fourth,
        MonthWeek::Last,
    ];

    fn zone() -> impl Strategy<Value = Tz> {
        (0..ZONES.len()).prop_map(|i| ZONES[i])
    }
    fn weekday() -> impl Strategy<Value = Weekday> {
        (0u8..7).prop_map(|i| Weekday::try_from(i).unwrap())
    }
    fn time_of_day() -> impl Strategy<Value = NaiveTime> {
        (0u32..24 * 60).prop_map(|m| t(m / 60, m % 60))
    }
    fn date_2024_2030() -> impl Strategy<Value = NaiveDate> {
        (0u64..(365 * 6 + 2)).prop_map(|days| d(2024, 1, 1) + Days::new(days))
    }
    fn instant_2024_2030() -> impl Strategy<Value = DateTime<Utc>> {
        let start = utc(2024, 1, 1, 0, 0).timestamp();
        let end = utc(2030, 1, 1, 0, 0).timestamp();
        (start..end).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    /// Each occurrence is on `date` at `time` local, or, when that wall time
    /// does not exist, exactly the gap later.
    fn assert_at_local_time(tz: Tz, at: DateTime<Utc>, time: NaiveTime) {
        let local = at.with_timezone(&tz).naive_local();
        let wanted = local.date().and_time(time);
        match tz.from_local_datetime(&wanted) {
            LocalResult::Single(x) => assert_eq!(x, at),
            LocalResult::Ambiguous(earlier, _) => assert_eq!(earlier, at),
            LocalResult::None => {
                let before = tz
                    .offset_from_utc_datetime(&(at - TimeDelta::hours(6)).naive_utc())
                    .fix()
                    .local_minus_utc();
                let after = at.with_timezone(&tz).offset().fix().local_minus_utc();
                let gap = TimeDelta::seconds(i64::from(after - before));
                assert!(gap > TimeDelta::zero());
                assert_eq!(local, wanted + gap);
            }
        }
    }

    fn assert_strictly_after(got: &[DateTime<Utc>], after: DateTime<Utc>) {
        assert!(got.iter().all(|at| *at > after));
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn weekly_occurrences_are_on_the_weekday_at_the_time_interval_weeks_apart(
            tz in zone(),
            wd in weekday(),
            interval in 1u32..=4,
            time in time_of_day(),
            anchor in date_2024_2030(),
            after in instant_2024_2030(),
        ) {
            let got = next_occurrences(&weekly(interval, wd), time, tz, anchor, after, 20);
            prop_assert_eq!(got.len(), 20);
            assert_strictly_after(&got, after);
            let step = TimeDelta::days(i64::from(interval) * 7);
            for at in &got {
                let local = at.with_timezone(&tz);
                prop_assert_eq!(local.weekday(), wd);
                prop_assert!(local.date_naive() >= anchor);
                assert_at_local_time(tz, *at, time);
            }
            for w in got.windows(2) {
                let diff = w[1] - w[0] - step;
                prop_assert!(diff.abs() <= TimeDelta::hours(1), "{} -> {}", w[0], w[1]);
            }
            // Interval weeks counted from the first `wd` on or after the anchor.
            let ahead = (7 + wd.num_days_from_monday() - anchor.weekday().num_days_from_monday()) % 7;
            let first = anchor + Days::new(u64::from(ahead));
            for at in &got {
                let days = (at.with_timezone(&tz).date_naive() - first).num_days();
                prop_assert_eq!(days % (i64::from(interval) * 7), 0);
            }
            // Nothing was skipped: the previous slot is not after `after` (or before the anchor).
            let first_local = got[0].with_timezone(&tz).date_naive();
            if let Some(prev) = first_local.checked_sub_days(Days::new(step.num_days() as u64))
                && prev >= anchor
            {
                prop_assert!(localize(tz, prev, time) <= after);
            }
        }

        #[test]
        fn next_occurrence_is_the_first_of_next_occurrences(
            tz in zone(),
            wd in weekday(),
            interval in 1u32..=4,
            time in time_of_day(),
            anchor in date_2024_2030(),
            after in instant_2024_2030(),
        ) {
            let cadence = weekly(interval, wd);
            let all = next_occurrences(&cadence, time, tz, anchor, after, 3);
            let one = next_occurrence(&cadence, time, tz, anchor, after);
            prop_assert_eq!(one, all.first().copied());
            // Asking again from an occurrence gives the rest.
            let rest = next_occurrences(&cadence, time, tz, anchor, all[0], 2);
            prop_assert_eq!(&rest[..], &all[1..]);
        }

        #[test]
        fn monthly_occurrences_are_on_the_nth_or_last_weekday(
            tz in zone(),
            wd in weekday(),
            wi in 0..WEEKS.len(),
            time in time_of_day(),
            anchor in date_2024_2030(),
            after in instant_2024_2030(),
        ) {
            let week = WEEKS[wi];
            let got = next_occurrences(&monthly(week, wd), time, tz, anchor, after, 20);
            prop_assert_eq!(got.len(), 20);
            assert_strictly_after(&got, after);
            for at in &got {
                let date = at.with_timezone(&tz).date_naive();
                prop_assert_eq!(date.weekday(), wd);
                prop_assert!(date >= anchor);
                let nth = (date.day() - 1) / 7; // 0-based
                let is_last = date.checked_add_days(Days::new(7)).is_none_or(|n| n.month() != date.month());
                match week {
                    MonthWeek::First => prop_assert_eq!(nth, 0),
                    MonthWeek::Second => prop_assert_eq!(nth, 1),
                    MonthWeek::Third => prop_assert_eq!(nth, 2),
                    MonthWeek::Fourth => prop_assert_eq!(nth, 3),
                    MonthWeek::Last => prop_assert!(is_last),
                }
                assert_at_local_time(tz, *at, time);
            }
            // One per month, consecutive months.
            for w in got.windows(2) {
                let a = w[0].with_timezone(&tz).date_naive();
                let b = w[1].with_timezone(&tz).date_naive();
                let months = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
                prop_assert_eq!(months, 1);
            }
        }

        #[test]
        fn cron_occurrences_are_strictly_increasing_and_after(
            tz in zone(),
            minute in 0u32..60,
            hour in 0u32..24,
            after in instant_2024_2030(),
        ) {
            let expr = format!("0 {minute} {hour},{} * * *", (hour + 1) % 24);
            let got = next_occurrences(&Cadence::Cron(expr), t(0, 0), tz, d(2024, 1, 1), after, 20);
            prop_assert_eq!(got.len(), 20);
            assert_strictly_after(&got, after);
        }
    }
}
