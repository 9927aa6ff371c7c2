-- 002: per-tenant quotas, and each jail's limits as numbers so quotas can sum them.
ALTER TABLE tenants ADD COLUMN quotas TEXT NOT NULL DEFAULT '{}';  -- {"jails":N,"memoryuse":BYTES,"maxproc":N,"ip4":N,"disk":BYTES}
ALTER TABLE jails ADD COLUMN memoryuse INTEGER;                     -- bytes, NULL when unlimited
ALTER TABLE jails ADD COLUMN maxproc INTEGER;                       -- NULL when unlimited
-- [sqlite]
UPDATE jails SET maxproc = json_extract(spec, '$.limits.maxproc');
-- [postgresql]
UPDATE jails SET maxproc = (spec::jsonb #>> '{limits,maxproc}')::BIGINT;
-- [all]
