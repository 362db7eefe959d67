-- Names are matched case-insensitively. SQLite's lower() folds only ASCII
-- ("ZOË" would not find "Zoë"), so the folded name is computed in Rust and
-- stored; both engines compare the same key.
alter table people add column name_key text not null default '';
-- Existing rows get an ASCII fold until their profile is next refreshed.
update people set name_key = lower(display_name);
create index people_by_name_key on people (workspace_id, name_key);
