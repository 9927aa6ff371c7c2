-- 015: usage history, for graphs and billing. One row per jail and bucket, at three
-- lengths (the sampling interval, 5 minutes, an hour), each sample added into all
-- three: the longer ones are exact sums of the shorter, however long the short ones
-- are kept. Keyed by the jail's name, not its row: a destroyed jail's use stays
-- billable. Integers throughout, so that sums are exact.
CREATE TABLE usage (
  tenant_id           INTEGER NOT NULL,
  jail                TEXT NOT NULL,
  res                 INTEGER NOT NULL,  -- the bucket's length in seconds
  t                   INTEGER NOT NULL,  -- its start, unix seconds, a multiple of res
  seconds             INTEGER NOT NULL DEFAULT 0,  -- of it the jail was seen running
  cpu_us              INTEGER NOT NULL DEFAULT 0,  -- CPU time used, microseconds
  mem_byte_s          INTEGER NOT NULL DEFAULT 0,  -- memory in use, bytes x seconds
  mem_limit_byte_s    INTEGER NOT NULL DEFAULT 0,  -- its memory limit, bytes x seconds
  disk_limit_byte_s   INTEGER NOT NULL DEFAULT 0,  -- its disk, bytes x seconds
  net_rx              INTEGER NOT NULL DEFAULT 0,  -- bytes received
  net_tx              INTEGER NOT NULL DEFAULT 0,  -- bytes sent
  PRIMARY KEY (tenant_id, jail, res, t)
);
CREATE INDEX usage_age ON usage(res, t);
