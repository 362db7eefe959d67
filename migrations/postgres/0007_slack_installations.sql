-- Slack OAuth v2 installs, one row per workspace (modelled on python-slack-sdk's
-- Installation; org-wide Enterprise Grid installs are not offered, so the team
-- id alone is the key). Tokens are AES-256-GCM ciphertexts (`nonce ||
-- ciphertext+tag`, see src/crypto.rs): a dump of this table reveals no token.
-- app_uninstalled and tokens_revoked delete the row.
create table slack_installations (
    team_id text primary key,
    -- kept for the record and for a later org-wide install; null for most
    enterprise_id text,
    team_name text not null default '',
    app_id text not null,
    -- the bot's user id and bot id (from auth.test): events from it are ignored
    bot_user_id text not null,
    bot_id text not null,
    -- comma-separated, as Slack granted them
    bot_scopes text not null,
    -- encrypted; bound to team_id and the column name as associated data
    bot_token bytea not null,
    -- encrypted; only with token rotation on (then the token expires)
    bot_refresh_token bytea,
    -- unix seconds; null for a token that never expires
    bot_token_expires_at bigint,
    -- +1 on every rotation: the fence that lets one replica's refresh win and
    -- the other re-read instead of writing over it
    token_version bigint not null default 0,
    -- a replica is refreshing until then (unix seconds): the others wait or
    -- use the still-valid token rather than spend the refresh token twice
    refresh_claimed_until bigint,
    installer_user_id text not null,
    installed_at bigint not null,
    updated_at bigint not null
);

-- The single-use `state` of an install in progress (10 minutes), shared by
-- every replica. Only its SHA-256 is stored, so the table cannot be used to
-- finish someone else's install; consuming it is one `delete … returning`.
create table slack_oauth_states (
    state_hash text primary key,
    expires_at bigint not null
);
create index slack_oauth_states_by_expiry on slack_oauth_states (expires_at);
