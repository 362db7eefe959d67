-- Microsoft Teams: what the bot needs to reach a person proactively (their
-- conversation reference), learned from installationUpdate,
-- conversationUpdate and every message (SPEC §7). One row per person.
create table teams_conversations (
    person_id bigint primary key references people (id) on delete cascade,
    -- the Connector endpoint for this person's tenant/region, checked against
    -- TEAMS_TRUSTED_SERVICE_URLS before it is stored or used
    service_url text not null,
    -- the personal conversation (`a:…`); null until one is known or created
    conversation_id text,
    tenant_id text not null,
    aad_object_id text,
    -- 0 after the app was removed or Teams answered 403 (not installed, blocked)
    installed bigint not null default 1,
    -- why it is not installed, as Teams said it (for the manager's notice)
    problem text,
    updated_at bigint not null
);
