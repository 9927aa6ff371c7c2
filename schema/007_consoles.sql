-- 007: console sessions and their recordings; audit entries can link to a recording.
CREATE TABLE consoles (
  id          TEXT PRIMARY KEY,          -- 128 random bits, hex; also the re-attach key
  jail        TEXT NOT NULL,             -- kept after the jail is gone, for the audit trail
  tenant_id   INTEGER NOT NULL,          -- the jail's tenant
  token_id    INTEGER,                   -- who opened it (NULL: a browser session)
  actor       TEXT NOT NULL,
  source      TEXT NOT NULL,
  cols        INTEGER NOT NULL,
  rows        INTEGER NOT NULL,
  started_at  TEXT NOT NULL,
  ended_at    TEXT,                      -- NULL while live
  end_reason  TEXT,
  bytes_out   INTEGER NOT NULL DEFAULT 0,
  recording   INTEGER NOT NULL DEFAULT 1 -- 0 once the retention sweep removed the file
);
CREATE INDEX consoles_tenant ON consoles(tenant_id, started_at);
CREATE INDEX consoles_started ON consoles(started_at);
ALTER TABLE audit ADD COLUMN link TEXT;
