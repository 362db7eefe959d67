-- Durable notifications (SPEC §8, STYLE 12). A row is written *before* the
-- message is sent; workers claim rows with a lease, send, and record the
-- outcome. Every replica and every `tick` run shares this one table.
-- Instants are unix seconds and counts are plain integers like the rest of
-- the schema, so one Rust row type decodes both engines.
create table deliveries (
    id bigint generated always as identity primary key,
    -- gone with their workspace: nothing left to notify
    workspace_id bigint not null references workspaces (id) on delete cascade,
    -- the closed set of notification kinds (DeliveryKind in Rust)
    kind text not null check (kind in ('agenda', 'follow_up', 'overdue', 'action_digest', 'stuck_topic', 'notice')),
    -- what it is about, e.g. 'meeting:17' or 'person:4'; free text so a new
    -- kind needs no new column
    subject text not null,
    -- the occurrence it belongs to (unix seconds): a meeting's start, a digest's day
    slot bigint not null,
    -- '{kind}:{subject}:{slot}:{recipient}', built in Rust. Unique: a second
    -- enqueue of the same notification (another replica, another pass) is a
    -- no-op. One text column instead of a four-column unique constraint so
    -- the key reads the same in logs, tests and the database.
    dedupe_key text not null unique,
    -- gone with the person: a notification to nobody is not worth keeping
    recipient_id bigint not null references people (id) on delete cascade,
    -- JSON the worker renders from; the store never looks inside. Text, not
    -- jsonb, so both engines store and return the same bytes.
    payload text not null,
    -- not before this instant (unix seconds); a retry moves it later
    due_at bigint not null,
    -- pending -> sending -> sent | pending (retry) | failed; dropped when it
    -- no longer makes sense. Final rows are kept for the record and /metrics.
    state text not null default 'pending' check (state in ('pending', 'sending', 'sent', 'failed', 'dropped')),
    -- claims so far; a claim increments it, so it doubles as the fencing
    -- token that a late worker's completion must match
    attempts bigint not null default 0 check (attempts >= 0),
    -- at least one attempt, or the row could never be sent
    max_attempts bigint not null check (max_attempts >= 1),
    -- while sending: when the claim expires and another worker may take the
    -- row over (a crashed worker's claim). Null in every other state.
    lease_until bigint,
    -- the last failure, truncated in Rust; never holds a token
    last_error text,
    -- where the sent message lives (Slack: DM channel and ts), so reactions
    -- and chat.update find it
    message_channel text,
    message_ts text,
    created_at bigint not null,
    updated_at bigint not null,
    sent_at bigint,
    -- a claim always carries its lease, or it could never be recovered
    check (state <> 'sending' or lease_until is not null)
);
-- Claiming: pending rows by due time, and expired claims (state 'sending',
-- few: at most the workers' batches) by the same index's state prefix.
create index deliveries_claimable on deliveries (state, due_at);
-- Diagnostics and tests: every delivery about one subject.
create index deliveries_by_subject on deliveries (kind, subject);
-- Reactions and thread replies find their notification. Not unique: the chat
-- platform already makes a message reference unique, and a completion is a
-- fact (the message was sent) the store must not refuse to record.
create index deliveries_by_message on deliveries (message_channel, message_ts) where message_ts is not null;
