-- oneonone schema, PostgreSQL dialect. The SQLite file of the same version
-- has the same tables and columns; only types and identity syntax differ.
-- Conventions: instants are unix seconds (UTC) in integers, calendar dates
-- are 'YYYY-MM-DD' text, times of day are minutes after midnight, zones are
-- IANA names, closed sets are text with a check constraint.

-- A Slack team, a Teams tenant or a console playground.
create table workspaces (
    id bigint generated always as identity primary key,
    platform text not null check (platform in ('slack', 'teams', 'console')),
    external_id text not null,
    name text not null default '',
    -- days without a held meeting before the manager is nudged (SPEC §8)
    overdue_after_days bigint not null default 14,
    unique (platform, external_id)
);

-- A chat user inside one workspace; never resolved across workspaces.
create table people (
    id bigint generated always as identity primary key,
    workspace_id bigint not null references workspaces (id) on delete cascade,
    external_id text not null,
    display_name text not null,
    email text,
    -- zone reported by the platform; tz_override is the person's own choice
    platform_tz text,
    tz_override text,
    work_start_min bigint not null default 540,
    work_end_min bigint not null default 1080,
    nudges boolean not null default true,
    away_until text,
    -- when users.info last refreshed this row (null: never)
    profile_refreshed_at bigint,
    unique (workspace_id, external_id)
);
create index people_by_email on people (workspace_id, lower(email));
create index people_by_name on people (workspace_id, lower(display_name));

-- A 1:1 series. One per unordered pair: person_lo/person_hi are the smaller
-- and greater of the two ids, so (a, b) and (b, a) collide.
create table series (
    id bigint generated always as identity primary key,
    workspace_id bigint not null references workspaces (id) on delete cascade,
    manager_id bigint not null references people (id) on delete cascade,
    report_id bigint not null references people (id) on delete cascade,
    person_lo bigint not null,
    person_hi bigint not null,
    -- 'weekly:N:mon', 'monthly:last:fri' or 'cron:EXPR'
    cadence text not null,
    time_min bigint not null,
    tz text not null,
    duration_minutes bigint not null,
    template text,
    lead_minutes bigint not null,
    state text not null check (state in ('active', 'paused', 'ended')),
    anchor_date text not null,
    created_at bigint not null,
    check (manager_id <> report_id),
    unique (workspace_id, person_lo, person_hi)
);
create index series_by_manager on series (manager_id);
create index series_by_report on series (report_id);
-- the scheduler walks active series
create index series_by_state on series (state);

-- One occurrence of a series. slot is the cadence instant it was created
-- for: unique per series, so concurrent materialization creates one row.
create table meetings (
    id bigint generated always as identity primary key,
    series_id bigint not null references series (id) on delete cascade,
    slot bigint not null,
    scheduled_at bigint not null,
    state text not null check (state in ('upcoming', 'held', 'skipped', 'rescheduled')),
    skip_reason text,
    closed_at bigint,
    unique (series_id, slot)
);
create index meetings_by_series on meetings (series_id, scheduled_at);
-- the scheduler finds due meetings by state and time, not by scanning series
create index meetings_due on meetings (state, scheduled_at);

create table talking_points (
    id bigint generated always as identity primary key,
    meeting_id bigint not null references meetings (id) on delete cascade,
    author_id bigint not null references people (id) on delete cascade,
    text text not null,
    category text not null
        check (category in ('goals', 'feedback', 'development', 'recognition', 'wellbeing', 'other')),
    position bigint not null,
    state text not null check (state in ('open', 'discussed')),
    rollover_count bigint not null default 0,
    -- the meeting the point was first added to (kept when it rolls over)
    origin_meeting_id bigint not null,
    created_at bigint not null
);
create index talking_points_by_meeting on talking_points (meeting_id, position);

create table comments (
    id bigint generated always as identity primary key,
    talking_point_id bigint not null references talking_points (id) on delete cascade,
    author_id bigint not null references people (id) on delete cascade,
    text text not null,
    created_at bigint not null
);
create index comments_by_point on comments (talking_point_id);

-- visible only to author_id
create table private_notes (
    id bigint generated always as identity primary key,
    meeting_id bigint not null references meetings (id) on delete cascade,
    author_id bigint not null references people (id) on delete cascade,
    text text not null,
    created_at bigint not null
);
create index private_notes_by_meeting on private_notes (meeting_id, author_id);

create table action_items (
    id bigint generated always as identity primary key,
    series_id bigint not null references series (id) on delete cascade,
    meeting_id bigint not null references meetings (id) on delete cascade,
    owner_id bigint not null references people (id) on delete cascade,
    created_by bigint not null references people (id) on delete cascade,
    text text not null,
    due text,
    state text not null check (state in ('open', 'done')),
    created_at bigint not null,
    completed_at bigint
);
create index action_items_by_series on action_items (series_id, state);
create index action_items_by_owner on action_items (owner_id, state);
create index action_items_by_meeting on action_items (meeting_id);

-- A workspace's own agenda templates; built-in ones live in the code.
create table templates (
    id bigint generated always as identity primary key,
    workspace_id bigint not null references workspaces (id) on delete cascade,
    name text not null,
    -- lower(name): names are unique per workspace regardless of case
    name_key text not null,
    -- JSON array of strings
    items text not null,
    created_by bigint not null references people (id) on delete cascade,
    created_at bigint not null,
    unique (workspace_id, name_key)
);

-- One rating per side per meeting; shown only in aggregate.
create table ratings (
    meeting_id bigint not null references meetings (id) on delete cascade,
    person_id bigint not null references people (id) on delete cascade,
    score bigint not null check (score between 1 and 5),
    comment text,
    created_at bigint not null,
    primary key (meeting_id, person_id)
);

create table meeting_requests (
    id bigint generated always as identity primary key,
    workspace_id bigint not null references workspaces (id) on delete cascade,
    from_id bigint not null references people (id) on delete cascade,
    to_id bigint not null references people (id) on delete cascade,
    text text,
    created_at bigint not null
);

-- Inbound events already acted on (Slack event_id, or channel+ts of a
-- message): Slack retries never double an effect.
create table processed_events (
    key text primary key,
    received_at bigint not null
);
create index processed_events_by_age on processed_events (received_at);
