-- 011: the host paths a tenant's jails may mount (a JSON array, NULL for none): mount
-- sources belong to one tenant, so another tenant's jails cannot reach them.
ALTER TABLE tenants ADD COLUMN mounts TEXT;
