"""Property: a school admin's uploads change nothing of other schools' people.

Generated two- and three-school rosters (tests/safety/rosters.py) are
imported by the operator; then an admin of one school (sometimes of two)
uploads one file, or two in a row (the takeovers that were found took two
steps), each made from a mutated copy of the district: people renamed or
aged, people of any school, or of none, put into her classes, on her staff
or named parents, her own rows removed, guardian links added and removed
for children anywhere.

The expected outcome is worked out independently of the code under test:
the rules of docs/roster.md ("Uploads by a school's admin") are written
again below over whole tables, and the operator's import of the same file
on a second store says what the file asks for.  Each upload must be refused
exactly when the rules refuse it, with nothing written; an accepted one
must give the operator's result with what the rules keep (the records and
guardians the file may not change) as they were.  Whatever the outcome,
over both uploads, no fact of a person who was not on her school's roster
changes, and no record or guardian of a person who also belongs to another
school does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from server.roster.authority import OPERATOR, school_admin
from server.roster.document import RosterDocument, parse_roster
from server.roster.errors import RosterOutsideSchool
from server.roster.model import OID, ClassId, Role, SchoolId
from server.roster.rows import (
    ClassRow,
    GuardianRow,
    MemberRow,
    RosterRows,
    RosterScope,
    StaffRow,
)
from server.store.sqlite import SqliteStore
from tests.safety.rosters import born, person, rosters, to_document

UPLOADER = OID(9000)
NEWBORN = OID(9001)
Schools = frozenset[SchoolId]


@dataclasses.dataclass(frozen=True)
class Case:
    base: RosterRows  # the district before, with the uploader on it
    admin_of: Schools  # the schools the uploader administers
    uploads: tuple[dict[str, object], ...]  # the files she uploads, in turn


# -- the rules, over whole tables ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Belonging:
    """Where everyone is: on a roster (student, staff, guardian of a student),
    a student, and the schools their guardians are on the roster of."""

    roster: dict[OID, set[SchoolId]]
    studies: dict[OID, set[SchoolId]]
    family: dict[OID, set[SchoolId]]

    @classmethod
    def of(cls, rows: RosterRows) -> Belonging:
        studies: defaultdict[OID, set[SchoolId]] = defaultdict(set)
        roster: defaultdict[OID, set[SchoolId]] = defaultdict(set)
        for member in rows.members:
            studies[member.oid].add(member.school_id)
            roster[member.oid].add(member.school_id)
        for staff in rows.staff:
            roster[staff.oid].add(staff.school_id)
        for link in rows.guardians:
            roster[link.parent] |= studies[link.child]
        family: defaultdict[OID, set[SchoolId]] = defaultdict(set)
        for link in rows.guardians:
            family[link.child] |= roster[link.parent]
        return cls(dict(roster), dict(studies), dict(family))

    def schools(self, oid: OID) -> set[SchoolId]:
        return self.roster.get(oid, set()) | self.family.get(oid, set())


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    kept_people: frozenset[OID]  # whose records the file does not change
    kept_children: frozenset[OID]  # whose guardians the file does not change


def judge(before: RosterRows, doc: RosterDocument, mine: Schools) -> Verdict:
    """docs/roster.md's four rules for an upload by an admin of ``mine``."""
    where = Belonging.of(before)
    wanted = RosterRows.from_document(doc)

    def on_mine(oid: OID) -> bool:
        return bool(where.roster.get(oid, set()) & mine)

    def stored(oid: OID) -> bool:
        return oid in before.people

    def elsewhere(oid: OID) -> bool:
        return bool(where.schools(oid) - mine)

    def stranger(oid: OID) -> bool:
        return stored(oid) and not on_mine(oid) and elsewhere(oid)

    def may_bring_in(oid: OID) -> bool:
        return not stored(oid) or on_mine(oid)

    def record_mine(oid: OID) -> bool:
        return not stored(oid) or (on_mine(oid) and not elsewhere(oid))

    def links_mine(child: OID) -> bool:
        return not stored(child) or (record_mine(child) and bool(where.studies.get(child)))

    named = {school.id for school in doc.schools}
    studies_after: defaultdict[OID, set[SchoolId]] = defaultdict(set)
    for member in before.members:
        if member.school_id not in named:
            studies_after[member.oid].add(member.school_id)
    for member in wanted.members:
        studies_after[member.oid].add(member.school_id)
    children = RosterScope.of(doc).guardian_children

    refused = (
        bool(named - mine)
        or any(stranger(oid) for oid in wanted.people)
        or any(not may_bring_in(r.oid) for r in wanted.staff - before.staff)
        or any(not may_bring_in(m.oid) for m in wanted.members - before.members)
        or any(
            not studies_after[link.child] or not may_bring_in(link.parent)
            for link in wanted.guardians - before.guardians
            if links_mine(link.child)
        )
    )
    return Verdict(
        allowed=not refused,
        kept_people=frozenset(oid for oid in wanted.people if stored(oid) and not record_mine(oid)),
        kept_children=frozenset(child for child in children if not links_mine(child)),
    )


def with_kept(expected: RosterRows, before: RosterRows, verdict: Verdict) -> RosterRows:
    """The operator's result, with what the rules keep as it was."""
    people = dict(expected.people)
    people.update({oid: before.people[oid] for oid in verdict.kept_people})
    kept = verdict.kept_children
    guardians = {g for g in expected.guardians if g.child not in kept}
    guardians |= {g for g in before.guardians if g.child in kept}
    return dataclasses.replace(expected, people=people, guardians=frozenset(guardians))


def facts_of(rows: RosterRows, oid: OID) -> tuple[object, ...]:
    """What the roster says about one person, and whose parent they are."""
    return (
        rows.people.get(oid),
        sorted((r.school_id, r.role) for r in rows.staff if r.oid == oid),
        sorted((r.school_id, r.class_id) for r in rows.members if r.oid == oid),
        sorted(r.parent for r in rows.guardians if r.child == oid),
        sorted(r.child for r in rows.guardians if r.parent == oid),
    )


# -- generated districts and uploads ---------------------------------------------


@st.composite
def upload_files(draw: st.DrawFn, base: RosterRows, admin_of: Schools) -> dict[str, object]:
    """A file an admin of ``admin_of`` might upload: the district as she would
    have it, cut to the schools she names."""
    schools = sorted(admin_of)
    home = schools[0]
    named = schools if draw(st.booleans()) else [home]
    where = Belonging.of(base)
    everyone = sorted(base.people)
    # Often only her people and people on no roster, so uploads get through.
    ours = [oid for oid in everyone if where.roster.get(oid, set()) <= admin_of]
    pool = everyone if draw(st.booleans()) else ours or everyone

    people = dict(base.people)
    for oid in draw(st.lists(st.sampled_from(everyone), max_size=3, unique=True)):
        record = people[oid]
        if draw(st.booleans()):
            people[oid] = dataclasses.replace(record, last_name=record.last_name + "-новая")
        else:
            people[oid] = dataclasses.replace(
                record,
                birth_date=record.birth_date - datetime.timedelta(days=draw(st.integers(1, 400))),
            )
    members = {(m.school_id, m.oid): m.class_id for m in base.members}
    home_classes = sorted(c.id for c in base.classes.values() if c.school_id in named)
    school_of = {c.id: c.school_id for c in base.classes.values()}
    for oid in draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)):
        class_id = draw(st.sampled_from(home_classes))
        members[(school_of[class_id], oid)] = class_id
    placed = sorted(key for key in members if key[0] in named)
    for key in draw(st.lists(st.sampled_from(placed), max_size=2, unique=True)) if placed else []:
        del members[key]
    staff = set(base.staff)
    for oid in draw(st.lists(st.sampled_from(pool), max_size=2, unique=True)):
        staff.add(StaffRow(draw(st.sampled_from(named)), oid, Role.TEACHER))
    our_staff = sorted((r for r in staff if r.school_id in named and r.oid != UPLOADER), key=str)
    if our_staff:
        for row in draw(st.lists(st.sampled_from(our_staff), max_size=2, unique=True)):
            staff.discard(row)
    guardians = set(base.guardians)
    for child, parent in draw(
        st.lists(st.tuples(st.sampled_from(everyone), st.sampled_from(pool)), max_size=3)
    ):
        if parent != child and people[parent].birth_date < people[child].birth_date:
            guardians.add(GuardianRow(child, parent))
    if base.guardians:
        for link in draw(
            st.lists(st.sampled_from(sorted(base.guardians, key=str)), max_size=2, unique=True)
        ):
            guardians.discard(link)
    pupils = sorted({m.oid for m in base.members})
    if pupils and draw(st.booleans()):
        # A newborn of her school with a pupil of any school as its guardian.
        people[NEWBORN] = person(NEWBORN, born(4))
        members[(school_of[home_classes[0]], NEWBORN)] = home_classes[0]
        guardians.add(GuardianRow(NEWBORN, draw(st.sampled_from(pupils))))
    guardians = {g for g in guardians if people[g.parent].birth_date < people[g.child].birth_date}

    # The file: the named schools as the upload has them, the guardians of
    # their students and of a few children from anywhere, and the people it
    # mentions plus a few more.
    teachers = {(r.school_id, r.oid) for r in staff if r.role is Role.TEACHER}
    classes = {
        cid: ClassRow(
            cid,
            row.school_id,
            row.name,
            row.class_teacher if (row.school_id, row.class_teacher) in teachers else None,
        )
        for cid, row in base.classes.items()
        if row.school_id in named
    }
    file_members = frozenset(
        MemberRow(school, oid, class_id)
        for (school, oid), class_id in members.items()
        if school in named
    )
    students = {m.oid for m in file_members}
    extra = set(draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)))
    file_guardians = frozenset(g for g in guardians if g.child in students | extra)
    subject_teachers = frozenset(
        t
        for t in base.subject_teachers
        if t.class_id in classes and (classes[t.class_id].school_id, t.oid) in teachers
    )
    file_staff = frozenset(r for r in staff if r.school_id in named)
    mentioned: set[OID] = (
        {r.oid for r in file_staff}
        | students
        | {g.child for g in file_guardians}
        | {g.parent for g in file_guardians}
        | set(draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)))
    )
    mentioned |= {c.class_teacher for c in classes.values() if c.class_teacher is not None}
    upload_rows = RosterRows(
        people={oid: people[oid] for oid in sorted(mentioned)},
        schools={s: base.schools[s] for s in named},
        classes=classes,
        staff=file_staff,
        members=file_members,
        subject_teachers=subject_teachers,
        guardians=file_guardians,
    )
    document = to_document(upload_rows)
    # A Guardian record for each extra child, so the file replaces their links.
    listed = {record["child"] for record in document["guardians"]}
    for child in sorted((extra & set(upload_rows.people)) - listed):
        document["guardians"].append({"child": child, "parents": []})
    return document


@st.composite
def cases(draw: st.DrawFn) -> Case:
    district = draw(rosters().filter(lambda rows: len(rows.schools) >= 2))
    schools = sorted(district.schools)
    home = draw(st.sampled_from(schools))
    admin_of = {home}
    if len(schools) > 2 and draw(st.booleans()):
        admin_of.add(draw(st.sampled_from([s for s in schools if s != home])))
    uploader = person(UPLOADER, born(45))
    base = dataclasses.replace(
        district,
        people={**district.people, UPLOADER: uploader},
        staff=district.staff | {StaffRow(s, UPLOADER, Role.ADMIN) for s in admin_of},
    )
    mine = frozenset(admin_of)
    count = draw(st.integers(1, 2))
    uploads = tuple(draw(upload_files(base, mine)) for _ in range(count))
    return Case(base, mine, uploads)


# -- the property ---------------------------------------------------------------------


async def _run(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        uploaded = SqliteStore(Path(folder) / "uploaded.db")
        await uploaded.open()
        try:
            await uploaded.import_roster(parse_roster(to_document(case.base)))
            start = await uploaded.roster_rows()
            for number, data in enumerate(case.uploads):
                await _upload(uploaded, Path(folder) / f"operator-{number}.db", data, case)
            _assert_untouched(start, await uploaded.roster_rows(), case.admin_of)
        finally:
            await uploaded.close()


async def _upload(store: SqliteStore, scratch: Path, data: dict[str, Any], case: Case) -> None:
    """One upload, checked against the rules and the operator's result."""
    before = await store.roster_rows()
    doc = parse_roster(data)
    verdict = judge(before, doc, case.admin_of)
    operator = SqliteStore(scratch)
    await operator.open()
    try:
        await operator.import_roster(parse_roster(to_document(before)))
        await operator.import_roster(doc, OPERATOR)
        expected = with_kept(await operator.roster_rows(), before, verdict)
    finally:
        await operator.close()
    try:
        report = await store.import_roster(doc, school_admin(UPLOADER))
        accepted = True
    except RosterOutsideSchool:
        accepted = False
    after = await store.roster_rows()

    event("accepted" if accepted else "refused")
    if verdict.kept_people or verdict.kept_children:
        event("some of the file kept")
    assert accepted == verdict.allowed
    assert after == (expected if accepted else before)
    if accepted:
        kept_paths = {note.split(":", 1)[0] for note in report.kept}
        people_at = {p.oid: f"people[{i}]" for i, p in enumerate(doc.people)}
        assert {people_at[oid] for oid in verdict.kept_people} <= kept_paths
        await _assert_audited(store, before, after, case.admin_of)


def _assert_untouched(start: RosterRows, end: RosterRows, mine: Schools) -> None:
    """Over all her uploads: a person not on her school's roster keeps every
    fact and child; one who also belongs to another school keeps their record
    and guardians."""
    where = Belonging.of(start)
    for oid in start.people:
        first, last = facts_of(start, oid), facts_of(end, oid)
        if not where.roster.get(oid, set()) & mine:
            assert last == first, f"{oid}, not on her roster, was changed"
        elif where.schools(oid) - mine:
            assert (last[0], last[3]) == (first[0], first[3]), (
                f"the record or guardians of {oid}, of another school too, changed"
            )


async def _assert_audited(
    store: SqliteStore, before: RosterRows, after: RosterRows, admin_of: Schools
) -> None:
    """Every row an accepted upload changed has an audit row in its school."""
    changed: set[tuple[SchoolId, str, OID]] = set()
    for row in after.staff ^ before.staff:
        changed.add((row.school_id, "staff", row.oid))
    for member in after.members ^ before.members:
        changed.add((member.school_id, "class_members", member.oid))
    for school in admin_of:
        entries = await store.audit_log(school, after=0, limit=500)
        seen = {
            (school, e.record.details["table"], e.record.target)
            for e in entries
            if e.record.action == "roster.change"
        }
        assert {c for c in changed if c[0] == school} <= seen


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=cases())
def test_uploads_change_no_fact_of_another_schools_people(case: Case) -> None:
    asyncio.run(_run(case))


# -- the oracle can say no ------------------------------------------------------------


def _district(rows: Iterable[StaffRow | MemberRow | GuardianRow]) -> RosterRows:
    """Children 1 to 3, adults 10 and up, the rows given."""
    people = {OID(oid): person(oid, born(9)) for oid in (1, 2, 3)}
    people |= {OID(oid): person(oid, born(40)) for oid in (10, 11, 12)}
    given = list(rows)
    return RosterRows(
        people=people,
        staff=frozenset(r for r in given if isinstance(r, StaffRow)),
        members=frozenset(r for r in given if isinstance(r, MemberRow)),
        guardians=frozenset(r for r in given if isinstance(r, GuardianRow)),
    )


def test_the_oracle_refuses_the_takeovers_that_were_found() -> None:
    """So the property above can fail: the rules refuse a stranger's guardian
    link to another school's child, the claim of a child on no roster, and
    naming a person on no roster a parent; and they keep the record of a
    child whose guardian is on another school's roster."""
    a, b = SchoolId("a"), SchoolId("b")
    mine = frozenset({b})
    admin = StaffRow(b, OID(10), Role.ADMIN)
    school_b = {"id": "b", "name": "Б", "staff": [{"oid": 10, "roles": ["admin"]}]}

    def doc(*, people: list[int], students: list[int], guardians: list[Any]) -> RosterDocument:
        listed = [
            {
                "oid": p,
                "last_name": "Ф",
                "first_name": "И",
                "birth_date": born(40 if p >= 10 else 9).isoformat(),
            }
            for p in sorted({10, *people})
        ]
        klass = {"id": "b-1", "name": "1А", "students": students}
        return parse_roster(
            {
                "version": 1,
                "people": listed,
                "schools": [{**school_b, "classes": [klass]}],
                "guardians": guardians,
            }
        )

    child_of_a = _district([admin, MemberRow(a, OID(1), ClassId("a-1"))])
    take = doc(people=[1], students=[], guardians=[{"child": 1, "parents": [10]}])
    assert not judge(child_of_a, take, mine).allowed
    assert judge(child_of_a, take, frozenset({a, b})).allowed

    nobody = _district([admin, GuardianRow(OID(2), OID(11))])  # 2 studies nowhere
    claim = doc(people=[2, 11], students=[2], guardians=[{"child": 2, "parents": [11]}])
    assert not judge(nobody, claim, mine).allowed
    new_parent = doc(people=[3, 11], students=[3], guardians=[{"child": 3, "parents": [11]}])
    nobody_3 = dataclasses.replace(
        nobody, people={k: v for k, v in nobody.people.items() if k != 3}
    )
    assert not judge(nobody_3, new_parent, mine).allowed

    family_at_a = _district(
        [
            admin,
            MemberRow(b, OID(1), ClassId("b-1")),
            StaffRow(a, OID(11), Role.TEACHER),
            GuardianRow(OID(1), OID(11)),
        ]
    )
    listed = doc(people=[1, 11], students=[1], guardians=[{"child": 1, "parents": [11]}])
    verdict = judge(family_at_a, listed, mine)
    assert verdict.allowed
    assert verdict.kept_people == {OID(1), OID(11)} and verdict.kept_children == {OID(1)}
