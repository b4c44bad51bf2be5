-- Browser sign-in through ESIA (docs/auth.md, "Signing in through ESIA").
--
-- `sign_ins`: one row per «Войти» click until the browser comes back from
-- ESIA, or the row expires.  The `state` sent to ESIA and the cookie that
-- binds it to the browser are kept only as SHA-256 digests (hex), so the
-- table is no use to whoever reads it.  A callback takes its row (reads
-- and deletes it in one transaction): a state is good once.
--
-- `web_sessions`: a signed-in browser.  Its cookie is kept as a digest too.
-- The ESIA access and refresh tokens stay here, on the server: the browser
-- holds only the cookie.  `expires_at` bounds the session however often its
-- token is renewed; `access_expires_at` is when the access token runs out.
--
-- Portable SQL: this file must also run on PostgreSQL.

CREATE TABLE sign_ins (
    state_digest TEXT NOT NULL PRIMARY KEY,
    browser_digest TEXT NOT NULL,
    return_to TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX sign_ins_expiry ON sign_ins (expires_at);

CREATE TABLE web_sessions (
    id_digest TEXT NOT NULL PRIMARY KEY,
    person_oid BIGINT NOT NULL,
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    access_expires_at DOUBLE PRECISION NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
