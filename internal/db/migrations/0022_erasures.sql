-- A record that a person's data was erased on request: when, by whom, and
-- how much of each kind was removed. No identifier of the person is kept.
CREATE TABLE erasures (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_user_id BIGINT,
    counts {{JSON}} NOT NULL,
    {{WSKEY}}
);
