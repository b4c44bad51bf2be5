"""Importing roster files into the store (on both engines), and reading profiles back."""

from __future__ import annotations

import asyncio
import copy
import datetime
import sqlite3
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.errors import StoreUnavailable
from server.roster import diff as diff_module
from server.roster.demo import DEMO_ROSTER, seed_demo
from server.roster.document import RosterDocument, load_roster_file, parse_roster
from server.roster.errors import RosterError
from server.roster.model import OID, ClassId, Role, SchoolId
from server.roster.rows import RosterRows
from server.store import SqliteStore, SqlStore
from server.store import postgres as postgres_module
from server.store import roster_import as roster_import_module
from server.store import sqlite as sqlite_module
from tests.conftest import Database
from tests.storedump import dump

pytestmark = pytest.mark.both_engines

S1, S2 = SchoolId("sosh-1"), SchoolId("lyceum-2")
CLASS_A, CLASS_B, CLASS_L = ClassId("sosh-1-5a"), ClassId("sosh-1-5b"), ClassId("lyceum-2-7a")
DIRECTOR, MATHS, ENGLISH_MUM, KID_A, KID_B, KID_A2, DAD, LYCEUM_TEACHER, PUPIL = (
    1000100001,
    1000100004,
    1000100006,
    1000100101,
    1000100126,
    1000100102,
    1000100201,
    1000100301,
    1000100302,
)


def human(oid: int, last: str, first: str, middle: str | None, born: str) -> dict[str, Any]:
    return {
        "oid": oid,
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "birth_date": born,
    }


def roster() -> dict[str, Any]:
    """Two schools.  ENGLISH_MUM teaches in both 5th forms and is KID_B's mother;
    DAD has a child in each 5th form."""
    return {
        "version": 1,
        "people": [
            human(DIRECTOR, "Соколова", "Елена", "Викторовна", "1968-04-12"),
            human(MATHS, "Волкова", "Наталья", "Сергеевна", "1976-11-30"),
            human(ENGLISH_MUM, "Новикова", "Ольга", "Дмитриевна", "1984-05-21"),
            human(KID_A, "Белов", "Артём", "Дмитриевич", "2016-02-14"),
            human(KID_A2, "Гусев", "Степан", "Николаевич", "2016-01-10"),
            human(KID_B, "Белова", "Алиса", "Дмитриевна", "2016-02-14"),
            human(DAD, "Белов", "Дмитрий", "Олегович", "1984-07-19"),
            human(LYCEUM_TEACHER, "Орлов", "Роман", None, "1976-02-07"),
            human(PUPIL, "Орлова", "Дарья", "Романовна", "2013-10-02"),
        ],
        "schools": [
            {
                "id": S1,
                "name": "МБОУ «СОШ № 1»",
                "staff": [
                    {"oid": DIRECTOR, "roles": ["admin"]},
                    {"oid": MATHS, "roles": ["teacher"]},
                    {"oid": ENGLISH_MUM, "roles": ["teacher"]},
                ],
                "classes": [
                    {
                        "id": CLASS_A,
                        "name": "5А",
                        "class_teacher": MATHS,
                        "subject_teachers": [
                            {"oid": MATHS, "subject": "Математика"},
                            {"oid": ENGLISH_MUM, "subject": "Английский язык"},
                        ],
                        "students": [KID_A, KID_A2],
                    },
                    {
                        "id": CLASS_B,
                        "name": "5Б",
                        "class_teacher": ENGLISH_MUM,
                        "subject_teachers": [
                            {"oid": MATHS, "subject": "Математика"},
                            {"oid": ENGLISH_MUM, "subject": "Английский язык"},
                        ],
                        "students": [KID_B],
                    },
                ],
            },
            {
                "id": S2,
                "name": "Лицей № 2",
                "staff": [{"oid": LYCEUM_TEACHER, "roles": ["teacher", "admin"]}],
                "classes": [
                    {
                        "id": CLASS_L,
                        "name": "7А",
                        "class_teacher": LYCEUM_TEACHER,
                        "students": [PUPIL],
                    }
                ],
            },
        ],
        "guardians": [
            {"child": KID_A, "parents": [DAD]},
            {"child": KID_B, "parents": [DAD, ENGLISH_MUM]},
            {"child": PUPIL, "parents": [LYCEUM_TEACHER]},
        ],
    }


def only_school_1(data: dict[str, Any]) -> dict[str, Any]:
    """The same file cut down to school 1 (a file may carry one school of several)."""
    data = copy.deepcopy(data)
    data["schools"] = [data["schools"][0]]
    data["guardians"] = [g for g in data["guardians"] if g["child"] != PUPIL]
    return data


def sqlite_dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of a SQLite file, with rowids."""
    with closing(sqlite3.connect(path)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: db.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()  # noqa: S608
            for table in tables
        }


@pytest.fixture
async def store(database: Database) -> AsyncIterator[SqlStore]:
    opened = database.store()
    await opened.open()
    yield opened
    await opened.close()


async def imported(store: SqlStore, data: dict[str, Any] | None = None) -> SqlStore:
    await store.import_roster(parse_roster(data if data is not None else roster()))
    return store


# --------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------


async def test_student_profile(store: SqlStore) -> None:
    profile = await (await imported(store)).profile(KID_A)

    assert profile is not None
    assert profile.person.full_name == "Белов Артём Дмитриевич"
    assert profile.person.is_minor(datetime.date(2026, 11, 22))
    assert [(r.school_id, r.school_name, r.role) for r in profile.roles] == [
        (S1, "МБОУ «СОШ № 1»", Role.STUDENT)
    ]
    assert [(c.class_id, c.class_name, c.relation) for c in profile.classes] == [
        (CLASS_A, "5А", "student")
    ]
    assert profile.children == ()


async def test_parent_profile_lists_children_with_their_classes(store: SqlStore) -> None:
    profile = await (await imported(store)).profile(DAD)

    assert profile is not None
    assert [(r.school_id, r.role) for r in profile.roles] == [(S1, Role.PARENT)]
    assert profile.classes == ()
    assert [
        (child.person.first_name, [link.class_name for link in child.classes])
        for child in profile.children
    ] == [("Артём", ["5А"]), ("Алиса", ["5Б"])]


async def test_teacher_profile_has_class_and_subject_links(store: SqlStore) -> None:
    profile = await (await imported(store)).profile(MATHS)

    assert profile is not None
    assert profile.has_role(Role.TEACHER, S1) and not profile.has_role(Role.PARENT)
    assert [(c.class_name, c.relation, c.subject) for c in profile.classes] == [
        ("5А", "class_teacher", None),
        ("5А", "subject_teacher", "Математика"),
        ("5Б", "subject_teacher", "Математика"),
    ]


async def test_teacher_who_is_also_a_parent(store: SqlStore) -> None:
    profile = await (await imported(store)).profile(ENGLISH_MUM)

    assert profile is not None
    assert [r.role for r in profile.roles] == [Role.PARENT, Role.TEACHER]
    assert [(c.class_name, c.relation) for c in profile.classes] == [
        ("5А", "subject_teacher"),
        ("5Б", "class_teacher"),
        ("5Б", "subject_teacher"),
    ]
    assert [child.person.oid for child in profile.children] == [KID_B]


async def test_roles_in_two_schools_and_unknown_people(store: SqlStore) -> None:
    await imported(store)

    lyceum = await store.profile(LYCEUM_TEACHER)
    assert lyceum is not None
    assert [(r.school_id, r.role) for r in lyceum.roles] == [
        (S2, Role.PARENT),
        (S2, Role.TEACHER),
        (S2, Role.ADMIN),
    ]
    assert await store.profile(42) is None
    assert await store.person(42) is None
    person = await store.person(LYCEUM_TEACHER)
    assert person is not None and person.middle_name is None


async def test_profile_json_survives_the_store(store: SqlStore) -> None:
    profile = await (await imported(store)).profile(DAD)

    assert profile is not None
    body = profile.to_json()
    assert body["children"][1]["classes"][0]["class_id"] == CLASS_B
    assert body["person"]["birth_date"] == "1984-07-19"


# --------------------------------------------------------------------------
# Idempotency, updates, scope
# --------------------------------------------------------------------------


async def test_importing_the_same_file_twice_changes_nothing(store: SqlStore) -> None:
    first = await store.import_roster(parse_roster(roster()))
    before = await dump(store)

    second = await store.import_roster(parse_roster(roster()))

    assert first.changed and first.people.added == 9
    assert not second.changed
    assert second.summary() == "no changes"
    assert await dump(store) == before


async def test_a_later_file_updates_names_and_drops_a_student(store: SqlStore) -> None:
    await imported(store)
    data = roster()
    data["people"][4]["last_name"] = "Гусейнов"
    data["schools"][0]["classes"][1]["students"] = []  # KID_B leaves 5Б
    data["guardians"] = [g for g in data["guardians"] if g["child"] != KID_B]

    report = await store.import_roster(parse_roster(data))

    assert report.people.updated == 1
    assert report.class_members.removed == 1
    assert report.guardians.removed == 0  # KID_B left the school: her parents stay hers
    kid_b = await store.profile(KID_B)
    assert kid_b is not None and kid_b.roles == () and kid_b.classes == ()
    renamed = await store.person(KID_A2)
    assert renamed is not None and renamed.last_name == "Гусейнов"
    dad = await store.profile(DAD)
    assert dad is not None
    assert [(c.person.oid, c.classes) for c in dad.children][1] == (KID_B, ())
    members = (await dump(store))["class_members"]
    assert KID_B not in {row[1] for row in members}  # (school_id, person_oid, class_id)


async def test_a_file_with_one_school_leaves_the_other_alone(store: SqlStore) -> None:
    await imported(store)
    lyceum_before = await store.profile(LYCEUM_TEACHER)
    pupil_before = await store.profile(PUPIL)
    data = only_school_1(roster())
    data["schools"][0]["classes"] = [data["schools"][0]["classes"][0]]  # 5Б is closed

    report = await store.import_roster(parse_roster(data))

    assert report.classes.removed == 1
    assert report.class_members.removed == 1
    assert report.subject_teachers.removed == 2
    assert await store.profile(LYCEUM_TEACHER) == lyceum_before
    assert await store.profile(PUPIL) == pupil_before
    mum = await store.profile(ENGLISH_MUM)
    assert mum is not None
    # Still a teacher in 5А; KID_B is in no class now, so no parent role.
    assert [r.role for r in mum.roles] == [Role.TEACHER]


# --------------------------------------------------------------------------
# All or nothing
# --------------------------------------------------------------------------


def conflicting_file() -> dict[str, Any]:
    """Renames someone (a write that must not survive) and claims the lyceum's class."""
    data = only_school_1(roster())
    data["people"][0]["last_name"] = "Переименованная"
    data["schools"][0]["classes"][1]["id"] = CLASS_L
    return data


async def test_a_class_of_another_school_refuses_the_whole_file(store: SqlStore) -> None:
    await imported(store)
    before = await dump(store)

    with pytest.raises(RosterError) as caught:
        await store.import_roster(parse_roster(conflicting_file()))

    (issue,) = caught.value.issues
    assert issue.path == "schools[0].classes[1].id"
    assert f"already belongs to school {S2}" in issue.message
    assert await dump(store) == before


async def test_a_constraint_failure_mid_import_rolls_everything_back(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await imported(store)
    before = await dump(store)

    def blind_diff(
        doc: RosterDocument, current: RosterRows, *, name_owners: bool = True
    ) -> diff_module.RosterChanges:
        # Hide the stored class so the diff misses the conflict and the
        # database's primary key has to catch it, after other writes.
        classes = {k: v for k, v in current.classes.items() if k != CLASS_L}
        hidden = RosterRows(**{**vars_of(current), "classes": classes})
        return diff_module.diff_roster(doc, hidden, name_owners=name_owners)

    monkeypatch.setattr(roster_import_module, "diff_roster", blind_diff)

    with pytest.raises(RosterError, match="the database refused the roster"):
        await store.import_roster(parse_roster(conflicting_file()))

    assert await dump(store) == before


def vars_of(rows: RosterRows) -> dict[str, Any]:
    return {name: getattr(rows, name) for name in RosterRows.__dataclass_fields__}


async def test_a_database_failure_mid_import_rolls_everything_back(
    store: SqlStore, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await imported(store)
    before = await dump(store)
    # The driver's own error for a database that fails, from the engine's session.
    session: Any = sqlite_module.SqliteSession
    error: Exception = sqlite3.OperationalError("disk I/O error")
    if database.engine == "postgresql":
        session = postgres_module.PostgresSession
        error = asyncpg.exceptions.DiskFullError("could not extend file")
    real = session.executemany
    calls = Counter[str]()

    async def failing(self: Any, sql: str, rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 8:
            raise error
        await real(self, sql, rows)

    monkeypatch.setattr(session, "executemany", failing)
    data = roster()
    data["people"][0]["last_name"] = "Переименованная"
    data["schools"][0]["classes"][0]["students"] = [KID_A]

    with pytest.raises(StoreUnavailable) as caught:
        await store.import_roster(parse_roster(data))

    assert caught.value.__cause__ is error
    assert await dump(store) == before


# --------------------------------------------------------------------------
# The demo school
# --------------------------------------------------------------------------


def test_the_demo_file_is_a_complete_school() -> None:
    doc = load_roster_file(DEMO_ROSTER)
    people = {person.oid: person for person in doc.people}
    parents: dict[OID, tuple[OID, ...]] = {g.child: g.parents for g in doc.guardians}

    (school,) = doc.schools
    assert [record.name for record in school.classes] == ["5А", "5Б"]
    for record in school.classes:
        assert len(record.students) >= 20
        assert record.class_teacher is not None
        assert len({t.oid for t in record.subject_teachers}) >= 3
        for oid in record.students:
            assert len(parents.get(oid, ())) >= 1, f"student {oid} has no parent"
            assert people[oid].is_minor(datetime.date(2026, 11, 22))
    births = sorted(people[oid].birth_date for r in school.classes for oid in r.students)
    assert (births[-1] - births[0]).days < 366  # one school year's intake

    admins = [m.oid for m in school.staff if Role.ADMIN in m.roles]
    teachers = {m.oid for m in school.staff if Role.TEACHER in m.roles}
    all_parents = {p for ps in parents.values() for p in ps}
    assert admins
    assert teachers & all_parents, "a teacher who is also a parent"
    class_of = {oid: r.id for r in school.classes for oid in r.students}
    children_classes: dict[OID, set[ClassId]] = {}
    for child, ps in parents.items():
        for parent in ps:
            children_classes.setdefault(parent, set()).add(class_of[child])
    assert any(len(classes) == 2 for classes in children_classes.values())
    subjects_in: dict[OID, set[ClassId]] = {
        t.oid: set() for r in school.classes for t in r.subject_teachers
    }
    for record in school.classes:
        for t in record.subject_teachers:
            subjects_in[t.oid].add(record.id)
    assert any(len(classes) == 2 for classes in subjects_in.values())


async def test_seed_demo_seeds_an_empty_roster_once(store: SqlStore) -> None:
    first = await seed_demo(store)
    rows = await dump(store)
    second = await seed_demo(store)

    assert first is not None and first.classes.added == 2
    assert second is None
    assert await dump(store) == rows
    directory = await store.directory()
    assert len(directory) == first.people.added
    teacher_parents = [
        e for e in directory if {r.role for r in e.roles} >= {Role.TEACHER, Role.PARENT}
    ]
    assert teacher_parents


async def test_seed_demo_leaves_an_existing_roster_alone(store: SqlStore) -> None:
    await imported(store)

    assert await seed_demo(store) is None
    assert await store.person(1000100150) is None


async def test_directory_is_sorted_by_school_role_class_name(store: SqlStore) -> None:
    await imported(store)

    entries = await store.directory()

    assert [e.person.oid for e in entries] == [
        # Лицей № 2 sorts before МБОУ: student, parent/teacher
        PUPIL,
        LYCEUM_TEACHER,
        # МБОУ «СОШ № 1»: students of 5А, of 5Б, parents (by child's class), teachers, admin
        KID_A,
        KID_A2,
        KID_B,
        DAD,
        ENGLISH_MUM,
        MATHS,
        DIRECTOR,
    ]


# --------------------------------------------------------------------------
# Property: an import's result does not depend on what was there before
# --------------------------------------------------------------------------

POOL = [OID(500 + n) for n in range(8)]  # sorted oldest first
CLASSES = [ClassId("c1"), ClassId("c2"), ClassId("c3")]


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """Random valid files over one school and a fixed pool of people.

    Every person is listed and every person is named in ``guardians``, so the
    file is authoritative for every row the store can hold.
    """
    people = [
        human(oid, draw(st.sampled_from(["Ан", "Бо", "Ве"])), "Имя", None, f"{1970 + i * 5}-01-01")
        for i, oid in enumerate(POOL)
    ]
    teachers = draw(st.lists(st.sampled_from(POOL), unique=True, max_size=3))
    classes = []
    free = list(POOL)
    for class_id in draw(st.lists(st.sampled_from(CLASSES), unique=True)):
        students = draw(st.lists(st.sampled_from(free), unique=True, max_size=3))
        free = [oid for oid in free if oid not in students]
        record: dict[str, Any] = {"id": class_id, "name": class_id.upper(), "students": students}
        if teachers:
            record["class_teacher"] = draw(st.sampled_from([None, *teachers]))
            record["subject_teachers"] = [
                {"oid": oid, "subject": subject}
                for oid, subject in draw(
                    st.lists(
                        st.tuples(st.sampled_from(teachers), st.sampled_from(["Ма", "Ру"])),
                        unique=True,
                        max_size=3,
                    )
                )
            ]
        classes.append(record)
    guardians = [
        {
            "child": child,
            "parents": draw(st.lists(st.sampled_from(POOL[:index]), unique=True, max_size=2))
            if index
            else [],
        }
        for index, child in enumerate(POOL)
    ]
    return {
        "version": 1,
        "people": people,
        "schools": [
            {
                "id": "s1",
                "name": draw(st.sampled_from(["Школа", "Гимназия"])),
                "staff": [{"oid": oid, "roles": ["teacher"]} for oid in teachers],
                "classes": classes,
            }
        ],
        "guardians": guardians,
    }


ROSTER_TABLES = {
    "people",
    "schools",
    "staff",
    "classes",
    "class_members",
    "subject_teachers",
    "guardians",
}


def query_pairs(path: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT chat_id, person_oid FROM chat_members").fetchall()


async def _import_both_ways(first: dict[str, Any], second: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        updated = SqliteStore(Path(folder) / "updated.db")
        fresh = SqliteStore(Path(folder) / "fresh.db")
        await updated.open()
        await fresh.open()
        try:
            await updated.import_roster(parse_roster(first))
            await updated.import_roster(parse_roster(second))
            await fresh.import_roster(parse_roster(second))
            again = await updated.import_roster(parse_roster(second))
            assert not again.changed
            assert again.chats == ()

            def rows(path: Path) -> dict[str, set[tuple[object, ...]]]:
                # The roster tables, and who is in which chat; chat event logs
                # differ (one database saw two imports) and that is right.
                return {
                    table: {row[1:] for row in content}
                    for table, content in sqlite_dump(path).items()
                    if table in ROSTER_TABLES
                } | {"chat_members": set(query_pairs(path))}

            assert rows(updated.path) == rows(fresh.path)
            assert await updated.directory() == await fresh.directory()
        finally:
            await updated.close()
            await fresh.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=documents(), second=documents())
def test_import_result_depends_only_on_the_file(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    asyncio.run(_import_both_ways(first, second))


async def test_oids_beyond_bigint_are_simply_not_found(store: SqlStore) -> None:
    await imported(store)

    assert await store.person(2**70) is None
    assert await store.profile(-1) is None
