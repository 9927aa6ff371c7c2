-- 013: port forwards, one row each: the primary key makes a host port belong to one
-- jail; and whether a tenant's jails reach each other.
CREATE TABLE jail_ports (
  proto     TEXT NOT NULL CHECK (proto IN ('tcp', 'udp')),
  host_port INTEGER NOT NULL CHECK (host_port BETWEEN 1 AND 65535),
  jail_id   INTEGER NOT NULL REFERENCES jails(id) ON DELETE CASCADE,
  PRIMARY KEY (proto, host_port)
);
CREATE INDEX jail_ports_jail ON jail_ports(jail_id);
ALTER TABLE tenants ADD COLUMN isolate_jails INTEGER NOT NULL DEFAULT 0;
