-- When the scheduler next needs to look at a 1:1 (unix seconds). A pass
-- reads only the series whose time has come, so its cost follows what is
-- due, not how many 1:1s exist. 0 means "look at it on the next pass": every
-- change to a 1:1 (a command, a button, a form) resets it to 0.
alter table series add column plan_at bigint not null default 0;
create index series_due_for_planning on series (state, plan_at);
