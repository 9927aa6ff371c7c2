-- 017: refused requests (401, 429) are audited one entry a second per source, token,
-- status and action; the entry that closes a second counts the others it stands for.
ALTER TABLE audit ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
