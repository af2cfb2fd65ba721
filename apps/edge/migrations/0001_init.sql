-- API keys: only the sha256 of each secret is stored.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,            -- space-separated: jobs:write jobs:read uploads:write
  rate_per_minute INTEGER NOT NULL,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL
);
-- Fixed one-minute windows per key.
CREATE TABLE rate_windows (
  key_id TEXT NOT NULL,
  window INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key_id, window)
);
-- Idempotency: (key, Idempotency-Key) → job, with the request's hash.
CREATE TABLE idempotency (
  key_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  job_id TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, idem_key)
);
