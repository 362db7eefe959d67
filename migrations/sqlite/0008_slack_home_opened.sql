-- People who have opened the bot's App Home in Slack at least once. Only
-- their Home is republished after a change to one of their 1:1s; anyone else
-- gets theirs built when they first open the tab (`app_home_opened`).
create table slack_home_opened (
    person_id integer primary key references people (id) on delete cascade,
    opened_at integer not null
);
