-- The retention sweep (server/store/retention.py) deletes idempotency keys
-- by age; this keeps that from reading the whole table.
--
-- Portable SQL: this file runs on SQLite and PostgreSQL alike.

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
