-- 003: the audit log: who did what, when, from where, and how it ended.
CREATE TABLE audit (
  id         INTEGER PRIMARY KEY,
  at         TEXT NOT NULL,
  request_id TEXT NOT NULL,
  token_id   INTEGER,          -- NULL when the request had no valid token
  actor      TEXT NOT NULL,    -- "token:ID NAME", or "anonymous"
  tenant_id  INTEGER,          -- the actor's tenant
  action     TEXT NOT NULL,    -- method and route, e.g. "POST /api/jails/*/start"
  target     TEXT NOT NULL,    -- the path
  status     INTEGER NOT NULL,
  source     TEXT NOT NULL     -- the client's address
);
CREATE INDEX audit_tenant ON audit(tenant_id, id);
