-- 001: tenants, tokens, templates, jails and their addresses.
CREATE TABLE tenants (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);

CREATE TABLE tokens (
  id           INTEGER PRIMARY KEY,
  tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'tenant')),
  hash         BLOB NOT NULL UNIQUE,      -- SHA-256 of the secret; the secret is never stored
  created_at   TEXT NOT NULL,
  expires_at   TEXT,
  last_used_at TEXT
);

CREATE TABLE templates (
  name       TEXT PRIMARY KEY,
  source     TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE jails (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
  slot       INTEGER NOT NULL UNIQUE,     -- its host uid range: uid_base + slot * 65536
  spec       TEXT NOT NULL,               -- canonical JSON, addresses resolved
  state      TEXT NOT NULL CHECK (state IN ('stopped', 'starting', 'running', 'stopping', 'error')),
  pid        INTEGER,
  error      TEXT,
  version    INTEGER NOT NULL DEFAULT 1,  -- the ETag
  boot       INTEGER NOT NULL DEFAULT 0,
  priority   INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  started_at TEXT
);
CREATE INDEX jails_tenant ON jails(tenant_id, name);

-- one row per address: the primary key makes two jails holding one address impossible
CREATE TABLE jail_ip4 (
  addr    INTEGER PRIMARY KEY,            -- host byte order
  jail_id INTEGER NOT NULL REFERENCES jails(id) ON DELETE CASCADE
);
CREATE TABLE jail_ip6 (
  addr    TEXT PRIMARY KEY,               -- canonical text form
  jail_id INTEGER NOT NULL REFERENCES jails(id) ON DELETE CASCADE
);
