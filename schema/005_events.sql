-- 005: lifecycle events, replayable by id (GET /api/events?since=ID).
CREATE TABLE events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a client's Last-Event-ID stays meaningful
  at        TEXT NOT NULL,
  tenant_id INTEGER,                            -- whose it is (NULL: admins only)
  type      TEXT NOT NULL,                      -- jail.created, jail.started, ...
  target    TEXT NOT NULL,
  data      TEXT NOT NULL                       -- JSON
);
CREATE INDEX events_tenant ON events(tenant_id, id);
