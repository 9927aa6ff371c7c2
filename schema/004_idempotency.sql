-- 004: Idempotency-Key: the first answer to a POST, replayed to retries for a day.
CREATE TABLE idempotency (
  token_id     INTEGER NOT NULL,
  key          TEXT NOT NULL,
  request_hash BLOB NOT NULL,     -- SHA-256 of method, path and body: a retry must match
  status       INTEGER NOT NULL,  -- 0 while the first request is still running
  response     TEXT,
  location     TEXT,
  etag         TEXT,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (token_id, key)
);
