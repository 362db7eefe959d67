//! The timing rules of SPEC §8, as pure functions: when a person may be sent
//! something (working hours, working days, away), when each notification kind
//! falls due (agenda, follow-up, action digest), and when a 1:1 is overdue or a
//! talking point is stuck.
//!
//! Pure: it imports nothing from axum, sqlx or reqwest, touches no store and
//! never reads the clock; callers pass `now`. Every local time is turned into
//! an instant with [`localize`], one local day at a time, so working hours stay
//! at their wall-clock times across daylight-saving changes (no fixed 24 h is
//! ever added to a local time).
//!
//! # Working periods
//!
//! A person's *working period* on a local date `d` (in [`Person::tz`]) is the
//! closed interval `[work_start, work_end]` of that date, both ends included:
//! 09:00:00 and 18:00:00 are allowed moments for 09:00–18:00 hours. There is
//! one on a date only when
//!
//! - `d` is a working day: **Monday to Friday in the person's zone**. That is a
//!   choice, not a setting yet; a later per-person or per-workspace setting may
//!   change it, and only [`is_working_day`] needs to follow;
//! - the person is not away on `d`: `away_until` is inclusive and read in the
//!   person's zone, so every date up to and including it is away (the field has
//!   no start date: a person is away *until* then). Away people get nothing
//!   until they are back;
//! - the localized end is not before the localized start (a DST change can
//!   only break that for hours that sit inside a gap).
//!
//! Hours with `work_end <= work_start` cannot come from the grammar; if they
//! are ever stored, the defaults of SPEC §4 (09:00–18:00) are used instead, so
//! nothing loops and such a person still hears from the bot. Every search is
//! bounded by [`SEARCH_DAYS`].
//!
//! # The agenda's "last allowed moment before the meeting"
//!
//! See [`agenda_send_at`]: the agenda goes at the first allowed moment of the
//! lead window `[meeting - lead, meeting)`; if that window holds none, at the
//! *end of the last working period before it* (`work_end` of the previous
//! working day, exactly, not a second earlier), looking back at most
//! [`AGENDA_LOOKBACK`]; if there is none either, at once.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};

use crate::domain::model::{MeetingState, Person, PointState, TalkingPoint, default_work_end, default_work_start};
use crate::domain::schedule::localize;

/// How many local days a search walks at most (forward for [`next_allowed`],
/// backward for [`last_allowed_before`]) after skipping a stretch of away days.
/// A year and a bit: any real calendar has a working period in far fewer.
pub const SEARCH_DAYS: u32 = 400;

/// How far before the ideal agenda time (`meeting - lead`) [`agenda_send_at`]
/// looks for the end of a working period when the lead window has none:
/// enough to reach Friday's end from a Monday-morning meeting.
pub const AGENDA_LOOKBACK: TimeDelta = TimeDelta::days(4);

/// The follow-up ("did it happen?") goes this long after the meeting's end.
pub const FOLLOW_UP_AFTER: TimeDelta = TimeDelta::hours(1);

/// Days without a held meeting before the manager is nudged (SPEC §8); each
/// workspace may set its own (`Workspace::overdue_after_days`).
pub const DEFAULT_OVERDUE_AFTER_DAYS: u32 = 14;

/// Skips in a row that make a 1:1 overdue (SPEC §8).
pub const SKIPS_IN_A_ROW: usize = 2;

/// Rollovers after which a talking point is stuck and its author is asked
/// what to do with it (SPEC §8).
pub const STUCK_AFTER_ROLLOVERS: u32 = 3;

/// Instants we reason about: the same years as the schedule math, far from
/// chrono's limits, so no local-date arithmetic here can overflow.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// One working period: a local date and its allowed instants `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    day: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Working days are Monday to Friday (see the module doc).
pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Whether `p` is away on the local date `day` (`away_until` is inclusive).
pub fn is_away_on(p: &Person, day: NaiveDate) -> bool {
    p.away_until.is_some_and(|until| day <= until)
}

/// Whether `p` is away at `at` (on the local date of `at` in their zone).
pub fn is_away(p: &Person, at: DateTime<Utc>) -> bool {
    in_range(at) && is_away_on(p, local_date(p, at))
}

/// Whether `p` may be sent something at `at`: inside their working period of a
/// working day they are not away on. Both ends of the hours are allowed.
pub fn is_allowed(p: &Person, at: DateTime<Utc>) -> bool {
    next_period(p, at).is_some_and(|period| period.start <= at)
}

/// `at` itself if it is allowed, else the start of the next working period
/// (skipping weekends and away days). `None` only when there is none within
/// [`SEARCH_DAYS`] after the away days, or `at` is outside years 1–9999.
pub fn next_allowed(p: &Person, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    next_period(p, at).map(|period| period.start.max(at))
}

/// The latest allowed instant in `[not_before, before)`, at one-second
/// resolution: the end of the last working period that ends before `before`,
/// or, when `before` falls inside a working period, one second before it (or
/// the first allowed instant of the range if that is later). `None` when the
/// range holds no allowed instant (or is empty).
pub fn last_allowed_before(p: &Person, before: DateTime<Utc>, not_before: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if not_before >= before || !in_range(before) {
        return None;
    }
    // No period of a date before the floor can reach `not_before`.
    let floor = if in_range(not_before) {
        local_date(p, not_before).pred_opt()
    } else {
        None
    };
    let mut day = local_date(p, before).succ_opt()?;
    for _ in 0..SEARCH_DAYS {
        if floor.is_some_and(|floor| day < floor) || is_away_on(p, day) {
            // Every earlier date is away too.
            return None;
        }
        if let Some(period) = period_on(p, day) {
            if period.end < not_before {
                return None;
            }
            let lo = period.start.max(not_before);
            if lo < before {
                if period.end < before {
                    return Some(period.end);
                }
                let just_before = before.checked_sub_signed(TimeDelta::seconds(1)).unwrap_or(lo);
                return Some(just_before.max(lo));
            }
        }
        day = day.pred_opt()?;
    }
    None
}

/// When the agenda of a meeting at `meeting_at` goes to `p`, with the series'
/// lead time `lead` (a negative lead counts as zero):
///
/// 1. `meeting_at - lead` (the *ideal* time) if it is allowed;
/// 2. else the next allowed moment, if it is before the meeting (an agenda that
///    arrives as the meeting starts is too late to add anything);
/// 3. else the last allowed moment before the meeting, which then lies before
///    the ideal time: the end of the last working period within
///    [`AGENDA_LOOKBACK`] before the ideal time. For a Monday 08:00 meeting and
///    09:00–18:00 hours that is Friday 18:00; a Tokyo recipient of a Los Angeles
///    09:00 meeting (01:00 or 02:00 in Tokyo) with a short lead gets it at the
///    end of their previous working day;
/// 4. else at once: the ideal time, or the moment `p` is back if they are away
///    then (never after the meeting).
///
/// The result may already be past when the planner looks; it is then due
/// immediately. `None` when `p` is away on the meeting's local date (they get
/// nothing for it) or the instants are out of range.
pub fn agenda_send_at(p: &Person, meeting_at: DateTime<Utc>, lead: TimeDelta) -> Option<DateTime<Utc>> {
    if !in_range(meeting_at) || is_away(p, meeting_at) {
        return None;
    }
    let ideal = meeting_at.checked_sub_signed(lead.max(TimeDelta::zero()))?;
    if !in_range(ideal) {
        return None;
    }
    if let Some(first) = next_allowed(p, ideal)
        && (first == ideal || first < meeting_at)
    {
        return Some(first);
    }
    if let Some(last) = ideal
        .checked_sub_signed(AGENDA_LOOKBACK)
        .and_then(|lookback| last_allowed_before(p, meeting_at, lookback))
    {
        return Some(last);
    }
    Some(back_at(p, ideal).min(meeting_at))
}

/// When the follow-up ("did it happen?") of a meeting that ended at
/// `meeting_end` goes to `p`: [`FOLLOW_UP_AFTER`] later, or the next allowed
/// moment after that. Whether it goes at all (neither held nor skipped) is the
/// planner's question.
pub fn follow_up_send_at(p: &Person, meeting_end: DateTime<Utc>) -> Option<DateTime<Utc>> {
    meeting_end
        .checked_add_signed(FOLLOW_UP_AFTER)
        .and_then(|at| next_allowed(p, at))
}

/// The action-digest slot for `p` at `now`: the working period that is going on
/// or comes next, as its local date (the slot key: one digest per local day)
/// and its start (when the digest is due). Inside working hours that is today's
/// slot, already due; after today's hours it is the next working day's.
pub fn digest_slot(p: &Person, now: DateTime<Utc>) -> Option<(NaiveDate, DateTime<Utc>)> {
    next_period(p, now).map(|period| (period.day, period.start))
}

/// Why the manager of a 1:1 is nudged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverdueReason {
    /// No meeting held for this many whole days (since the last held meeting,
    /// or since the series was created if none was).
    NoneHeldFor(u32),
    /// The last [`SKIPS_IN_A_ROW`] closed meetings were skipped.
    SkippedTwiceInARow,
}

/// Whether a 1:1 is overdue at `now`. `recent_states` are the states of its
/// closed meetings, newest first; anything but held or skipped in it is
/// ignored. Days are whole 24-hour periods of elapsed time. When both rules
/// apply the gap wins (it carries the number). `overdue_after_days == 0` turns
/// the gap rule off.
pub fn is_overdue(
    last_held: Option<DateTime<Utc>>,
    series_created: DateTime<Utc>,
    now: DateTime<Utc>,
    overdue_after_days: u32,
    recent_states: &[MeetingState],
) -> Option<OverdueReason> {
    if overdue_after_days > 0 {
        let since = last_held.unwrap_or(series_created);
        let days = now.signed_duration_since(since).num_days();
        if days >= i64::from(overdue_after_days) {
            return Some(OverdueReason::NoneHeldFor(u32::try_from(days).unwrap_or(u32::MAX)));
        }
    }
    let mut closed = recent_states
        .iter()
        .filter(|s| matches!(s, MeetingState::Held | MeetingState::Skipped))
        .take(SKIPS_IN_A_ROW)
        .peekable();
    let mut skips = 0;
    while closed.next_if_eq(&&MeetingState::Skipped).is_some() {
        skips += 1;
    }
    (skips == SKIPS_IN_A_ROW).then_some(OverdueReason::SkippedTwiceInARow)
}

/// An open talking point that rolled over [`STUCK_AFTER_ROLLOVERS`] times or
/// more. A discussed point is never stuck.
pub fn is_stuck(tp: &TalkingPoint) -> bool {
    tp.state == PointState::Open && tp.rollover_count >= STUCK_AFTER_ROLLOVERS
}

fn in_range(at: DateTime<Utc>) -> bool {
    YEARS.contains(&at.year())
}

fn local_date(p: &Person, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&p.tz()).date_naive()
}

/// `p`'s hours, or the defaults when they are impossible (see the module doc).
fn hours(p: &Person) -> (NaiveTime, NaiveTime) {
    if p.work_start < p.work_end {
        (p.work_start, p.work_end)
    } else {
        (default_work_start(), default_work_end())
    }
}

/// `p`'s working period on local date `day`, if there is one.
fn period_on(p: &Person, day: NaiveDate) -> Option<Period> {
    if !is_working_day(day) || is_away_on(p, day) || !YEARS.contains(&day.year()) {
        return None;
    }
    let tz = p.tz();
    let (from, to) = hours(p);
    let start = localize(tz, day, from);
    let end = localize(tz, day, to);
    (start <= end).then_some(Period { day, start, end })
}

/// The first working period that has not ended at `at` (its end is `>= at`):
/// the one `at` is in, or the next one. Starts a day early in case a period
/// runs past local midnight (a gap shift near midnight), and jumps over away
/// days at once.
fn next_period(p: &Person, at: DateTime<Utc>) -> Option<Period> {
    if !in_range(at) {
        return None;
    }
    let mut day = local_date(p, at).pred_opt()?;
    if is_away_on(p, day) {
        day = p.away_until?.succ_opt()?;
    }
    for _ in 0..SEARCH_DAYS {
        if let Some(period) = period_on(p, day)
            && period.end >= at
        {
            return Some(period);
        }
        day = day.succ_opt()?;
    }
    None
}

/// `at`, or the first instant of the local day after `away_until` if `p` is
/// away at `at`.
fn back_at(p: &Person, at: DateTime<Utc>) -> DateTime<Utc> {
    if !is_away(p, at) {
        return at;
    }
    p.away_until
        .and_then(|until| until.succ_opt())
        .map(|back| localize(p.tz(), back, NaiveTime::MIN))
        .map_or(at, |back| back.max(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Category, MeetingId, PersonId, TalkingPointId, WorkspaceId};
    use chrono::TimeZone;
    use chrono_tz::Tz;
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
    /// A wall-clock time in `tz` that exists exactly once.
    fn local(tz: Tz, y: i32, mo: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, mo, day, h, mi, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }
    fn person_with(tz: Tz, start: NaiveTime, end: NaiveTime, away_until: Option<NaiveDate>) -> Person {
        Person {
            id: PersonId(1),
            workspace_id: WorkspaceId(1),
            external_id: "U1".into(),
            display_name: "Ana".into(),
            email: None,
            platform_tz: Some(tz),
            tz_override: None,
            work_start: start,
            work_end: end,
            nudges: true,
            away_until,
            profile_refreshed_at: None,
        }
    }
    /// 09:00–18:00 in `tz`.
    fn person(tz: Tz) -> Person {
        person_with(tz, t(9, 0), t(18, 0), None)
    }
    fn point(rollovers: u32, state: PointState) -> TalkingPoint {
        TalkingPoint {
            id: TalkingPointId(1),
            meeting_id: MeetingId(1),
            author_id: PersonId(1),
            text: "Career path".into(),
            category: Category::Development,
            position: 1,
            state,
            rollover_count: rollovers,
            origin_meeting_id: MeetingId(1),
            created_at: utc(2026, 1, 1, 0, 0),
        }
    }
    const BERLIN: Tz = Tz::Europe__Berlin;
    const NEW_YORK: Tz = Tz::America__New_York;
    const TOKYO: Tz = Tz::Asia__Tokyo;
    const LOS_ANGELES: Tz = Tz::America__Los_Angeles;

    // ---- is_allowed ----

    #[test]
    fn a_weekday_inside_working_hours_is_allowed_and_both_ends_count() {
        let p = person(BERLIN);
        assert_eq!(d(2026, 1, 13).weekday(), Weekday::Tue);
        assert!(is_allowed(&p, local(BERLIN, 2026, 1, 13, 11, 0)));
        assert!(is_allowed(&p, local(BERLIN, 2026, 1, 13, 9, 0)));
        assert!(is_allowed(&p, local(BERLIN, 2026, 1, 13, 18, 0)));
        assert!(!is_allowed(&p, local(BERLIN, 2026, 1, 13, 8, 59)));
        assert!(!is_allowed(
            &p,
            local(BERLIN, 2026, 1, 13, 18, 0) + TimeDelta::seconds(1)
        ));
    }

    #[test]
    fn weekends_are_never_allowed() {
        let p = person(BERLIN);
        assert_eq!(d(2026, 1, 17).weekday(), Weekday::Sat);
        assert!(!is_allowed(&p, local(BERLIN, 2026, 1, 17, 11, 0)));
        assert!(!is_allowed(&p, local(BERLIN, 2026, 1, 18, 11, 0)));
    }

    #[test]
    fn working_days_are_read_in_the_persons_zone_not_in_utc() {
        // Monday 09:00 in Tokyo is Sunday 00:00 UTC.
        let p = person(TOKYO);
        let monday_morning = local(TOKYO, 2026, 1, 12, 9, 0);
        assert_eq!(monday_morning, utc(2026, 1, 12, 0, 0));
        assert!(is_allowed(&p, monday_morning));
        // Saturday 00:30 UTC is Saturday 09:30 in Tokyo.
        assert!(!is_allowed(&p, utc(2026, 1, 17, 0, 30)));
    }

    #[test]
    fn away_days_are_not_allowed_through_the_last_day_inclusive() {
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2026, 1, 14)));
        assert!(!is_allowed(&p, local(BERLIN, 2026, 1, 13, 11, 0)));
        assert!(!is_allowed(&p, local(BERLIN, 2026, 1, 14, 17, 59)));
        assert!(is_allowed(&p, local(BERLIN, 2026, 1, 15, 9, 0)));
        assert!(is_away(&p, local(BERLIN, 2026, 1, 14, 23, 59)));
        assert!(!is_away(&p, local(BERLIN, 2026, 1, 15, 0, 0)));
    }

    // ---- next_allowed ----

    #[test]
    fn an_allowed_instant_is_its_own_next_allowed_moment() {
        let p = person(BERLIN);
        let at = local(BERLIN, 2026, 1, 13, 11, 7) + TimeDelta::seconds(13);
        assert_eq!(next_allowed(&p, at), Some(at));
    }

    #[test]
    fn early_morning_waits_for_the_start_of_the_same_day() {
        let p = person(BERLIN);
        assert_eq!(
            next_allowed(&p, local(BERLIN, 2026, 1, 13, 6, 0)),
            Some(local(BERLIN, 2026, 1, 13, 9, 0))
        );
    }

    #[test]
    fn friday_evening_waits_for_monday_morning() {
        let p = person(BERLIN);
        assert_eq!(d(2026, 1, 16).weekday(), Weekday::Fri);
        assert_eq!(
            next_allowed(&p, local(BERLIN, 2026, 1, 16, 18, 1)),
            Some(local(BERLIN, 2026, 1, 19, 9, 0))
        );
    }

    #[test]
    fn a_weekend_waits_for_monday_morning() {
        let p = person(NEW_YORK);
        assert_eq!(
            next_allowed(&p, local(NEW_YORK, 2026, 1, 17, 12, 0)),
            Some(local(NEW_YORK, 2026, 1, 19, 9, 0))
        );
        assert_eq!(
            next_allowed(&p, local(NEW_YORK, 2026, 1, 18, 23, 59)),
            Some(local(NEW_YORK, 2026, 1, 19, 9, 0))
        );
    }

    #[test]
    fn an_away_person_is_reached_the_morning_after_their_last_away_day() {
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2026, 1, 14)));
        assert_eq!(
            next_allowed(&p, local(BERLIN, 2026, 1, 12, 10, 0)),
            Some(local(BERLIN, 2026, 1, 15, 9, 0))
        );
        // Away through a Friday: back on Monday.
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2026, 1, 16)));
        assert_eq!(
            next_allowed(&p, local(BERLIN, 2026, 1, 12, 10, 0)),
            Some(local(BERLIN, 2026, 1, 19, 9, 0))
        );
    }

    #[test]
    fn a_long_absence_is_skipped_in_one_jump_not_searched_day_by_day() {
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2028, 6, 1)));
        assert_eq!(d(2028, 6, 2).weekday(), Weekday::Fri);
        assert_eq!(
            next_allowed(&p, local(BERLIN, 2026, 1, 12, 10, 0)),
            Some(local(BERLIN, 2028, 6, 2, 9, 0))
        );
    }

    #[test]
    fn impossible_hours_fall_back_to_nine_to_six_and_never_loop() {
        for (start, end) in [(t(18, 0), t(9, 0)), (t(9, 0), t(9, 0))] {
            let p = person_with(BERLIN, start, end, None);
            assert_eq!(
                next_allowed(&p, local(BERLIN, 2026, 1, 13, 6, 0)),
                Some(local(BERLIN, 2026, 1, 13, 9, 0))
            );
            assert!(is_allowed(&p, local(BERLIN, 2026, 1, 13, 17, 0)));
            assert!(!is_allowed(&p, local(BERLIN, 2026, 1, 13, 20, 0)));
        }
    }

    #[test]
    fn instants_outside_years_one_to_9999_have_no_allowed_moment() {
        let p = person(BERLIN);
        assert_eq!(next_allowed(&p, DateTime::<Utc>::MAX_UTC), None);
        assert_eq!(next_allowed(&p, DateTime::<Utc>::MIN_UTC), None);
        assert!(!is_allowed(&p, DateTime::<Utc>::MAX_UTC));
    }

    // ---- DST ----

    #[test]
    fn berlin_spring_forward_week_starts_at_nine_local_on_both_sides() {
        let p = person(BERLIN);
        assert_eq!(d(2026, 3, 29).weekday(), Weekday::Sun);
        // Friday before: CET (UTC+1). Monday after: CEST (UTC+2).
        let friday_end = local(BERLIN, 2026, 3, 27, 18, 0);
        assert_eq!(friday_end, utc(2026, 3, 27, 17, 0));
        let monday = next_allowed(&p, friday_end + TimeDelta::seconds(1)).unwrap();
        assert_eq!(monday, utc(2026, 3, 30, 7, 0));
        assert_eq!(monday.with_timezone(&BERLIN).time(), t(9, 0));
        // The weekend lost an hour: 62 h, not 63 h.
        assert_eq!(monday - friday_end, TimeDelta::hours(62));
        // The change day itself is a Sunday: nothing at 09:00 local.
        assert!(!is_allowed(&p, local(BERLIN, 2026, 3, 29, 9, 0)));
        assert_eq!(next_allowed(&p, local(BERLIN, 2026, 3, 29, 9, 0)), Some(monday));
    }

    #[test]
    fn berlin_fall_back_week_starts_at_nine_local_on_both_sides() {
        let p = person(BERLIN);
        assert_eq!(d(2026, 10, 25).weekday(), Weekday::Sun);
        let friday_end = local(BERLIN, 2026, 10, 23, 18, 0);
        assert_eq!(friday_end, utc(2026, 10, 23, 16, 0));
        let monday = next_allowed(&p, local(BERLIN, 2026, 10, 25, 9, 0)).unwrap();
        assert_eq!(monday, utc(2026, 10, 26, 8, 0));
        assert_eq!(monday.with_timezone(&BERLIN).time(), t(9, 0));
        assert_eq!(monday - friday_end, TimeDelta::hours(64));
    }

    #[test]
    fn new_york_spring_forward_week_starts_at_nine_local_on_both_sides() {
        let p = person(NEW_YORK);
        assert_eq!(d(2026, 3, 8).weekday(), Weekday::Sun);
        assert_eq!(
            next_allowed(&p, local(NEW_YORK, 2026, 3, 6, 6, 0)),
            Some(utc(2026, 3, 6, 14, 0))
        );
        let monday = next_allowed(&p, local(NEW_YORK, 2026, 3, 8, 12, 0)).unwrap();
        assert_eq!(monday, utc(2026, 3, 9, 13, 0));
        assert_eq!(monday.with_timezone(&NEW_YORK).time(), t(9, 0));
    }

    #[test]
    fn new_york_fall_back_week_starts_at_nine_local_on_both_sides() {
        let p = person(NEW_YORK);
        assert_eq!(d(2026, 11, 1).weekday(), Weekday::Sun);
        assert_eq!(
            digest_slot(&p, local(NEW_YORK, 2026, 10, 30, 6, 0)),
            Some((d(2026, 10, 30), utc(2026, 10, 30, 13, 0)))
        );
        assert_eq!(
            digest_slot(&p, local(NEW_YORK, 2026, 11, 1, 12, 0)),
            Some((d(2026, 11, 2), utc(2026, 11, 2, 14, 0)))
        );
    }

    #[test]
    fn hours_that_start_in_a_spring_gap_start_when_the_clock_reaches_them() {
        // Cairo springs forward at 00:00 on Friday 2026-04-24 (to 01:00); a
        // 00:30 start reads as 01:30 local that day, like schedule::localize.
        let cairo = Tz::Africa__Cairo;
        let p = person_with(cairo, t(0, 30), t(8, 0), None);
        assert_eq!(d(2026, 4, 24).weekday(), Weekday::Fri);
        let start = next_allowed(&p, utc(2026, 4, 23, 20, 0)).unwrap();
        assert_eq!(start, localize(cairo, d(2026, 4, 24), t(0, 30)));
        assert_eq!(start.with_timezone(&cairo).time(), t(1, 30));
    }

    // ---- last_allowed_before ----

    #[test]
    fn the_last_moment_before_an_early_meeting_is_the_previous_working_days_end() {
        let p = person(BERLIN);
        let tuesday_eight = local(BERLIN, 2026, 1, 13, 8, 0);
        assert_eq!(
            last_allowed_before(&p, tuesday_eight, tuesday_eight - TimeDelta::days(3)),
            Some(local(BERLIN, 2026, 1, 12, 18, 0))
        );
        // Monday: back over the weekend to Friday's end.
        let monday_eight = local(BERLIN, 2026, 1, 19, 8, 0);
        assert_eq!(
            last_allowed_before(&p, monday_eight, monday_eight - TimeDelta::days(4)),
            Some(local(BERLIN, 2026, 1, 16, 18, 0))
        );
    }

    #[test]
    fn inside_working_hours_the_last_moment_is_one_second_before() {
        let p = person(BERLIN);
        let at = local(BERLIN, 2026, 1, 13, 11, 0);
        assert_eq!(
            last_allowed_before(&p, at, at - TimeDelta::hours(5)),
            Some(at - TimeDelta::seconds(1))
        );
        // A range shorter than a second still has its first instant.
        let nb = at - TimeDelta::milliseconds(300);
        assert_eq!(last_allowed_before(&p, at, nb), Some(nb));
    }

    #[test]
    fn a_range_with_no_working_period_has_no_last_moment() {
        let p = person(BERLIN);
        // Saturday to Sunday.
        let sunday = local(BERLIN, 2026, 1, 18, 20, 0);
        assert_eq!(last_allowed_before(&p, sunday, local(BERLIN, 2026, 1, 17, 0, 0)), None);
        // Friday 18:00 is allowed, a second later is not.
        let friday_end = local(BERLIN, 2026, 1, 16, 18, 0);
        assert_eq!(last_allowed_before(&p, sunday, friday_end), Some(friday_end));
        assert_eq!(
            last_allowed_before(&p, sunday, friday_end + TimeDelta::seconds(1)),
            None
        );
        // An empty or reversed range.
        assert_eq!(last_allowed_before(&p, sunday, sunday), None);
        assert_eq!(last_allowed_before(&p, sunday, sunday + TimeDelta::days(1)), None);
    }

    #[test]
    fn the_search_back_stops_at_the_away_days() {
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2026, 1, 14)));
        let thursday = local(BERLIN, 2026, 1, 15, 12, 0);
        assert_eq!(
            last_allowed_before(&p, thursday, utc(2025, 1, 1, 0, 0)),
            Some(thursday - TimeDelta::seconds(1))
        );
        let thursday_early = local(BERLIN, 2026, 1, 15, 8, 0);
        assert_eq!(last_allowed_before(&p, thursday_early, utc(2025, 1, 1, 0, 0)), None);
    }

    // ---- agenda_send_at ----

    #[test]
    fn an_agenda_goes_lead_time_before_when_that_is_allowed() {
        let p = person(BERLIN);
        let meeting = local(BERLIN, 2026, 1, 13, 10, 0);
        assert_eq!(
            agenda_send_at(&p, meeting, TimeDelta::hours(24)),
            Some(local(BERLIN, 2026, 1, 12, 10, 0))
        );
    }

    #[test]
    fn an_agenda_due_before_hours_waits_for_the_start_when_that_is_before_the_meeting() {
        let p = person(BERLIN);
        let meeting = local(BERLIN, 2026, 1, 13, 8, 30);
        assert_eq!(
            agenda_send_at(&p, meeting, TimeDelta::hours(24)),
            Some(local(BERLIN, 2026, 1, 12, 9, 0))
        );
    }

    #[test]
    fn a_monday_morning_agenda_goes_at_fridays_end_not_as_the_meeting_starts() {
        let p = person(BERLIN);
        let friday_end = local(BERLIN, 2026, 1, 16, 18, 0);
        // 08:00: before hours. 09:00: the next allowed moment is the meeting itself.
        for meeting in [local(BERLIN, 2026, 1, 19, 8, 0), local(BERLIN, 2026, 1, 19, 9, 0)] {
            assert_eq!(agenda_send_at(&p, meeting, TimeDelta::hours(24)), Some(friday_end));
            assert_eq!(agenda_send_at(&p, meeting, TimeDelta::hours(1)), Some(friday_end));
        }
    }

    #[test]
    fn a_tokyo_recipient_of_a_los_angeles_nine_oclock_gets_it_in_their_own_hours() {
        let p = person(TOKYO);
        // Tuesday 09:00 PDT is Wednesday 01:00 in Tokyo.
        let meeting = local(LOS_ANGELES, 2026, 6, 16, 9, 0);
        assert_eq!(
            meeting.with_timezone(&TOKYO).naive_local(),
            d(2026, 6, 17).and_time(t(1, 0))
        );
        // 24 h lead: the window starts Tuesday 01:00 Tokyo, its first allowed moment is 09:00.
        assert_eq!(
            agenda_send_at(&p, meeting, TimeDelta::hours(24)),
            Some(local(TOKYO, 2026, 6, 16, 9, 0))
        );
        // 1 h lead: the window (Wednesday 00:00–01:00) has none; the previous working day's end.
        assert_eq!(
            agenda_send_at(&p, meeting, TimeDelta::hours(1)),
            Some(local(TOKYO, 2026, 6, 16, 18, 0))
        );
        // In winter it is 02:00 in Tokyo; same answer shape.
        let winter = local(LOS_ANGELES, 2026, 1, 13, 9, 0);
        assert_eq!(
            winter.with_timezone(&TOKYO).naive_local(),
            d(2026, 1, 14).and_time(t(2, 0))
        );
        assert_eq!(
            agenda_send_at(&p, winter, TimeDelta::hours(1)),
            Some(local(TOKYO, 2026, 1, 13, 18, 0))
        );
    }

    #[test]
    fn an_agenda_goes_at_once_when_no_moment_before_the_meeting_is_allowed() {
        // Away through Sunday, the meeting Monday 08:00: at the moment they are back
        // (Monday 00:00 local), before the meeting.
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2026, 1, 18)));
        let meeting = local(BERLIN, 2026, 1, 19, 8, 0);
        assert_eq!(
            agenda_send_at(&p, meeting, TimeDelta::hours(24)),
            Some(local(BERLIN, 2026, 1, 19, 0, 0))
        );
        // Not away at the ideal time: the ideal time itself.
        assert_eq!(
            agenda_send_at(&p, meeting, TimeDelta::hours(2)),
            Some(local(BERLIN, 2026, 1, 19, 6, 0))
        );
    }

    #[test]
    fn an_away_person_gets_no_agenda_for_a_meeting_on_an_away_day() {
        let p = person_with(TOKYO, t(9, 0), t(18, 0), Some(d(2026, 6, 17)));
        // Wednesday 01:00 in Tokyo is an away day there (Tuesday in Los Angeles).
        assert_eq!(
            agenda_send_at(&p, local(LOS_ANGELES, 2026, 6, 16, 9, 0), TimeDelta::hours(24)),
            None
        );
        assert!(agenda_send_at(&p, local(TOKYO, 2026, 6, 18, 10, 0), TimeDelta::hours(24)).is_some());
    }

    #[test]
    fn an_agenda_waits_for_a_person_back_before_the_meeting() {
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2026, 1, 12)));
        let meeting = local(BERLIN, 2026, 1, 13, 15, 0);
        assert_eq!(
            agenda_send_at(&p, meeting, TimeDelta::hours(24)),
            Some(local(BERLIN, 2026, 1, 13, 9, 0))
        );
    }

    #[test]
    fn a_zero_or_negative_lead_sends_at_an_allowed_meeting_start() {
        let p = person(BERLIN);
        let meeting = local(BERLIN, 2026, 1, 13, 10, 0);
        assert_eq!(agenda_send_at(&p, meeting, TimeDelta::zero()), Some(meeting));
        assert_eq!(agenda_send_at(&p, meeting, TimeDelta::hours(-3)), Some(meeting));
    }

    // ---- follow_up_send_at ----

    #[test]
    fn a_follow_up_goes_an_hour_after_the_end_inside_hours() {
        let p = person(BERLIN);
        assert_eq!(
            follow_up_send_at(&p, local(BERLIN, 2026, 1, 13, 10, 30)),
            Some(local(BERLIN, 2026, 1, 13, 11, 30))
        );
    }

    #[test]
    fn a_follow_up_after_a_late_friday_meeting_waits_for_monday() {
        let p = person(BERLIN);
        assert_eq!(
            follow_up_send_at(&p, local(BERLIN, 2026, 1, 16, 17, 30)),
            Some(local(BERLIN, 2026, 1, 19, 9, 0))
        );
    }

    #[test]
    fn a_follow_up_waits_until_an_away_person_is_back() {
        let p = person_with(BERLIN, t(9, 0), t(18, 0), Some(d(2026, 1, 14)));
        assert_eq!(
            follow_up_send_at(&p, local(BERLIN, 2026, 1, 13, 10, 0)),
            Some(local(BERLIN, 2026, 1, 15, 9, 0))
        );
    }

    // ---- digest_slot ----

    #[test]
    fn the_digest_slot_is_todays_start_before_and_during_hours() {
        let p = person(BERLIN);
        let start = local(BERLIN, 2026, 1, 13, 9, 0);
        for now in [local(BERLIN, 2026, 1, 13, 6, 0), local(BERLIN, 2026, 1, 13, 15, 0)] {
            assert_eq!(digest_slot(&p, now), Some((d(2026, 1, 13), start)));
        }
    }

    #[test]
    fn after_hours_and_on_weekends_the_digest_slot_is_the_next_working_morning() {
        let p = person(BERLIN);
        assert_eq!(
            digest_slot(&p, local(BERLIN, 2026, 1, 13, 19, 0)),
            Some((d(2026, 1, 14), local(BERLIN, 2026, 1, 14, 9, 0)))
        );
        assert_eq!(
            digest_slot(&p, local(BERLIN, 2026, 1, 17, 11, 0)),
            Some((d(2026, 1, 19), local(BERLIN, 2026, 1, 19, 9, 0)))
        );
    }

    #[test]
    fn the_digest_slot_key_is_the_local_date_and_skips_away_days() {
        // Tokyo Tuesday 09:00 is Monday 00:00 UTC: the key is Tokyo's Tuesday.
        let p = person(TOKYO);
        assert_eq!(
            digest_slot(&p, utc(2026, 1, 12, 20, 0)),
            Some((d(2026, 1, 13), utc(2026, 1, 13, 0, 0)))
        );
        let away = person_with(TOKYO, t(9, 0), t(18, 0), Some(d(2026, 1, 13)));
        assert_eq!(
            digest_slot(&away, utc(2026, 1, 12, 20, 0)),
            Some((d(2026, 1, 14), utc(2026, 1, 14, 0, 0)))
        );
    }

    // ---- is_overdue ----

    #[test]
    fn a_new_series_is_overdue_once_the_threshold_passes_without_a_held_meeting() {
        let created = utc(2026, 1, 1, 10, 0);
        let at = |days: i64| created + TimeDelta::days(days);
        assert_eq!(is_overdue(None, created, at(13), 14, &[]), None);
        assert_eq!(is_overdue(None, created, at(13) + TimeDelta::hours(23), 14, &[]), None);
        assert_eq!(
            is_overdue(None, created, at(14), 14, &[]),
            Some(OverdueReason::NoneHeldFor(14))
        );
    }

    #[test]
    fn the_gap_counts_from_the_last_held_meeting_and_the_workspace_threshold() {
        let created = utc(2025, 1, 1, 10, 0);
        let held = utc(2026, 1, 1, 10, 0);
        let now = held + TimeDelta::days(20);
        assert_eq!(
            is_overdue(
                Some(held),
                created,
                now,
                DEFAULT_OVERDUE_AFTER_DAYS,
                &[MeetingState::Held]
            ),
            Some(OverdueReason::NoneHeldFor(20))
        );
        assert_eq!(is_overdue(Some(held), created, now, 21, &[MeetingState::Held]), None);
        // Zero turns the gap rule off; a clock behind the last meeting is no gap.
        assert_eq!(is_overdue(Some(held), created, now, 0, &[MeetingState::Held]), None);
        assert_eq!(
            is_overdue(Some(held), created, held - TimeDelta::days(3), 14, &[]),
            None
        );
    }

    #[test]
    fn two_skips_in_a_row_make_a_series_overdue() {
        use MeetingState::*;
        let created = utc(2026, 1, 1, 10, 0);
        let held = utc(2026, 1, 5, 10, 0);
        let now = held + TimeDelta::days(3);
        let check = |states: &[MeetingState]| is_overdue(Some(held), created, now, 14, states);
        assert_eq!(check(&[Skipped, Skipped]), Some(OverdueReason::SkippedTwiceInARow));
        assert_eq!(
            check(&[Skipped, Skipped, Held]),
            Some(OverdueReason::SkippedTwiceInARow)
        );
        assert_eq!(
            check(&[Skipped, Upcoming, Skipped]),
            Some(OverdueReason::SkippedTwiceInARow)
        );
        assert_eq!(check(&[Skipped]), None);
        assert_eq!(check(&[Skipped, Held, Skipped]), None);
        assert_eq!(check(&[Held, Skipped, Skipped]), None);
        assert_eq!(check(&[]), None);
    }

    #[test]
    fn when_both_rules_apply_the_gap_is_reported() {
        let created = utc(2026, 1, 1, 10, 0);
        let states = [MeetingState::Skipped, MeetingState::Skipped];
        assert_eq!(
            is_overdue(None, created, created + TimeDelta::days(30), 14, &states),
            Some(OverdueReason::NoneHeldFor(30))
        );
    }

    // ---- is_stuck ----

    #[test]
    fn an_open_point_is_stuck_after_three_rollovers_and_a_discussed_one_never() {
        assert!(!is_stuck(&point(0, PointState::Open)));
        assert!(!is_stuck(&point(2, PointState::Open)));
        assert!(is_stuck(&point(3, PointState::Open)));
        assert!(is_stuck(&point(7, PointState::Open)));
        assert!(!is_stuck(&point(3, PointState::Discussed)));
    }

    // ---- properties ----

    const ZONES: &[Tz] = &[
        Tz::UTC,
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::America__Los_Angeles,
        Tz::America__St_Johns,
        Tz::America__Santiago,
        Tz::Asia__Tokyo,
        Tz::Asia__Kolkata,
        Tz::Australia__Lord_Howe,
        Tz::Africa__Cairo,
        Tz::Pacific__Chatham,
        Tz::Pacific__Kiritimati,
        Tz::Pacific__Pago_Pago,
    ];

    fn zone() -> impl Strategy<Value = Tz> {
        (0..ZONES.len()).prop_map(|i| ZONES[i])
    }
    fn instant_2024_2030() -> impl Strategy<Value = DateTime<Utc>> {
        let lo = utc(2024, 1, 1, 0, 0).timestamp();
        let hi = utc(2031, 1, 1, 0, 0).timestamp();
        (lo..hi).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }
    /// Working hours with start < end, at minute resolution.
    fn hours_strategy() -> impl Strategy<Value = (NaiveTime, NaiveTime)> {
        (0u32..1439)
            .prop_flat_map(|start| (Just(start), (start + 1)..1440))
            .prop_map(|(s, e)| (t(s / 60, s % 60), t(e / 60, e % 60)))
    }
    fn someone() -> impl Strategy<Value = Person> {
        let away = proptest::option::weighted(0.3, (2024i32..=2030, 1u32..=12, 1u32..=28));
        (zone(), hours_strategy(), away)
            .prop_map(|(tz, (start, end), away)| person_with(tz, start, end, away.map(|(y, m, day)| d(y, m, day))))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn next_allowed_is_never_before_and_always_allowed(p in someone(), at in instant_2024_2030()) {
            let next = next_allowed(&p, at);
            prop_assert!(next.is_some());
            let next = next.unwrap();
            prop_assert!(next >= at);
            prop_assert!(is_allowed(&p, next));
            prop_assert_eq!(next == at, is_allowed(&p, at));
            prop_assert!(!is_away(&p, next));
            // Nothing allowed in between (checked a second later).
            if next > at + TimeDelta::seconds(1) {
                prop_assert!(!is_allowed(&p, at + TimeDelta::seconds(1)));
            }
        }

        #[test]
        fn last_allowed_before_is_the_latest_allowed_instant_in_the_range(
            p in someone(),
            before in instant_2024_2030(),
            back_secs in 0i64..(30 * 86_400),
        ) {
            let not_before = before - TimeDelta::seconds(back_secs);
            match last_allowed_before(&p, before, not_before) {
                Some(last) => {
                    prop_assert!(not_before <= last && last < before);
                    prop_assert!(is_allowed(&p, last));
                    let later = next_allowed(&p, last + TimeDelta::seconds(1));
                    prop_assert!(later.is_none_or(|n| n >= before), "{:?} after {}", later, last);
                }
                None => {
                    let first = next_allowed(&p, not_before);
                    prop_assert!(first.is_none_or(|f| f >= before), "{:?} in range", first);
                }
            }
        }

        #[test]
        fn an_agenda_is_never_after_its_meeting_and_allowed_whenever_possible(
            p in someone(),
            meeting in instant_2024_2030(),
            lead_minutes in 0i64..(3 * 24 * 60),
        ) {
            let lead = TimeDelta::minutes(lead_minutes);
            let got = agenda_send_at(&p, meeting, lead);
            prop_assert_eq!(got.is_none(), is_away(&p, meeting));
            if let Some(at) = got {
                prop_assert!(at <= meeting);
                let ideal = meeting - lead;
                let window_start = ideal - AGENDA_LOOKBACK;
                let any_before = next_allowed(&p, window_start).is_some_and(|f| f < meeting);
                if any_before {
                    prop_assert!(is_allowed(&p, at), "{} not allowed", at);
                    prop_assert!(at < meeting || lead.is_zero());
                    prop_assert!(at >= window_start);
                } else {
                    prop_assert!(at >= ideal);
                    prop_assert!(!is_away(&p, at));
                }
            }
        }

        #[test]
        fn the_digest_slot_is_an_allowed_working_morning_not_yet_over(p in someone(), now in instant_2024_2030()) {
            let (day, start) = digest_slot(&p, now).unwrap();
            prop_assert!(is_allowed(&p, start));
            prop_assert!(is_working_day(day));
            prop_assert!(!is_away_on(&p, day));
            prop_assert_eq!(start, localize(p.tz(), day, hours(&p).0));
            // Either it is still ahead, or `now` is inside that period.
            prop_assert!(start > now || is_allowed(&p, now));
        }
    }
}
