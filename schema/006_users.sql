-- 006: tenant users who log in from a browser, and their sessions.
CREATE TABLE users (
  id         INTEGER PRIMARY KEY,
  tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
  name       TEXT NOT NULL,
  password   TEXT NOT NULL,            -- argon2id (crypto_pwhash_str); never the password
  created_at TEXT NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE sessions (
  hash       BLOB PRIMARY KEY,         -- SHA-256 of the cookie's secret
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf       TEXT NOT NULL,            -- state-changing requests must echo it in X-CSRF-Token
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
