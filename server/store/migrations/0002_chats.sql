-- Chats: each an ordered log of events (server/chats/model.py), with the
-- state those events leave behind (members, messages, reactions) kept in
-- tables of its own so that it can be read without replaying the log.
--
-- Portable SQL: this file must also run on PostgreSQL (BIGINT for OIDs and
-- sequence numbers, DOUBLE PRECISION for unix times, TEXT for strings and
-- JSON, no AUTOINCREMENT, no SQLite-only syntax).
--
-- Nothing here refers to the roster tables: people and classes leave the
-- roster without being held back by chat rows.  The roster sync
-- (server/store/chat_sql.py) removes them from the roster chats instead.

CREATE TABLE chats (
    id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL
        CHECK (kind IN ('direct', 'class', 'class_parents', 'staff', 'group')),
    title TEXT NOT NULL,  -- '' for direct chats: each side sees the other's name
    school_id TEXT,
    class_id TEXT,
    owner_oid BIGINT,  -- groups only
    created_at DOUBLE PRECISION NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0  -- the seq of the latest event; 0 before the first
);

CREATE TABLE chat_members (
    chat_id TEXT NOT NULL REFERENCES chats (id),
    person_oid BIGINT NOT NULL,
    read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, person_oid)
);

CREATE INDEX chat_members_person ON chat_members (person_oid, chat_id);

-- The log.  message_id is the message an event is about (for a message
-- event its own seq), so that a delete can find the events to empty.
CREATE TABLE chat_events (
    chat_id TEXT NOT NULL REFERENCES chats (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('message', 'edit', 'delete', 'reaction', 'members')),
    author_oid BIGINT,  -- NULL for changes the roster made
    at DOUBLE PRECISION NOT NULL,
    message_id BIGINT,
    data TEXT NOT NULL,  -- JSON
    PRIMARY KEY (chat_id, seq)
);

-- A message's current state; id is the seq of its message event.
CREATE TABLE messages (
    chat_id TEXT NOT NULL REFERENCES chats (id),
    id BIGINT NOT NULL,
    author_oid BIGINT NOT NULL,
    text TEXT,  -- NULL once deleted
    reply_to BIGINT,
    version INTEGER NOT NULL DEFAULT 1,
    text_at DOUBLE PRECISION NOT NULL,  -- when the current version was written
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    PRIMARY KEY (chat_id, id)
);

-- The earlier versions of edited messages (the current one is in messages).
CREATE TABLE message_versions (
    chat_id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (chat_id, message_id, version),
    FOREIGN KEY (chat_id, message_id) REFERENCES messages (chat_id, id)
);

-- One row per person, message and emoji ever reacted with: whether the
-- reaction is on now, and the seq of the event that last set it.
CREATE TABLE reactions (
    chat_id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    person_oid BIGINT NOT NULL,
    emoji TEXT NOT NULL,
    active INTEGER NOT NULL CHECK (active IN (0, 1)),
    seq BIGINT NOT NULL,
    PRIMARY KEY (chat_id, message_id, person_oid, emoji),
    FOREIGN KEY (chat_id, message_id) REFERENCES messages (chat_id, id)
);

-- What a (person, key) did first: a retry gets the same event back.
CREATE TABLE idempotency_keys (
    person_oid BIGINT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,  -- SHA-256 of the request
    chat_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (person_oid, key)
);

CREATE TABLE last_seen (
    person_oid BIGINT NOT NULL PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL
);
