-- Safety: moderation state of chats and members, the audit log, reports,
-- per-school settings, and the outbox of roster changes that open
-- connections must hear about (docs/safety.md).
--
-- Portable SQL: this file must also run on PostgreSQL.

-- Chat events gain the kind 'moderation' (mute, unmute, announcements,
-- pin, unpin).  A CHECK cannot be altered portably, so the table is
-- rebuilt with its rows.
CREATE TABLE chat_events_v3 (
    chat_id TEXT NOT NULL REFERENCES chats (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL
        CHECK (kind IN ('message', 'edit', 'delete', 'reaction', 'members', 'moderation')),
    author_oid BIGINT,  -- NULL for changes the roster made
    at DOUBLE PRECISION NOT NULL,
    message_id BIGINT,
    data TEXT NOT NULL,  -- JSON
    PRIMARY KEY (chat_id, seq)
);

INSERT INTO chat_events_v3 (chat_id, seq, kind, author_oid, at, message_id, data)
    SELECT chat_id, seq, kind, author_oid, at, message_id, data FROM chat_events;

DROP TABLE chat_events;

ALTER TABLE chat_events_v3 RENAME TO chat_events;

-- Only moderators post while announcements is 1.
ALTER TABLE chats ADD COLUMN announcements INTEGER NOT NULL DEFAULT 0;

-- The pinned message's id, if any.
ALTER TABLE chats ADD COLUMN pinned BIGINT;

-- A member may not post before this unix time.
ALTER TABLE chat_members ADD COLUMN muted_until DOUBLE PRECISION;

-- What moderators and admins did, for the school's admins to read.
-- Written in the transaction of the action itself.
CREATE TABLE audit_log (
    id BIGINT NOT NULL PRIMARY KEY,  -- ascending in commit order
    at DOUBLE PRECISION NOT NULL,
    school_id TEXT,  -- whose admins read it
    actor_oid BIGINT NOT NULL,
    action TEXT NOT NULL,
    chat_id TEXT,
    target_oid BIGINT,
    message_id BIGINT,
    details TEXT NOT NULL  -- JSON
);

CREATE INDEX audit_log_school ON audit_log (school_id, id);

-- A member's report of a message.  text keeps the message as it was when
-- reported, even after the message is deleted.
CREATE TABLE reports (
    id BIGINT NOT NULL PRIMARY KEY,
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

-- Who was sent a report: the chat's moderators when it was made.
CREATE TABLE report_recipients (
    report_id BIGINT NOT NULL REFERENCES reports (id),
    person_oid BIGINT NOT NULL,
    PRIMARY KEY (report_id, person_oid)
);

CREATE INDEX report_recipients_person ON report_recipients (person_oid, report_id);

CREATE TABLE school_settings (
    school_id TEXT NOT NULL PRIMARY KEY,
    data TEXT NOT NULL,  -- JSON: the settings that differ from the defaults
    updated_at DOUBLE PRECISION NOT NULL
);

-- One row per roster import that changed roster chats: the members events
-- it wrote, so that every server node announces them to open connections
-- (an import may run in another process).
CREATE TABLE roster_changes (
    generation BIGINT NOT NULL PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    changes TEXT NOT NULL  -- JSON: [{"chat", "seq", "added", "removed"}]
);
