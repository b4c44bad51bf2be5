"""Property: a school admin's upload changes nothing of other schools' people.

Generated two- and three-school rosters (tests/safety/rosters.py) are
imported by the operator; then an admin of one school (sometimes of two)
uploads a file made from a mutated copy of the district: people renamed or
aged, people of any school put into her classes or on her staff, her own
rows removed, guardian links added and removed for children anywhere.

The expected outcome is worked out independently of the code under test:
the operator's import of the same file on a second store says what the file
would change, and the rules of docs/roster.md ("Uploads by a school's
admin") are applied to that whole-table difference.  The upload must be
accepted exactly when the rules allow it, then equal the operator's result,
and be refused otherwise, with nothing written.  Whatever the outcome, no
fact about a person on another school's roster changes beyond what the
rules let her school change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.roster.authority import OPERATOR, school_admin
from server.roster.document import parse_roster
from server.roster.errors import RosterOutsideSchool
from server.roster.model import OID, ClassId, Role, SchoolId
from server.roster.rows import (
    ClassRow,
    GuardianRow,
    MemberRow,
    RosterRows,
    StaffRow,
)
from server.store.sqlite import SqliteStore
from tests.safety.rosters import born, person, rosters, to_document

UPLOADER = OID(9000)


@dataclasses.dataclass(frozen=True)
class Case:
    base: RosterRows  # the district before, with the uploader on it
    admin_of: frozenset[SchoolId]  # the schools the uploader administers
    upload: dict[str, object]  # the file she uploads


def on_roster(rows: RosterRows) -> dict[OID, set[SchoolId]]:
    """A person's schools: as student, staff, or guardian of a student."""
    schools: defaultdict[OID, set[SchoolId]] = defaultdict(set)
    studies = studying(rows)
    for member in rows.members:
        schools[member.oid].add(member.school_id)
    for staff in rows.staff:
        schools[staff.oid].add(staff.school_id)
    for link in rows.guardians:
        schools[link.parent] |= studies[link.child]
    return schools


def studying(rows: RosterRows) -> defaultdict[OID, set[SchoolId]]:
    found: defaultdict[OID, set[SchoolId]] = defaultdict(set)
    for member in rows.members:
        found[member.oid].add(member.school_id)
    return found


def allowed(before: RosterRows, after: RosterRows, admin_of: frozenset[SchoolId]) -> bool:
    """The documented rules, applied to the whole-table difference."""
    where = on_roster(before)
    was, will = studying(before), studying(after)

    def elsewhere(oid: OID) -> set[SchoolId]:
        return where[oid] - admin_of

    for oid, record in after.people.items():
        if oid in before.people and before.people[oid] != record and elsewhere(oid):
            return False
    gained: Iterable[StaffRow | MemberRow] = [
        *(after.staff - before.staff),
        *(after.members - before.members),
    ]
    for row in gained:
        if elsewhere(row.oid) and not where[row.oid] & admin_of:
            return False
    for link in after.guardians ^ before.guardians:
        schools = was[link.child] | will[link.child]
        if schools - admin_of:
            return False
        if link in after.guardians and not will[link.child]:
            return False
        parent = link.parent
        if (
            link in after.guardians
            and was[parent] - admin_of
            and elsewhere(parent)
            and not where[parent] & admin_of
        ):
            return False  # a pupil of another school made a parent in hers
        if link in before.guardians and not was[link.child]:
            return False
    return True


def facts_of(rows: RosterRows, oid: OID) -> tuple[object, ...]:
    """What the roster says about one person, but the links where they are a parent
    (those are their children's facts)."""
    return (
        rows.people.get(oid),
        sorted((r.school_id, r.role) for r in rows.staff if r.oid == oid),
        sorted((r.school_id, r.class_id) for r in rows.members if r.oid == oid),
        sorted(r.parent for r in rows.guardians if r.child == oid),
    )


def children(rows: RosterRows, oid: OID) -> set[OID]:
    return {r.child for r in rows.guardians if r.parent == oid}


@st.composite
def cases(draw: st.DrawFn) -> Case:
    district = draw(rosters().filter(lambda rows: len(rows.schools) >= 2))
    schools = sorted(district.schools)
    home = draw(st.sampled_from(schools))
    admin_of = {home}
    if len(schools) > 2 and draw(st.booleans()):
        admin_of.add(draw(st.sampled_from([s for s in schools if s != home])))
    named = sorted(admin_of) if draw(st.booleans()) else [home]
    uploader = person(UPLOADER, born(45))
    base = dataclasses.replace(
        district,
        people={**district.people, UPLOADER: uploader},
        staff=district.staff | {StaffRow(s, UPLOADER, Role.ADMIN) for s in admin_of},
    )
    everyone = sorted(base.people)

    # The district as the upload would have it.
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
    for oid in draw(st.lists(st.sampled_from(everyone), max_size=3, unique=True)):
        class_id = draw(st.sampled_from(home_classes))
        members[(school_of[class_id], oid)] = class_id
    ours = sorted(key for key in members if key[0] in named)
    for key in draw(st.lists(st.sampled_from(ours), max_size=2, unique=True)) if ours else []:
        del members[key]
    staff = set(base.staff)
    for oid in draw(st.lists(st.sampled_from(everyone), max_size=2, unique=True)):
        staff.add(StaffRow(draw(st.sampled_from(named)), oid, Role.TEACHER))
    ours_staff = sorted((r for r in staff if r.school_id in named and r.oid != UPLOADER), key=str)
    if ours_staff:
        for row in draw(st.lists(st.sampled_from(ours_staff), max_size=2, unique=True)):
            staff.discard(row)
    guardians = set(base.guardians)
    for child, parent in draw(
        st.lists(st.tuples(st.sampled_from(everyone), st.sampled_from(everyone)), max_size=3)
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
        newborn = OID(9001)
        people[newborn] = person(newborn, born(4))
        members[(school_of[home_classes[0]], newborn)] = home_classes[0]
        guardians.add(GuardianRow(newborn, draw(st.sampled_from(pupils))))
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
    extra = set(draw(st.lists(st.sampled_from(everyone), max_size=3, unique=True)))
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
        | set(draw(st.lists(st.sampled_from(everyone), max_size=3, unique=True)))
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
    listed = {record["child"] for record in document["guardians"]}  # type: ignore[index]
    for child in sorted((extra & set(upload_rows.people)) - listed):
        document["guardians"].append({"child": child, "parents": []})  # type: ignore[attr-defined]
    return Case(base, frozenset(admin_of), document)


async def _run(case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        uploaded = SqliteStore(Path(folder) / "uploaded.db")
        operator = SqliteStore(Path(folder) / "operator.db")
        await uploaded.open()
        await operator.open()
        try:
            base_doc = parse_roster(to_document(case.base))
            await uploaded.import_roster(base_doc)
            await operator.import_roster(base_doc)
            before = await uploaded.roster_rows()
            doc = parse_roster(case.upload)
            await operator.import_roster(doc, OPERATOR)
            expected = await operator.roster_rows()
            try:
                await uploaded.import_roster(doc, school_admin(UPLOADER))
                accepted = True
            except RosterOutsideSchool:
                accepted = False
            after = await uploaded.roster_rows()

            assert accepted == allowed(before, expected, case.admin_of)
            assert after == (expected if accepted else before)
            where = on_roster(before)
            for oid in before.people:
                others = where[oid] - case.admin_of
                if not others:
                    continue
                mine_before, mine_after = facts_of(before, oid), facts_of(after, oid)
                assert mine_after[0] == mine_before[0], "a person of another school was changed"
                assert mine_after[3] == mine_before[3], (
                    "a child of another school got new guardians"
                )
                if not where[oid] & case.admin_of:
                    assert mine_after == mine_before, "a person of another school was brought in"
                    if studying(before)[oid]:
                        assert children(after, oid) <= children(before, oid), (
                            "a pupil of another school was made a parent in hers"
                        )
            if accepted:
                await _assert_audited(uploaded, before, after, case.admin_of)
        finally:
            await uploaded.close()
            await operator.close()


async def _assert_audited(
    store: SqliteStore, before: RosterRows, after: RosterRows, admin_of: frozenset[SchoolId]
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
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=cases())
def test_an_upload_changes_no_fact_of_another_schools_people(case: Case) -> None:
    asyncio.run(_run(case))


def test_the_oracle_refuses_the_issues_attack() -> None:
    """The oracle itself can say no: a stranger's guardian link to a child of
    another school is not allowed (so the property above can fail)."""
    a, b = SchoolId("a"), SchoolId("b")
    child, stranger = OID(1), OID(2)
    before = RosterRows(
        people={child: person(child, born(9)), stranger: person(stranger, born(40))},
        members=frozenset({MemberRow(a, child, ClassId("a-1"))}),
        staff=frozenset({StaffRow(b, stranger, Role.ADMIN)}),
    )
    after = dataclasses.replace(before, guardians=frozenset({GuardianRow(child, stranger)}))
    assert not allowed(before, after, frozenset({b}))
    assert allowed(before, after, frozenset({a}))
