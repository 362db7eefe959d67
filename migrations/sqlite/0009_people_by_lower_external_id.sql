-- `people_by_name` matches a typed name or a platform id in any case: the id
-- half needs its own index, or every lookup reads the workspace's people.
create index people_by_lower_external_id on people (workspace_id, lower(external_id));
