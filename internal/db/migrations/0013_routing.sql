-- Lead routing: ordered rules that send a new MQL to a team, and how each
-- team shares leads out (round-robin or least-loaded, with a capacity).
CREATE TABLE routing_rules (
    {{ID}},
    workspace_id BIGINT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    condition TEXT NOT NULL,
    team_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    {{WSKEY}}
);
CREATE INDEX routing_rules_position ON routing_rules (workspace_id, position);

CREATE TABLE routing_teams (
    workspace_id BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    method TEXT NOT NULL DEFAULT 'round_robin',
    capacity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, team_id)
);

ALTER TABLE users ADD COLUMN out_of_office BOOLEAN NOT NULL DEFAULT FALSE;
