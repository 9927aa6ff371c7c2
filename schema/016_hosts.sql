-- 016: the hosts sharing this store (one row on a single host): what each offers, when
-- it last said it was alive (unix seconds, the database's clock), whether it takes new
-- jails; and the host each jail lives on. A jail's uid slot and its host ports belong
-- to its host; addresses stay unique across hosts, whose pools may not overlap.
CREATE TABLE hosts (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  advertise  TEXT NOT NULL DEFAULT '',     -- the URL the other hosts reach its API at
  pool4      TEXT NOT NULL,
  pool6      TEXT NOT NULL,
  uid_base   INTEGER NOT NULL,
  cpus       INTEGER NOT NULL DEFAULT 0,
  memory     INTEGER NOT NULL DEFAULT 0,   -- bytes
  draining   INTEGER NOT NULL DEFAULT 0,   -- 1: no new jails placed on it
  seen_at    INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
ALTER TABLE jails ADD COLUMN host_id INTEGER REFERENCES hosts(id);
ALTER TABLE jail_ports ADD COLUMN host_id INTEGER;
-- a console session is its host's: its recording is a file there, and only that host
-- ends its sessions at a restart or expires their recordings
ALTER TABLE consoles ADD COLUMN host_id INTEGER;
-- [postgresql]
-- pools may not overlap between hosts: the database refuses the second claim
ALTER TABLE hosts ADD CONSTRAINT hosts_pool4_apart EXCLUDE USING gist ((pool4::inet) inet_ops WITH &&);
ALTER TABLE hosts ADD CONSTRAINT hosts_pool6_apart EXCLUDE USING gist ((pool6::inet) inet_ops WITH &&);
-- slots and host ports per host (SQLite's store has one host: its keys stay)
ALTER TABLE jails DROP CONSTRAINT jails_slot_key;
CREATE UNIQUE INDEX jails_host_slot ON jails(host_id, slot);
ALTER TABLE jail_ports DROP CONSTRAINT jail_ports_pkey;
CREATE UNIQUE INDEX jail_ports_host_port ON jail_ports(host_id, proto, host_port);
-- [all]
CREATE INDEX jails_host ON jails(host_id, name);
