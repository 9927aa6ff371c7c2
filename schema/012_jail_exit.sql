-- 012: how a jail's first process last ended (its exit code, or the signal that ended
-- it, and when); NULL until it has ended on its own.
ALTER TABLE jails ADD COLUMN exit_code INTEGER;
ALTER TABLE jails ADD COLUMN exit_signal INTEGER;
ALTER TABLE jails ADD COLUMN exited_at TEXT;
