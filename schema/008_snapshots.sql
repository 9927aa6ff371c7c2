-- 008: jail snapshots, when each auto-restoring jail is next restored, and disk sizes for the disk quota.
CREATE TABLE snapshots (
  jail_id    INTEGER NOT NULL REFERENCES jails(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  bytes      INTEGER NOT NULL,           -- disk space the copy takes
  created_at TEXT NOT NULL,
  PRIMARY KEY (jail_id, name)
);
-- unix seconds of the next scheduled restore (restore.every); NULL: none scheduled.
-- Kept in the store so the schedule survives a restart of jaild.
ALTER TABLE jails ADD COLUMN restore_at INTEGER;
-- unix seconds when the warning before that restore is due; NULL once given
ALTER TABLE jails ADD COLUMN restore_warn_at INTEGER;
CREATE INDEX jails_restore ON jails(state, restore_at) WHERE json_extract(spec, '$.restore') IS NOT NULL;
ALTER TABLE jails ADD COLUMN disk INTEGER;                                -- limits.disk in bytes, NULL when none
