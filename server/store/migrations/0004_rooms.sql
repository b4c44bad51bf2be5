-- Rooms: video lessons and parent meetings, who was present and when, and
-- who was removed (docs/protocol.md, "Rooms").  What a room is doing now
-- (who is in, hands, mutes) lives in the memory of the node that hosts it;
-- these tables keep what must outlive a restart.
--
-- Portable SQL: this file must also run on PostgreSQL.
--
-- A room's chat is a group chat owned by the host (kind 'group'), not a
-- new kind: the kinds are a CHECK on chats, and SQLite changes a CHECK only
-- by rebuilding the table, which four tables' foreign keys refer to.  The
-- rebuild cannot pass the foreign key check inside the transaction a
-- migration runs in (docs/architecture.md, "Rooms").
--
-- Like the chats, nothing here refers to the roster tables: a class or a
-- person may leave the roster without being held back by a room.

CREATE TABLE rooms (
    id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('lesson', 'meeting')),
    class_id TEXT NOT NULL,
    school_id TEXT NOT NULL,
    host_oid BIGINT NOT NULL,  -- the teacher who started it
    cohost_oid BIGINT,
    title TEXT NOT NULL,
    starts_at DOUBLE PRECISION,  -- unix time it was scheduled for; NULL: started at once
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,  -- NULL until the host opens a scheduled room
    ended_at DOUBLE PRECISION,  -- NULL until the host ends it
    chat_id TEXT NOT NULL REFERENCES chats (id)
);

CREATE INDEX rooms_class ON rooms (class_id, created_at);

-- One row per interval a person was present: from entering (for a meeting's
-- parents, from being admitted, not from entering the waiting room) to
-- leaving.  left_at is NULL while the person is present.
CREATE TABLE room_attendance (
    room_id TEXT NOT NULL REFERENCES rooms (id),
    person_oid BIGINT NOT NULL,
    interval_no INTEGER NOT NULL,  -- 1, 2, 3... per person and room
    role TEXT NOT NULL CHECK (role IN ('host', 'cohost', 'student', 'parent', 'staff')),
    joined_at DOUBLE PRECISION NOT NULL,
    left_at DOUBLE PRECISION,
    PRIMARY KEY (room_id, person_oid, interval_no)
);

CREATE INDEX room_attendance_open ON room_attendance (left_at, room_id);

-- People the host removed: they may not come back to the room.
CREATE TABLE room_removals (
    room_id TEXT NOT NULL REFERENCES rooms (id),
    person_oid BIGINT NOT NULL,
    removed_by BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (room_id, person_oid)
);
