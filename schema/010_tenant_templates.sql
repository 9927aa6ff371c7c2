-- 010: the templates a tenant may use: a JSON array of names, NULL for all of them.
ALTER TABLE tenants ADD COLUMN templates TEXT;
