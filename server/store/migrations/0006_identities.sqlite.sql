-- Ids the database numbers, not MAX(id) + 1 (docs/architecture.md,
-- "Storage"): the audit log, reports and the roster-change outbox.
--
-- SQLite's identity column is the rowid, which a column declared exactly
-- INTEGER PRIMARY KEY names; a column cannot become one, so the three
-- tables (and report_recipients, which refers to reports) are rebuilt with
-- their rows.  report_recipients goes before reports, so nothing refers to
-- the old reports when it is dropped; renaming reports_v6 makes the new
-- report_recipients refer to reports.  Its PostgreSQL twin adds identity
-- columns to the same tables.

CREATE TABLE audit_log_v6 (
    id INTEGER PRIMARY KEY,  -- the rowid: ascending in the order rows are written
    at DOUBLE PRECISION NOT NULL,
    school_id TEXT,
    actor_oid BIGINT NOT NULL,
    action TEXT NOT NULL,
    chat_id TEXT,
    target_oid BIGINT,
    message_id BIGINT,
    details TEXT NOT NULL
);

INSERT INTO audit_log_v6 (id, at, school_id, actor_oid, action, chat_id, target_oid, message_id,
    details)
    SELECT id, at, school_id, actor_oid, action, chat_id, target_oid, message_id, details
    FROM audit_log;

DROP TABLE audit_log;

ALTER TABLE audit_log_v6 RENAME TO audit_log;

CREATE INDEX audit_log_school ON audit_log (school_id, id);

CREATE TABLE reports_v6 (
    id INTEGER PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats (id),
    message_id BIGINT NOT NULL,
    reporter_oid BIGINT NOT NULL,
    author_oid BIGINT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    outcome TEXT CHECK (outcome IN ('removed', 'warned', 'dismissed')),
    resolved_by BIGINT,
    resolved_at DOUBLE PRECISION,
    note TEXT,
    UNIQUE (chat_id, message_id, reporter_oid)
);

INSERT INTO reports_v6 (id, chat_id, message_id, reporter_oid, author_oid, text, reason,
    created_at, status, outcome, resolved_by, resolved_at, note)
    SELECT id, chat_id, message_id, reporter_oid, author_oid, text, reason, created_at, status,
        outcome, resolved_by, resolved_at, note
    FROM reports;

CREATE TABLE report_recipients_v6 (
    report_id BIGINT NOT NULL REFERENCES reports_v6 (id),
    person_oid BIGINT NOT NULL,
    PRIMARY KEY (report_id, person_oid)
);

INSERT INTO report_recipients_v6 (report_id, person_oid)
    SELECT report_id, person_oid FROM report_recipients;

DROP TABLE report_recipients;

DROP TABLE reports;

ALTER TABLE reports_v6 RENAME TO reports;

ALTER TABLE report_recipients_v6 RENAME TO report_recipients;

CREATE INDEX report_recipients_person ON report_recipients (person_oid, report_id);

CREATE TABLE roster_changes_v6 (
    generation INTEGER PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    changes TEXT NOT NULL
);

INSERT INTO roster_changes_v6 (generation, at, changes)
    SELECT generation, at, changes FROM roster_changes;

DROP TABLE roster_changes;

ALTER TABLE roster_changes_v6 RENAME TO roster_changes;
