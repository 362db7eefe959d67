//! The store contract: every operation behaves the same on SQLite and on
//! PostgreSQL. Each scenario runs on both (the PostgreSQL copy returns early,
//! loudly, when the engine is not configured).

use super::*;
use chrono::{Duration, TimeZone, Weekday};

macro_rules! contract {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run($db: Db) $body
            #[tokio::test]
            async fn on_sqlite() {
                run(testing::fresh_sqlite().await).await;
            }
            #[tokio::test]
            async fn on_postgres() {
                if let Some(db) = testing::fresh_postgres().await {
                    run(db).await;
                }
            }
        }
    };
    // Scenarios about concurrency run their tasks on several threads.
    ($name:ident, multi_thread, |$db:ident| $body:block) => {
        mod $name {
            use super::*;
            async fn run($db: Db) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_sqlite() {
                run(testing::fresh_sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn on_postgres() {
                if let Some(db) = testing::fresh_postgres().await {
                    run(db).await;
                }
            }
        }
    };
}
pub(super) use contract;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
}

fn profile(id: &str, name: &str) -> Profile {
    Profile {
        external_id: id.into(),
        display_name: name.into(),
        email: Some(format!("{name}@Example.com")),
        tz: Some(chrono_tz::Europe::Berlin),
        is_bot: false,
        deleted: false,
    }
}

struct Pair {
    ws: Workspace,
    m: Person,
    r: Person,
    s: Series,
}

async fn pair(db: &Db) -> Pair {
    let ws = db.ensure_workspace(Platform::Slack, "T1", "acme").await.unwrap();
    let m = db.upsert_profile(ws.id, &profile("U1", "maria"), t0()).await.unwrap();
    let r = db.upsert_profile(ws.id, &profile("U2", "rahul"), t0()).await.unwrap();
    let s = db.create_series(&new_series(ws.id, m.id, r.id)).await.unwrap();
    Pair { ws, m, r, s }
}

fn new_series(ws: WorkspaceId, m: PersonId, r: PersonId) -> NewSeries {
    NewSeries {
        workspace_id: ws,
        manager_id: m,
        report_id: r,
        cadence: Cadence::Weekly {
            interval: 2,
            weekday: Weekday::Tue,
        },
        time: NaiveTime::from_hms_opt(10, 30, 0).unwrap(),
        tz: chrono_tz::Europe::Berlin,
        duration_minutes: 45,
        template: Some("weekly check-in".into()),
        lead_minutes: 1440,
        anchor_date: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        created_at: t0(),
    }
}

contract!(workspaces_are_upserted_and_keep_their_name, |db| {
    let a = db.ensure_workspace(Platform::Slack, "T1", "acme").await.unwrap();
    let b = db.ensure_workspace(Platform::Slack, "T1", "").await.unwrap();
    assert_eq!(a, b);
    assert_eq!(b.name, "acme");
    assert_eq!(b.overdue_after_days, 14);
    let teams = db.ensure_workspace(Platform::Teams, "T1", "acme").await.unwrap();
    assert_ne!(teams.id, a.id);
    assert_eq!(db.workspace(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(db.workspace_by_external(Platform::Slack, "T1").await.unwrap(), Some(a));
    assert_eq!(db.workspace_by_external(Platform::Slack, "T9").await.unwrap(), None);
    assert!(db.is_migrated().await.unwrap());
    db.ping().await.unwrap();
});

contract!(people_are_scoped_to_their_workspace_and_keep_their_settings, |db| {
    let w1 = db.ensure_workspace(Platform::Slack, "T1", "one").await.unwrap();
    let w2 = db.ensure_workspace(Platform::Slack, "T2", "two").await.unwrap();
    let p = db.upsert_profile(w1.id, &profile("U1", "maria"), t0()).await.unwrap();
    assert_eq!(p.tz(), chrono_tz::Europe::Berlin);
    assert_eq!(p.profile_refreshed_at, Some(t0()));
    assert!(
        db.person(w2.id, p.id).await.unwrap().is_none(),
        "never across workspaces"
    );
    assert!(db.person_by_external(w2.id, "U1").await.unwrap().is_none());
    let mut changed = p.clone();
    changed.tz_override = Some(chrono_tz::Asia::Tokyo);
    changed.work_start = NaiveTime::from_hms_opt(8, 15, 0).unwrap();
    changed.work_end = NaiveTime::from_hms_opt(16, 45, 0).unwrap();
    changed.nudges = false;
    changed.away_until = NaiveDate::from_ymd_opt(2026, 12, 24);
    db.save_person_settings(&changed).await.unwrap();
    let refreshed = db
        .upsert_profile(w1.id, &profile("U1", "maria k"), t0() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(refreshed.display_name, "maria k");
    assert_eq!(refreshed.tz_override, changed.tz_override);
    assert_eq!(refreshed.work_start, changed.work_start);
    assert!(!refreshed.nudges);
    assert_eq!(refreshed.away_until, changed.away_until);
    assert_eq!(
        db.ensure_person(w1.id, "U1", "other").await.unwrap().display_name,
        "maria k"
    );
    let fresh = db.ensure_person(w1.id, "U7", "newbie").await.unwrap();
    assert_eq!(fresh.profile_refreshed_at, None);
    assert_eq!(fresh.work_start, default_work_start());
    assert_eq!(db.people_by_email(w1.id, "MARIA K@example.COM").await.unwrap().len(), 1);
    assert_eq!(db.people_by_email(w2.id, "maria@example.com").await.unwrap().len(), 0);
    assert_eq!(db.people_by_name(w1.id, "Maria K").await.unwrap().len(), 1);
    assert_eq!(db.people_by_name(w1.id, "u7").await.unwrap().len(), 1);
});

contract!(one_series_per_pair_in_either_direction, |db| {
    let Pair { ws, m, r, s } = pair(&db).await;
    assert_eq!(
        s.cadence,
        Cadence::Weekly {
            interval: 2,
            weekday: Weekday::Tue
        }
    );
    assert_eq!(s.time, NaiveTime::from_hms_opt(10, 30, 0).unwrap());
    assert_eq!(s.state, SeriesState::Active);
    let clash = db.create_series(&new_series(ws.id, r.id, m.id)).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))));
    assert_eq!(db.series_between(ws.id, r.id, m.id).await.unwrap(), Some(s.clone()));
    let other = db.ensure_workspace(Platform::Slack, "T2", "two").await.unwrap();
    assert!(
        db.series(other.id, s.id).await.unwrap().is_none(),
        "never across workspaces"
    );
    let mut s2 = s.clone();
    s2.manager_id = r.id;
    s2.report_id = m.id;
    s2.cadence = Cadence::Cron("0 0 9 * * Fri".into());
    s2.state = SeriesState::Ended;
    s2.template = None;
    db.update_series(&s2).await.unwrap();
    assert_eq!(db.series(ws.id, s.id).await.unwrap(), Some(s2));
    assert!(db.series_for_person(ws.id, m.id, false).await.unwrap().is_empty());
    assert_eq!(db.series_for_person(ws.id, m.id, true).await.unwrap().len(), 1);
});

contract!(meetings_are_created_once_per_slot_and_close_once, |db| {
    let Pair { m, r, s, .. } = pair(&db).await;
    let slot = t0() + Duration::days(1);
    let (a, created) = db.insert_meeting(s.id, slot, slot).await.unwrap();
    assert!(created);
    let (b, again) = db.insert_meeting(s.id, slot, slot).await.unwrap();
    assert!(!again);
    assert_eq!(a, b);
    let (next, _) = db
        .insert_meeting(s.id, slot + Duration::days(14), slot + Duration::days(14))
        .await
        .unwrap();
    assert_eq!(db.pending_meetings(s.id).await.unwrap().len(), 2);
    assert_eq!(
        db.last_meeting_by_slot(s.id).await.unwrap().map(|x| x.id),
        Some(next.id)
    );
    let p1 = db
        .add_talking_point(a.id, r.id, Category::Goals, "stays", t0())
        .await
        .unwrap();
    let p2 = db
        .add_talking_point(a.id, m.id, Category::Other, "rolls", t0())
        .await
        .unwrap();
    db.add_talking_point(next.id, m.id, Category::Other, "already there", t0())
        .await
        .unwrap();
    db.set_point_state(p1.id, PointState::Discussed).await.unwrap();
    db.add_comment(p2.id, r.id, "comment travels", t0()).await.unwrap();
    let rolled = db
        .close_meeting(a.id, MeetingState::Held, None, t0(), Some(next.id))
        .await
        .unwrap();
    assert_eq!(rolled, 1);
    let again = db
        .close_meeting(a.id, MeetingState::Skipped, Some("x"), t0(), Some(next.id))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let closed = db.meeting(a.id).await.unwrap().unwrap();
    assert_eq!(closed.state, MeetingState::Held);
    assert_eq!(closed.closed_at, Some(t0()));
    let moved = db.talking_points(next.id).await.unwrap();
    assert_eq!(
        moved.iter().map(|p| (p.text.as_str(), p.position)).collect::<Vec<_>>(),
        [("already there", 1), ("rolls", 2)]
    );
    assert_eq!(moved[1].rollover_count, 1);
    assert_eq!(moved[1].origin_meeting_id, a.id);
    assert_eq!(moved[1].author_id, m.id);
    assert_eq!(
        db.comments_for_meeting(next.id).await.unwrap()[0].text,
        "comment travels"
    );
    assert_eq!(db.talking_points(a.id).await.unwrap().len(), 1, "discussed points stay");
    assert_eq!(db.closed_meetings(s.id, 5).await.unwrap().len(), 1);
    let later = next.scheduled_at + Duration::hours(3);
    db.reschedule_meeting(next.id, later).await.unwrap();
    let moved_meeting = db.meeting(next.id).await.unwrap().unwrap();
    assert_eq!(
        (moved_meeting.state, moved_meeting.scheduled_at, moved_meeting.slot),
        (MeetingState::Rescheduled, later, next.slot)
    );
    assert!(matches!(
        db.reschedule_meeting(a.id, later).await,
        Err(StoreError::Conflict(_))
    ));
    let skipped = db
        .close_meeting(next.id, MeetingState::Skipped, Some("sick"), t0(), None)
        .await
        .unwrap();
    assert_eq!(skipped, 0);
    assert_eq!(
        db.meeting(next.id).await.unwrap().unwrap().skip_reason.as_deref(),
        Some("sick")
    );
});

contract!(concurrent_adds_get_distinct_positions, |db| {
    let Pair { r, s, .. } = pair(&db).await;
    let (m, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.add_talking_point(m.id, r.id, Category::Other, &format!("p{i}"), t0())
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut positions: Vec<i64> = db
        .talking_points(m.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.position)
        .collect();
    positions.sort();
    assert_eq!(positions, (1..=20).collect::<Vec<_>>());
});

/// A meeting of `s` at `t0()`, and a later one of the same 1:1 holding one
/// talking point by `author`.
async fn meeting_beside_one_with_a_point(db: &Db, s: &Series, author: PersonId) -> Meeting {
    let (meeting, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    let (other, _) = db
        .insert_meeting(s.id, t0() + Duration::days(14), t0() + Duration::days(14))
        .await
        .unwrap();
    db.add_talking_point(other.id, author, Category::Other, "elsewhere", t0())
        .await
        .unwrap();
    meeting
}

contract!(a_points_number_is_its_place_on_the_agenda, |db| {
    let Pair { m, r, s, .. } = pair(&db).await;
    // Another meeting's points do not count.
    let meeting = meeting_beside_one_with_a_point(&db, &s, m.id).await;
    let mut added = Vec::new();
    for (i, who) in [m.id, r.id, m.id].into_iter().enumerate() {
        added.push(
            db.append_point(s.id, meeting.id, who, Category::Other, &format!("p{i}"), t0())
                .await
                .unwrap(),
        );
    }
    let listed = db.talking_points(meeting.id).await.unwrap();
    for (tp, n) in &added {
        let place = listed.iter().position(|x| x.id == tp.id).unwrap() as u64 + 1;
        assert_eq!(*n, place);
    }
});

contract!(
    an_appended_point_knows_its_place_and_marks_its_series_for_planning,
    |db| {
        let Pair { m, r, s, .. } = pair(&db).await;
        let meeting = meeting_beside_one_with_a_point(&db, &s, m.id).await;
        let first = db
            .add_talking_point(meeting.id, m.id, Category::Other, "first", t0())
            .await
            .unwrap();
        db.add_talking_point(meeting.id, r.id, Category::Other, "second", t0())
            .await
            .unwrap();
        // A gap in the positions (the first point removed) does not confuse the count.
        assert!(db.delete_talking_point(first.id).await.unwrap());
        let later = t0() + Duration::days(30);
        db.set_plan_at(s.id, later).await.unwrap();
        assert!(db.series_due_for_planning(t0(), 10).await.unwrap().is_empty());

        let (tp, n) = db
            .append_point(s.id, meeting.id, r.id, Category::Feedback, "third", t0())
            .await
            .unwrap();
        assert_eq!(
            (tp.text.as_str(), tp.author_id, tp.category),
            ("third", r.id, Category::Feedback)
        );
        let listed = db.talking_points(meeting.id).await.unwrap();
        assert_eq!(listed.last().map(|x| x.id), Some(tp.id), "appended at the end");
        assert_eq!(n, 2);
        assert_eq!(listed.iter().position(|x| x.id == tp.id).map(|i| i as u64 + 1), Some(n));
        let due: Vec<SeriesId> = db
            .series_due_for_planning(t0(), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(due, vec![s.id], "marked for the next pass");
        // Already marked: the next append keeps it so.
        let (_, n) = db
            .append_point(s.id, meeting.id, m.id, Category::Other, "fourth", t0())
            .await
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(db.series_due_for_planning(t0(), 10).await.unwrap().len(), 1);
    }
);

contract!(the_caller_is_found_by_the_platform_ids, |db| {
    let Pair { ws, m, .. } = pair(&db).await;
    assert_eq!(
        db.caller(Platform::Slack, "T1", "U1").await.unwrap(),
        (Some(ws.clone()), Some(m.clone()))
    );
    assert_eq!(
        db.caller(Platform::Slack, "T1", "U9").await.unwrap(),
        (Some(ws.clone()), None)
    );
    assert_eq!(db.caller(Platform::Slack, "T9", "U1").await.unwrap(), (None, None));
    // The same ids on another platform, or in another workspace, are someone else.
    assert_eq!(db.caller(Platform::Teams, "T1", "U1").await.unwrap(), (None, None));
    let two = db.ensure_workspace(Platform::Slack, "T2", "two").await.unwrap();
    let elsewhere = db
        .upsert_profile(two.id, &profile("U1", "other maria"), t0())
        .await
        .unwrap();
    assert_eq!(
        db.caller(Platform::Slack, "T2", "U1").await.unwrap(),
        (Some(two), Some(elsewhere))
    );
    assert_eq!(
        db.caller(Platform::Slack, "T1", "U1").await.unwrap(),
        (Some(ws), Some(m))
    );
});

contract!(the_caller_comes_with_their_partnerships_when_asked, |db| {
    let Pair { ws, m, r, s } = pair(&db).await;
    let (next, _) = db.insert_meeting(s.id, t0() + Duration::days(7), t0()).await.unwrap();
    let with = |person| db.caller_with(Platform::Slack, "T1", person, CallerWith::OneOnOnes);
    let read = with("U2").await.unwrap();
    assert_eq!((read.workspace, read.person), (Some(ws.clone()), Some(r.clone())));
    let pp = read.partnerships.expect("read with the caller");
    assert_eq!(pp, db.partnerships(ws.id, r.id, false).await.unwrap());
    assert_eq!(
        (&pp[0].series, &pp[0].partner, &pp[0].pending),
        (&s, &m, &Some(vec![next]))
    );

    // Ended 1:1s are not among them (what a pick of a 1:1 not ended reads).
    let mut ended = s.clone();
    ended.state = SeriesState::Ended;
    db.update_series(&ended).await.unwrap();
    assert_eq!(with("U2").await.unwrap().partnerships, Some(vec![]));
    // An unknown person or workspace: nothing to read them for.
    assert_eq!(
        with("U9").await.unwrap(),
        CallerRead {
            workspace: Some(ws),
            ..CallerRead::default()
        }
    );
    assert_eq!(
        db.caller_with(Platform::Slack, "T9", "U2", CallerWith::OneOnOnes)
            .await
            .unwrap(),
        CallerRead::default()
    );
});

contract!(
    the_caller_comes_with_the_agenda_of_their_only_one_on_one_when_asked,
    |db| {
        let Pair { ws, m, r, s } = pair(&db).await;
        // A meeting a week ago (over), one in progress at `during`, the next.
        let at = |days| t0() + Duration::days(days);
        let (old, _) = db.insert_meeting(s.id, at(-7), at(-7)).await.unwrap();
        let (now_on, _) = db.insert_meeting(s.id, at(0), at(0)).await.unwrap();
        let (next, _) = db.insert_meeting(s.id, at(7), at(7)).await.unwrap();
        for mt in [&old, &now_on, &next] {
            db.append_point(s.id, mt.id, r.id, Category::Other, &format!("point of {}", mt.id), t0())
                .await
                .unwrap();
        }
        db.add_private_note(next.id, r.id, "rahul's", t0()).await.unwrap();
        db.add_private_note(next.id, m.id, "maria's", t0()).await.unwrap();
        db.add_action_item(s.id, next.id, r.id, m.id, "an item", None, t0())
            .await
            .unwrap();
        let sqlite = matches!(db, Db::Sqlite(_));
        let read_as = |person, with| db.caller_with(Platform::Slack, "T1", person, with);

        let during = t0() + Duration::minutes(10);
        let read = read_as("U2", CallerWith::Agenda(during)).await.unwrap();
        assert_eq!((&read.workspace, &read.person), (&Some(ws.clone()), &Some(r.clone())));
        assert_eq!(
            read.partnerships,
            Some(db.partnerships(ws.id, r.id, false).await.unwrap())
        );
        if sqlite {
            // The earliest pending meeting not over, as the caller sees it.
            let want = db.agenda_content(now_on.id, s.id, r.id).await.unwrap();
            assert_eq!(read.agenda, Some((now_on.id, want)));
        } else {
            assert_eq!(read.agenda, None, "PostgreSQL reads the agenda apart");
        }
        // Once that one is over (45 minutes), the next; the viewer's own notes only.
        let after = t0() + Duration::minutes(46);
        let read = read_as("U2", CallerWith::Agenda(after)).await.unwrap();
        if sqlite {
            let (id, content) = read.agenda.expect("read with the caller");
            assert_eq!(id, next.id);
            assert_eq!(content, db.agenda_content(next.id, s.id, r.id).await.unwrap());
            assert_eq!(
                content.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
                ["rahul's"]
            );
            assert_eq!(content.items.len(), 1);
        }
        // Not asked for: none.
        for with in [CallerWith::Nothing, CallerWith::OneOnOnes] {
            let read = read_as("U2", with).await.unwrap();
            assert_eq!(read.agenda, None);
            assert_eq!(read.partnerships.is_some(), with == CallerWith::OneOnOnes);
        }
        // No pending meeting left to show: none.
        let read = read_as("U2", CallerWith::Agenda(t0() + Duration::days(8)))
            .await
            .unwrap();
        assert_eq!(read.agenda, None);
        // Two 1:1s: which one is the command's to find out.
        let r2 = db.upsert_profile(ws.id, &profile("U3", "chen"), t0()).await.unwrap();
        db.create_series(&new_series(ws.id, r.id, r2.id)).await.unwrap();
        let read = read_as("U2", CallerWith::Agenda(during)).await.unwrap();
        assert_eq!((read.partnerships.map(|pp| pp.len()), read.agenda), (Some(2), None));
        // An unknown caller: nothing read for them.
        let read = read_as("U9", CallerWith::Agenda(during)).await.unwrap();
        assert_eq!(
            read,
            CallerRead {
                workspace: Some(ws),
                ..CallerRead::default()
            }
        );
    }
);

contract!(partnerships_pair_each_series_with_the_partner, |db| {
    let Pair { ws, m, r, s } = pair(&db).await;
    let r2 = db.upsert_profile(ws.id, &profile("U3", "chen"), t0()).await.unwrap();
    let s2 = db.create_series(&new_series(ws.id, m.id, r2.id)).await.unwrap();
    let two = db.ensure_workspace(Platform::Slack, "T2", "two").await.unwrap();
    let m_two = db.upsert_profile(two.id, &profile("U1", "maria"), t0()).await.unwrap();
    let r_two = db.upsert_profile(two.id, &profile("U2", "rahul"), t0()).await.unwrap();
    db.create_series(&new_series(two.id, m_two.id, r_two.id)).await.unwrap();

    let pairs =
        |v: Vec<Partnership>| -> Vec<(Series, Person)> { v.into_iter().map(|x| (x.series, x.partner)).collect() };
    let of_m = db.partnerships(ws.id, m.id, false).await.unwrap();
    assert!(
        of_m.iter().all(|x| x.pending.is_none()),
        "several 1:1s: meetings read when needed"
    );
    assert_eq!(pairs(of_m), vec![(s.clone(), r.clone()), (s2.clone(), r2.clone())]);
    assert!(
        db.partnerships(ws.id, r_two.id, false).await.unwrap().is_empty(),
        "never across workspaces"
    );

    // The only 1:1 comes with its pending meetings (not the closed ones).
    let (held, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    db.close_meeting(held.id, MeetingState::Held, None, t0(), None)
        .await
        .unwrap();
    let later = t0() + Duration::days(14);
    let (next, _) = db.insert_meeting(s.id, later, later).await.unwrap();
    let of_r = db.partnerships(ws.id, r.id, false).await.unwrap();
    assert_eq!(of_r.len(), 1);
    assert_eq!((&of_r[0].series, &of_r[0].partner), (&s, &m));
    assert_eq!(of_r[0].pending, Some(vec![next.clone()]));
    assert_eq!(
        of_r[0].pending.as_deref(),
        Some(&db.pending_meetings(s.id).await.unwrap()[..])
    );

    let mut ended = s2.clone();
    ended.state = SeriesState::Ended;
    db.update_series(&ended).await.unwrap();
    let of_m = db.partnerships(ws.id, m.id, false).await.unwrap();
    assert_eq!(of_m.len(), 1);
    assert_eq!(of_m[0].pending, Some(vec![next]));
    assert_eq!(pairs(of_m), vec![(s.clone(), r.clone())]);
    assert_eq!(
        pairs(db.partnerships(ws.id, m.id, true).await.unwrap()),
        vec![(s, r), (ended, r2)]
    );
});

contract!(an_existing_meeting_is_found_without_a_second_row, |db| {
    let Pair { s, .. } = pair(&db).await;
    let (a, created) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    assert!(created);
    let (b, created) = db.insert_meeting(s.id, t0(), t0() + Duration::hours(1)).await.unwrap();
    assert!(!created);
    assert_eq!(a, b, "the existing meeting, unchanged");
});

contract!(home_openings_are_remembered_per_person, |db| {
    let Pair { m, r, .. } = pair(&db).await;
    assert!(!db.has_opened_home(m.id).await.unwrap());
    db.mark_home_opened(m.id, t0()).await.unwrap();
    db.mark_home_opened(m.id, t0() + Duration::days(1)).await.unwrap();
    assert!(db.has_opened_home(m.id).await.unwrap());
    assert!(!db.has_opened_home(r.id).await.unwrap());
});

contract!(a_refresh_finds_posted_agendas_and_opened_homes_in_one_read, |db| {
    let Pair { ws, m, r, s } = pair(&db).await;
    let r2 = db.upsert_profile(ws.id, &profile("U3", "rosa"), t0()).await.unwrap();
    let s2 = db.create_series(&new_series(ws.id, m.id, r2.id)).await.unwrap();
    let (old, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    let (next, _) = db.insert_meeting(s.id, t0() + Duration::days(14), t0()).await.unwrap();
    let (other, _) = db.insert_meeting(s2.id, t0() + Duration::days(7), t0()).await.unwrap();
    db.record_posted_agenda(old.id, m.id, "D1", "1.0", t0() - Duration::days(30))
        .await
        .unwrap();
    db.record_posted_agenda(next.id, r.id, "D2", "2.0", t0()).await.unwrap();
    db.record_posted_agenda(next.id, m.id, "D1", "3.0", t0()).await.unwrap();
    db.record_posted_agenda(other.id, r2.id, "D3", "4.0", t0())
        .await
        .unwrap();
    db.mark_home_opened(m.id, t0()).await.unwrap();
    db.mark_home_opened(r2.id, t0()).await.unwrap();
    let since = t0() - Duration::days(21);

    let t = db
        .refresh_targets(Platform::Slack, "T1", &[s.id, s2.id], since)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.workspace, ws);
    let agendas: Vec<(&str, MeetingId, &Person)> = t
        .agendas
        .iter()
        .map(|(p, who)| (p.ts.as_str(), p.meeting_id, who))
        .collect();
    // Older than `since` left out; each copy with the person it was posted to.
    assert_eq!(
        agendas,
        vec![("2.0", next.id, &r), ("3.0", next.id, &m), ("4.0", other.id, &r2)]
    );
    assert!(t.agendas.iter().all(|(p, who)| p.person_id == who.id));
    // Only those who opened their Home, each once (the manager is in both 1:1s).
    assert_eq!(t.homes, vec![m.clone(), r2.clone()]);

    let only_s2 = db
        .refresh_targets(Platform::Slack, "T1", &[s2.id], since)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(only_s2.agendas.len(), 1);
    assert_eq!(only_s2.homes, vec![m.clone(), r2]);
    // A 1:1 of another workspace, an unknown 1:1 and an unknown workspace.
    let ws2 = db.ensure_workspace(Platform::Slack, "T2", "other").await.unwrap();
    let in_ws2 = db
        .refresh_targets(Platform::Slack, "T2", &[s.id, SeriesId(999)], since)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((in_ws2.workspace, in_ws2.agendas, in_ws2.homes), (ws2, vec![], vec![]));
    assert_eq!(
        db.refresh_targets(Platform::Slack, "T9", &[s.id], since).await.unwrap(),
        None
    );
    assert_eq!(
        db.refresh_targets(Platform::Teams, "T1", &[s.id], since).await.unwrap(),
        None
    );
});

contract!(text_round_trips_exactly, |db| {
    let Pair { r, s, .. } = pair(&db).await;
    let (m, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    for text in ["🎉 中文 עברית <!channel> *x* & 'q' \"d\"", &"long ".repeat(2000)] {
        let p = db
            .add_talking_point(m.id, r.id, Category::Wellbeing, text, t0())
            .await
            .unwrap();
        assert_eq!(db.talking_point(p.id).await.unwrap().unwrap().text, text);
    }
});

contract!(notes_are_only_their_authors, |db| {
    let Pair { m, r, s, .. } = pair(&db).await;
    let (mt, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    db.add_private_note(mt.id, m.id, "mine", t0()).await.unwrap();
    assert_eq!(db.private_notes(mt.id, m.id).await.unwrap().len(), 1);
    assert!(db.private_notes(mt.id, r.id).await.unwrap().is_empty());
});

contract!(an_agenda_read_together_is_its_parts, |db| {
    let Pair { m, r, s, .. } = pair(&db).await;
    let (mt, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    let (other, _) = db.insert_meeting(s.id, t0() + Duration::days(14), t0()).await.unwrap();
    let p1 = db
        .add_talking_point(mt.id, r.id, Category::Goals, "first", t0())
        .await
        .unwrap();
    db.add_talking_point(mt.id, m.id, Category::Other, "second", t0())
        .await
        .unwrap();
    db.add_talking_point(other.id, m.id, Category::Other, "not this meeting", t0())
        .await
        .unwrap();
    db.add_comment(p1.id, m.id, "a comment", t0()).await.unwrap();
    db.add_action_item(s.id, mt.id, r.id, m.id, "an item", None, t0())
        .await
        .unwrap();
    db.add_private_note(mt.id, m.id, "maria's", t0()).await.unwrap();
    db.add_private_note(mt.id, r.id, "rahul's", t0()).await.unwrap();
    db.confirm_attendance(mt.id, r.id, t0()).await.unwrap();

    let got = db.agenda_content(mt.id, s.id, m.id).await.unwrap();
    let want = AgendaContent {
        attendance: db.attendance(mt.id).await.unwrap(),
        points: db.talking_points(mt.id).await.unwrap(),
        comments: db.comments_for_meeting(mt.id).await.unwrap(),
        items: db.open_action_items_for_series(s.id).await.unwrap(),
        notes: db.private_notes(mt.id, m.id).await.unwrap(),
    };
    assert_eq!(got, want);
    assert_eq!(
        (
            got.attendance.len(),
            got.points.len(),
            got.comments.len(),
            got.items.len(),
            got.notes.len()
        ),
        (1, 2, 1, 1, 1)
    );
    assert_eq!(got.notes[0].text, "maria's", "only the viewer's own notes");
});

async fn open_item_ids(db: &Db, s: SeriesId) -> Vec<ActionItemId> {
    let items = db.open_action_items_for_series(s).await.unwrap();
    items.into_iter().map(|x| x.id).collect()
}

contract!(action_items_are_listed_and_completed_once, |db| {
    let Pair { ws, m, r, s } = pair(&db).await;
    let (mt, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    let d = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let a = db
        .add_action_item(s.id, mt.id, r.id, m.id, "later", None, t0())
        .await
        .unwrap();
    let b = db
        .add_action_item(s.id, mt.id, r.id, m.id, "sooner", Some(d), t0())
        .await
        .unwrap();
    assert_eq!(open_item_ids(&db, s.id).await, [b.id, a.id], "dated first");
    // Earliest due date first, whatever the order they were added in; the
    // undated ones last, as they were added.
    let c = db
        .add_action_item(s.id, mt.id, m.id, m.id, "soonest", Some(d - Duration::days(1)), t0())
        .await
        .unwrap();
    let e = db
        .add_action_item(s.id, mt.id, m.id, m.id, "some day", None, t0())
        .await
        .unwrap();
    let open = open_item_ids(&db, s.id).await;
    assert_eq!(open, [c.id, b.id, a.id, e.id]);
    let agenda = db.agenda_content(mt.id, s.id, m.id).await.unwrap();
    assert_eq!(agenda.items.iter().map(|x| x.id).collect::<Vec<_>>(), open);
    assert!(db.complete_action_item(c.id, t0()).await.unwrap());
    assert!(db.complete_action_item(e.id, t0()).await.unwrap());
    let owned = db.open_action_items_owned_by(ws.id, r.id).await.unwrap();
    assert_eq!(owned.len(), 2);
    assert_eq!(
        owned.iter().map(|x| x.id).collect::<Vec<_>>(),
        [b.id, a.id],
        "dated first"
    );
    assert!(db.open_action_items_owned_by(ws.id, m.id).await.unwrap().is_empty());
    assert!(db.complete_action_item(a.id, t0()).await.unwrap());
    assert!(!db.complete_action_item(a.id, t0()).await.unwrap());
    assert_eq!(db.action_item(a.id).await.unwrap().unwrap().state, ActionState::Done);
    assert_eq!(db.action_items_created_in(mt.id).await.unwrap().len(), 4);
    let stats = db
        .series_stats(
            s.id,
            t0() - Duration::days(90),
            NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!((stats.open_actions, stats.overdue_actions), (1, 1));
});

contract!(templates_are_unique_per_workspace_ignoring_case, |db| {
    let Pair { ws, m, .. } = pair(&db).await;
    let items = vec!["one".to_string(), "two; with ‘quotes’".to_string()];
    let t = db
        .create_template(ws.id, "Sprint Retro", &items, m.id, t0())
        .await
        .unwrap();
    assert_eq!(t.items, items);
    assert!(matches!(
        db.create_template(ws.id, "sprint retro", &items, m.id, t0()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        db.template_by_name(ws.id, "SPRINT RETRO").await.unwrap().map(|x| x.id),
        Some(t.id)
    );
    assert_eq!(db.templates(ws.id).await.unwrap().len(), 1);
    let other = db.ensure_workspace(Platform::Slack, "T2", "two").await.unwrap();
    assert!(db.template_by_name(other.id, "sprint retro").await.unwrap().is_none());
    assert!(db.delete_template(ws.id, "sprint retro").await.unwrap());
    assert!(!db.delete_template(ws.id, "sprint retro").await.unwrap());
});

contract!(ratings_requests_and_stats_add_up, |db| {
    let Pair { ws, m, r, s } = pair(&db).await;
    let (a, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    let (b, _) = db
        .insert_meeting(s.id, t0() + Duration::days(14), t0() + Duration::days(14))
        .await
        .unwrap();
    db.close_meeting(a.id, MeetingState::Held, None, t0(), None)
        .await
        .unwrap();
    db.close_meeting(b.id, MeetingState::Skipped, Some("ill"), t0(), None)
        .await
        .unwrap();
    db.upsert_rating(a.id, m.id, 4, None, t0()).await.unwrap();
    db.upsert_rating(a.id, r.id, 2, Some("meh"), t0()).await.unwrap();
    db.upsert_rating(a.id, r.id, 5, None, t0()).await.unwrap();
    let ratings = db.ratings_for_meeting(a.id).await.unwrap();
    assert_eq!(ratings.len(), 2);
    assert_eq!((ratings[1].score, ratings[1].comment.as_deref()), (5, Some("meh")));
    let st = db
        .series_stats(s.id, t0() - Duration::days(1), t0().date_naive())
        .await
        .unwrap();
    assert_eq!((st.held, st.skipped, st.ratings, st.last_held), (1, 1, 2, Some(t0())));
    assert_eq!(st.avg_rating, Some(4.5));
    let req = db.create_request(ws.id, r.id, m.id, Some("chat?"), t0()).await.unwrap();
    assert_eq!(db.request(ws.id, req.id).await.unwrap(), Some(req.clone()));
    let other = db.ensure_workspace(Platform::Slack, "T2", "two").await.unwrap();
    assert!(db.request(other.id, req.id).await.unwrap().is_none());
});

contract!(events_are_seen_once, |db| {
    assert!(db.first_sight_of_event("Ev1", t0()).await.unwrap());
    assert!(!db.first_sight_of_event("Ev1", t0()).await.unwrap());
    assert!(db.first_sight_of_event("Ev2", t0()).await.unwrap());
});

contract!(retimed_meetings_keep_their_agenda, |db| {
    let Pair { r, s, .. } = pair(&db).await;
    let (m, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    db.add_talking_point(m.id, r.id, Category::Other, "kept", t0())
        .await
        .unwrap();
    let (m2, _) = db
        .insert_meeting(s.id, t0() + Duration::days(7), t0() + Duration::days(7))
        .await
        .unwrap();
    let new_slot = t0() + Duration::days(2);
    // Each moves onto the other's old slot: no collision halfway.
    db.retime_meetings(&[(m.id, t0() + Duration::days(7)), (m2.id, t0())])
        .await
        .unwrap();
    assert_eq!(db.meeting(m2.id).await.unwrap().unwrap().slot, t0());
    db.retime_meetings(&[(m.id, new_slot)]).await.unwrap();
    let got = db.meeting(m.id).await.unwrap().unwrap();
    assert_eq!((got.slot, got.scheduled_at), (new_slot, new_slot));
    assert_eq!(db.talking_points(m.id).await.unwrap().len(), 1);
});

contract!(rollover_never_crosses_into_another_1_1, |db| {
    let Pair { ws, m, r, s } = pair(&db).await;
    let other = db.upsert_profile(ws.id, &profile("U3", "olga"), t0()).await.unwrap();
    let s2 = db.create_series(&new_series(ws.id, m.id, other.id)).await.unwrap();
    let (a, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    let (foreign, _) = db.insert_meeting(s2.id, t0(), t0()).await.unwrap();
    db.add_talking_point(a.id, r.id, Category::Other, "private", t0())
        .await
        .unwrap();
    let res = db
        .close_meeting(a.id, MeetingState::Held, None, t0(), Some(foreign.id))
        .await;
    assert!(matches!(res, Err(StoreError::Conflict(_))));
    assert_eq!(
        db.meeting(a.id).await.unwrap().unwrap().state,
        MeetingState::Upcoming,
        "rolled back"
    );
    assert!(db.talking_points(foreign.id).await.unwrap().is_empty());
});

contract!(constraint_violations_are_conflicts_not_database_errors, |db| {
    let Pair { ws, m, s, .. } = pair(&db).await;
    assert!(matches!(
        db.create_series(&new_series(ws.id, m.id, m.id)).await,
        Err(StoreError::Conflict(_))
    ));
    let (mt, _) = db.insert_meeting(s.id, t0(), t0()).await.unwrap();
    assert!(matches!(
        db.upsert_rating(mt.id, m.id, 6, None, t0()).await,
        Err(StoreError::Conflict(_))
    ));
    let mut selfish = s.clone();
    selfish.report_id = m.id;
    assert!(matches!(db.update_series(&selfish).await, Err(StoreError::Conflict(_))));
});

#[tokio::test]
async fn a_database_that_was_never_migrated_is_not_ready() {
    let path = std::env::temp_dir().join(format!("oneonone_unmigrated_{}.db", std::process::id()));
    let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    assert!(!db.is_migrated().await.unwrap());
    db.migrate().await.unwrap();
    assert!(db.is_migrated().await.unwrap());
    let _ = std::fs::remove_file(path);
}

/// PostgreSQL connections are not pinged on their way out of the pool when
/// they went back moments ago (two round trips saved per statement), but one
/// that rested longer is, so a connection the server dropped meanwhile (a
/// restart, an idle timeout) is replaced instead of failing a request.
#[tokio::test]
async fn a_postgres_connection_dropped_while_idle_is_replaced_not_reported() {
    use sqlx::Connection;
    let Some((db, url)) = crate::store::testing::fresh_postgres_with_url().await else {
        return;
    };
    db.ensure_workspace(Platform::Slack, "T1", "Acme").await.unwrap();
    tokio::time::sleep(PG_PING_AFTER_IDLE + std::time::Duration::from_millis(200)).await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let dropped: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(dropped.iter().any(|d| *d), "the pool's idle connections were dropped");
    let ws = db.workspace_by_external(Platform::Slack, "T1").await;
    assert_eq!(ws.unwrap().unwrap().name, "Acme");
}

/// The lookups on every request read by index on SQLite, never the whole
/// workspace (they did: see BENCHMARKS.md).
#[tokio::test]
async fn query_plans_use_the_indexes() {
    let db = crate::store::testing::fresh_sqlite().await;
    let Db::Sqlite(s) = &db else { unreachable!() };
    for (q, must) in [
        (
            SERIES_OF_PERSON,
            &["MULTI-INDEX OR", "series_by_manager", "series_by_report"][..],
        ),
        (
            PARTNERS_OF_PERSON,
            &["MULTI-INDEX OR", "series_by_manager", "series_by_report"][..],
        ),
        (
            PEOPLE_BY_NAME,
            &["people_by_name_key", "people_by_lower_external_id"][..],
        ),
        (
            CALLER_BY_EXTERNALS,
            &["sqlite_autoindex_workspaces_1", "sqlite_autoindex_people_1"][..],
        ),
    ] {
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("explain query plan {q}")))
            .bind(1_i64)
            .bind(2_i64)
            .bind(false)
            .fetch_all(&s.pool)
            .await
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|r| r.3).collect();
        for m in must {
            assert!(plan.iter().any(|p| p.contains(m)), "{m} not in {plan:?} for {q}");
        }
        assert!(
            !plan.iter().any(|p| p.starts_with("SCAN")),
            "a scan in {plan:?} for {q}"
        );
    }
}

/// `CallerRow` decodes the caller's statement by position: the workspace's
/// columns, then the person's, each in its row type's order.
#[tokio::test]
async fn the_callers_statement_lists_the_columns_in_its_row_types_order() {
    let db = crate::store::testing::fresh_sqlite().await;
    let Db::Sqlite(s) = &db else { unreachable!() };
    let names = s
        .readers
        .read(|c| {
            let st = c.prepare(CALLER_BY_EXTERNALS)?;
            Ok(st.column_names().into_iter().map(str::to_owned).collect::<Vec<_>>())
        })
        .unwrap();
    let want: Vec<&str> = <WorkspaceRow as lite::FromLite>::COLUMNS
        .iter()
        .chain(<PersonRow as lite::FromLite>::COLUMNS)
        .copied()
        .collect();
    assert_eq!(names, want);
}

#[tokio::test]
async fn an_in_memory_sqlite_database_is_refused_with_the_reason() {
    for url in ["sqlite::memory:", "sqlite://file:x?mode=memory"] {
        match Db::connect(url).await {
            Err(StoreError::BadUrl(why)) => assert!(why.contains("sqlite://PATH"), "{url}: {why}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

// SQLite's writes go to one writer thread, several to a transaction: a
// clash is told to its own caller and undoes nothing of the others'.
contract!(concurrent_writes_with_clashes_each_get_their_own_answer, |db| {
    let ws = db.ensure_workspace(Platform::Slack, "T1", "acme").await.unwrap();
    let author = db.ensure_person(ws.id, "U1", "Ann").await.unwrap();
    let creates = (0..40).map(|i| {
        let db = db.clone();
        let name = if i % 2 == 0 {
            "shared".to_string()
        } else {
            format!("own {i}")
        };
        tokio::spawn(async move {
            db.create_template(ws.id, &name, &["a".to_string()], author.id, t0())
                .await
        })
    });
    let mut made = 0;
    let mut taken = 0;
    for c in creates.collect::<Vec<_>>() {
        match c.await.unwrap() {
            Ok(_) => made += 1,
            Err(StoreError::Conflict(_)) => taken += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((made, taken), (21, 19));
    let names: Vec<String> = db.templates(ws.id).await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names.len(), 21);
    assert!(names.contains(&"shared".to_string()));
});

contract!(names_match_ignoring_case_beyond_ascii, |db| {
    let ws = db.ensure_workspace(Platform::Slack, "T1", "acme").await.unwrap();
    db.upsert_profile(ws.id, &profile("U1", "Zoë Ångström"), t0())
        .await
        .unwrap();
    db.ensure_person(ws.id, "U2", "ÉMILE").await.unwrap();
    assert_eq!(db.people_by_name(ws.id, "ZOË ÅNGSTRÖM").await.unwrap().len(), 1);
    assert_eq!(db.people_by_name(ws.id, "émile").await.unwrap().len(), 1);
    assert_eq!(db.people_by_name(ws.id, "u1").await.unwrap().len(), 1);
});

contract!(
    a_teams_conversation_reference_is_kept_current_and_marked_when_uninstalled,
    |db| {
        let ws = db
            .ensure_workspace(Platform::Teams, "tenant-1", "Contoso")
            .await
            .unwrap();
        let dana = db
            .upsert_profile(ws.id, &profile("29:dana", "dana"), t0())
            .await
            .unwrap();
        assert_eq!(db.teams_conversation(dana.id).await.unwrap(), None);
        let seen = SeenConversation {
            person_id: dana.id,
            service_url: "https://smba.trafficmanager.net/emea/",
            conversation_id: Some("a:1p0ii"),
            tenant_id: "tenant-1",
            aad_object_id: Some("0f1e"),
        };
        db.saw_teams_conversation(&seen, t0()).await.unwrap();
        // A later activity without a conversation id (an installation update
        // from a team) keeps the known one and moves the service URL.
        db.saw_teams_conversation(
            &SeenConversation {
                service_url: "https://smba.trafficmanager.net/amer/",
                conversation_id: None,
                aad_object_id: None,
                ..seen.clone()
            },
            t0(),
        )
        .await
        .unwrap();
        let c = db.teams_conversation(dana.id).await.unwrap().unwrap();
        assert_eq!(c.service_url, "https://smba.trafficmanager.net/amer/");
        assert_eq!(c.conversation_id.as_deref(), Some("a:1p0ii"));
        assert_eq!(c.aad_object_id.as_deref(), Some("0f1e"));
        assert!(c.installed);
        // Uninstalled: told once, then installed again by the next activity.
        assert!(
            db.teams_not_installed(dana.id, "ForbiddenOperationException", t0())
                .await
                .unwrap()
        );
        assert!(
            !db.teams_not_installed(dana.id, "ForbiddenOperationException", t0())
                .await
                .unwrap()
        );
        let c = db.teams_conversation(dana.id).await.unwrap().unwrap();
        assert!(!c.installed);
        assert_eq!(c.problem.as_deref(), Some("ForbiddenOperationException"));
        db.saw_teams_conversation(&seen, t0()).await.unwrap();
        assert!(db.teams_conversation(dana.id).await.unwrap().unwrap().installed);
        db.set_teams_conversation_id(dana.id, "a:other", t0()).await.unwrap();
        assert_eq!(
            db.teams_conversation(dana.id)
                .await
                .unwrap()
                .unwrap()
                .conversation_id
                .as_deref(),
            Some("a:other")
        );
    }
);

contract!(people_are_listed_by_name_for_a_picker, |db| {
    let ws = db
        .ensure_workspace(Platform::Teams, "tenant-1", "Contoso")
        .await
        .unwrap();
    let other = db
        .ensure_workspace(Platform::Teams, "tenant-2", "Fabrikam")
        .await
        .unwrap();
    for (id, name) in [("29:c", "Carla"), ("29:a", "anna"), ("29:b", "Bert")] {
        db.upsert_profile(ws.id, &profile(id, name), t0()).await.unwrap();
    }
    db.upsert_profile(other.id, &profile("29:z", "Zoe"), t0())
        .await
        .unwrap();
    let names: Vec<String> = db
        .people_in(ws.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.display_name)
        .collect();
    assert_eq!(names, vec!["anna", "Bert", "Carla"]);
    assert_eq!(db.people_in(ws.id, 2).await.unwrap().len(), 2);
});
