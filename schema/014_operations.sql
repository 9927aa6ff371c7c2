-- 014: long work (a template built from a distribution's archive), as /api/operations
-- shows it; and what a template says about running it.
CREATE TABLE operations (
  id         TEXT PRIMARY KEY,              -- 32 random hex digits: not guessable
  kind       TEXT NOT NULL,                 -- "template.build"
  target     TEXT NOT NULL,                 -- what it makes or changes (a template's name)
  tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
  state      TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
  percent    INTEGER NOT NULL DEFAULT 0,
  message    TEXT NOT NULL DEFAULT '',
  result     TEXT,                          -- JSON, when done
  error      TEXT,                          -- JSON {"code","message"}, when failed or cancelled
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX operations_tenant ON operations(tenant_id, created_at);
ALTER TABLE templates ADD COLUMN command TEXT;       -- JSON argv: a jail's default first process
ALTER TABLE templates ADD COLUMN stop_command TEXT;  -- JSON argv: its default exec.stop
