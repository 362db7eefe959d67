-- Agenda messages the bot posted (a DM to one participant), so reactions and
-- thread replies can find their meeting and every copy can be updated in
-- place after a change.
create table posted_agendas (
    id bigint generated always as identity primary key,
    meeting_id bigint not null references meetings (id) on delete cascade,
    -- the participant the copy was rendered for (private notes differ)
    person_id bigint not null references people (id) on delete cascade,
    -- Slack: the DM channel and the message ts
    channel text not null,
    ts text not null,
    created_at bigint not null,
    unique (channel, ts)
);
create index posted_agendas_by_meeting on posted_agendas (meeting_id);

-- "I'll be there": a participant confirmed a meeting (✅ on its agenda).
create table attendance (
    meeting_id bigint not null references meetings (id) on delete cascade,
    person_id bigint not null references people (id) on delete cascade,
    confirmed_at bigint not null,
    primary key (meeting_id, person_id)
);
