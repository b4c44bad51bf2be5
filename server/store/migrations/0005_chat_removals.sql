-- When each person left each chat: the seq of the `members` event that
-- removed them (docs/chats.md, "Removal").  Every read of a chat's log for
-- a reader is bounded by it, so nothing written after someone's removal
-- reaches them, however far behind their catch-up is.  Written in the
-- transaction that removes the member, next to the `chat_members` delete.
--
-- Not back-filled: a person removed before this migration is no member,
-- so no catch-up reads that chat for them; one removed and added again
-- before it sees the chat as any member added later does (docs/chats.md).
--
-- Portable SQL: this file must also run on PostgreSQL.

CREATE TABLE chat_removals (
    chat_id TEXT NOT NULL REFERENCES chats (id),
    person_oid BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (chat_id, person_oid, seq)
);
