-- 009: templates carry their checksum and a version that each publish raises.
ALTER TABLE templates ADD COLUMN sha256 TEXT;
ALTER TABLE templates ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE templates ADD COLUMN updated_at TEXT;
