-- The school roster: people, schools, their staff and classes, class
-- members, subject teachers and guardians.  Roles are not stored: they are
-- derived from these rows (docs/roster.md).
--
-- Portable SQL: this file must also run on PostgreSQL (BIGINT for OIDs,
-- TEXT for strings and ISO dates, no AUTOINCREMENT, no SQLite-only syntax).

CREATE TABLE people (
    oid BIGINT NOT NULL PRIMARY KEY,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    middle_name TEXT,
    birth_date TEXT NOT NULL  -- YYYY-MM-DD
);

CREATE TABLE schools (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE staff (
    school_id TEXT NOT NULL REFERENCES schools (id),
    person_oid BIGINT NOT NULL REFERENCES people (oid),
    role TEXT NOT NULL CHECK (role IN ('teacher', 'admin')),
    PRIMARY KEY (school_id, person_oid, role)
);

CREATE INDEX staff_person ON staff (person_oid);

CREATE TABLE classes (
    id TEXT NOT NULL PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id),
    name TEXT NOT NULL,
    class_teacher_oid BIGINT REFERENCES people (oid),
    UNIQUE (school_id, id)
);

CREATE INDEX classes_class_teacher ON classes (class_teacher_oid);

-- A student is in at most one class per school: the key is (school, person).
CREATE TABLE class_members (
    school_id TEXT NOT NULL,
    person_oid BIGINT NOT NULL REFERENCES people (oid),
    class_id TEXT NOT NULL,
    PRIMARY KEY (school_id, person_oid),
    FOREIGN KEY (school_id, class_id) REFERENCES classes (school_id, id)
);

CREATE INDEX class_members_class ON class_members (class_id);
CREATE INDEX class_members_person ON class_members (person_oid);

CREATE TABLE subject_teachers (
    class_id TEXT NOT NULL REFERENCES classes (id),
    person_oid BIGINT NOT NULL REFERENCES people (oid),
    subject TEXT NOT NULL,
    PRIMARY KEY (class_id, person_oid, subject)
);

CREATE INDEX subject_teachers_person ON subject_teachers (person_oid);

CREATE TABLE guardians (
    child_oid BIGINT NOT NULL REFERENCES people (oid),
    parent_oid BIGINT NOT NULL REFERENCES people (oid),
    PRIMARY KEY (child_oid, parent_oid),
    CHECK (child_oid <> parent_oid)
);

CREATE INDEX guardians_parent ON guardians (parent_oid);
