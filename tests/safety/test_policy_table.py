"""The safety policy against its rule book, ``docs/safety.md``.

* The rules table is parsed from the document at test time and must equal
  ``policy.RULES``; every action and relation of the code must be in the
  document and the other way round.
* An independent oracle reads the relations straight from the roster rows,
  in the document's words (not through ``Profile``, not through
  ``policy``), and decides with the parsed table: deny by default, ``reply``
  and ``find`` are ``message`` either way, ``oversee`` is ``own_child`` under
  the oversight age of a school where the child studies.
* Hypothesis generates small rosters (``tests/safety/rosters.py``); for every
  ordered pair of people, every person and school, and every person and
  class, every action of the policy must agree with the oracle.
* Hand-written examples follow the sentences of the document.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.policy import policy
from server.policy.policy import Action, ClassPlace, Relation
from server.roster.document import parse_roster
from server.roster.model import OID, ClassId, Profile, Role, SchoolId
from server.roster.rows import (
    ClassRow,
    GuardianRow,
    MemberRow,
    RosterRows,
    SchoolRow,
    StaffRow,
    SubjectTeacherRow,
)
from server.roster.views import build_profile
from tests.safety.rosters import TODAY, born, oversight_ages, person, rosters, to_document

ROOT = Path(__file__).resolve().parents[2]
SAFETY_MD = ROOT / "docs" / "safety.md"

# -- the document ------------------------------------------------------------------

EITHER_WAY = "either way"
UNDER_OVERSIGHT_AGE = "under the school's oversight age"
NO_RELATION_TO_ONESELF = "Nobody has a relation to themselves"
_NAME = r"`([a-z_]+)`"
_ALLOWED_CELL = re.compile(rf"{_NAME}(?:\s+(.+))?")


@dataclass(frozen=True)
class DocRules:
    """What ``docs/safety.md`` says, as names."""

    allowed: Mapping[str, frozenset[str]]
    """The plain rows: action -> the relations it is allowed under."""
    either_way: Mapping[str, str]
    """``reply``, ``find`` -> ``message``: allowed while either side may do it."""
    under_oversight_age: Mapping[str, str]
    """``oversee`` -> ``own_child``: that relation, and the child under the age."""
    targets: Mapping[str, str]
    """Every action of the rules table -> ``person``, ``school`` or ``class``."""
    person_relations: frozenset[str]
    """The relations defined in the person-to-person table."""
    place_relations: frozenset[str]
    """The relations defined in the person-to-place table."""
    default_oversight_age: int
    no_relation_to_oneself: bool
    """The prose rule "Nobody has a relation to themselves" above the tables."""

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self.targets)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_after(lines: list[str], header: str) -> Iterator[list[list[str]]]:
    """Every table whose header row is ``header``, as rows of cells (no header)."""
    for index, line in enumerate(lines):
        if _cells(line) == _cells(header):
            rows = []
            for row in lines[index + 1 :]:
                if not row.startswith("|"):
                    break
                if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", row.strip()):
                    rows.append(_cells(row))
            yield rows


def _name(cell: str, where: str) -> str:
    match = re.fullmatch(_NAME, cell)
    if match is None:
        raise ValueError(f"{where}: expected one `name`, got {cell!r}")
    return match.group(1)


def parse_safety_doc(text: str) -> DocRules:
    """Parse the rules table, the relation tables and the default oversight age."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("<!-- rules:")]
    ends = [i for i, line in enumerate(lines) if line.strip() == "<!-- /rules -->"]
    if len(starts) != 1 or len(ends) != 1 or starts[0] > ends[0]:
        raise ValueError("expected one <!-- rules: ... --> ... <!-- /rules --> block")
    block = lines[starts[0] + 1 : ends[0]]
    tables = list(_table_after(block, "| Action | Target | Allowed under |"))
    if len(tables) != 1:
        raise ValueError("expected one rules table between the markers")

    allowed: dict[str, set[str]] = {}
    either_way: dict[str, str] = {}
    under_age: dict[str, str] = {}
    targets: dict[str, str] = {}
    for cells in tables[0]:
        if len(cells) != 3:
            raise ValueError(f"rules row {cells}: expected three cells")
        action = _name(cells[0], f"rules row {cells}")
        target = cells[1]
        if target not in {"person", "school", "class"}:
            raise ValueError(f"rules row {cells}: unknown target {target!r}")
        if targets.setdefault(action, target) != target:
            raise ValueError(f"{action}: two targets, {targets[action]} and {target}")
        match = _ALLOWED_CELL.fullmatch(cells[2])
        if match is None:
            raise ValueError(f"rules row {cells}: expected one relation per row")
        name, rest = match.groups()
        if rest is None:
            allowed.setdefault(action, set()).add(name)
        elif rest == EITHER_WAY:
            either_way[action] = name
        elif rest == UNDER_OVERSIGHT_AGE:
            under_age[action] = name
        else:  # a new kind of rule: teach this parser and the oracle
            raise ValueError(f"rules row {cells}: unknown rule {rest!r}")
    derived = either_way.keys() | under_age.keys()
    if len(derived) != len(either_way) + len(under_age) or derived & allowed.keys():
        raise ValueError("an action is both derived and plain, or derived twice")

    relation_tables = list(_table_after(lines, "| Relation | Holds when |"))
    if len(relation_tables) != 2:
        raise ValueError("expected two relation tables: person to person, person to place")
    person_table, place_table = (
        frozenset(_name(cells[0], "relation table") for cells in table) for table in relation_tables
    )

    settings_table = list(_table_after(lines, "| Setting | Default | Meaning |"))
    defaults = {_name(cells[0], "settings table"): cells[1] for cells in settings_table[0]}
    return DocRules(
        allowed={action: frozenset(names) for action, names in allowed.items()},
        either_way=either_way,
        under_oversight_age=under_age,
        targets=targets,
        person_relations=person_table,
        place_relations=place_table,
        default_oversight_age=int(defaults["oversight_age"]),
        no_relation_to_oneself=NO_RELATION_TO_ONESELF in " ".join(text.split()),
    )


DOC = parse_safety_doc(SAFETY_MD.read_text(encoding="utf-8"))
PERSON_ACTIONS = sorted(a for a, target in DOC.targets.items() if target == "person")
SCHOOL_ACTIONS = sorted(a for a, target in DOC.targets.items() if target == "school")
CLASS_ACTIONS = sorted(a for a, target in DOC.targets.items() if target == "class")


def test_the_parsed_rules_table_is_policy_rules() -> None:
    code = {str(action): {str(r) for r in relations} for action, relations in policy.RULES.items()}
    assert {action: set(names) for action, names in DOC.allowed.items()} == code


def test_the_derived_rules_are_the_three_of_the_document() -> None:
    assert DOC.either_way == {"reply": "message", "find": "message"}
    assert DOC.under_oversight_age == {"oversee": "own_child"}
    assert DOC.default_oversight_age == policy.DEFAULT_OVERSIGHT_AGE
    assert DOC.no_relation_to_oneself  # the oracle follows it either way


def test_every_action_is_in_the_document_and_the_code() -> None:
    assert DOC.actions == {str(action) for action in Action}
    assert {str(a) for a in policy.PERSON_ACTIONS} == set(PERSON_ACTIONS)
    assert {str(a) for a in policy.SCHOOL_ACTIONS} == set(SCHOOL_ACTIONS)
    assert {str(a) for a in policy.CLASS_ACTIONS} == set(CLASS_ACTIONS)


def test_every_relation_is_defined_in_the_document_and_the_code() -> None:
    assert not DOC.person_relations & DOC.place_relations
    assert DOC.person_relations | DOC.place_relations == {str(r) for r in Relation}
    # The rules use defined relations only, of the kind their target needs.
    for action, names in DOC.allowed.items():
        kind = DOC.person_relations if DOC.targets[action] == "person" else DOC.place_relations
        assert names <= kind, action
    assert set(DOC.either_way.values()) <= DOC.allowed.keys()
    assert set(DOC.under_oversight_age.values()) <= DOC.person_relations


def test_the_parser_notices_a_changed_table() -> None:
    text = SAFETY_MD.read_text(encoding="utf-8")
    row = "| `message` | person | `classmate` |\n"
    assert row in text
    assert "classmate" not in parse_safety_doc(text.replace(row, "")).allowed["message"]
    two = text.replace(row, "| `message` | person | `classmate`, `own_child` |\n")
    with pytest.raises(ValueError, match="one relation per row"):
        parse_safety_doc(two)
    odd = text.replace("`message` either way", "`message` on Tuesdays")
    with pytest.raises(ValueError, match="unknown rule"):
        parse_safety_doc(odd)


# -- the oracle: the document's words over the raw roster rows ----------------------


def age_on(birth_date: datetime.date, today: datetime.date) -> int:
    """Full years on ``today``."""
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


class Oracle:
    """The relations of ``docs/safety.md``, computed from :class:`RosterRows`.

    Roles follow ``docs/roster.md``: in school S a person is a *student* if
    they are a member of a class of S, a *parent* if they are a guardian of a
    student of S, a *teacher* or an *admin* if S's staff rows say so.
    """

    def __init__(self, rows: RosterRows) -> None:
        self.rows = rows
        self.people = sorted(rows.people)
        self.schools = sorted(rows.schools)
        self.school_of = {row.id: row.school_id for row in rows.classes.values()}
        self.classes = sorted(self.school_of)
        # The raw facts, one set per kind of row.
        self._student = {(m.oid, m.class_id) for m in rows.members}
        self._staff = {(s.oid, s.school_id, str(s.role)) for s in rows.staff}
        self._guardian = {(g.parent, g.child) for g in rows.guardians}
        self._teaches = {(t.oid, t.class_id) for t in rows.subject_teachers} | {
            (c.class_teacher, c.id) for c in rows.classes.values() if c.class_teacher is not None
        }
        # Derived facts, each straight from its definition.
        self._parent_of_class = {
            (x, c)
            for x, c in product(self.people, self.classes)
            if any(self.guardian(x, y) and self.student_of_class(y, c) for y in self.people)
        }
        self._cache: dict[tuple[int, int], frozenset[str]] = {}

    # Facts about one person.

    def student_of_class(self, x: int, c: str) -> bool:
        return (x, c) in self._student

    def guardian(self, x: int, y: int) -> bool:
        """``x`` is a guardian (legal representative) of ``y``."""
        return (x, y) in self._guardian

    def teaches(self, x: int, c: str) -> bool:
        """``x`` is the class teacher or a subject teacher of ``c``."""
        return (x, c) in self._teaches

    def parent_of_class(self, x: int, c: str) -> bool:
        """``x`` is a guardian of a student of ``c``."""
        return (x, c) in self._parent_of_class

    def has_role(self, x: int, s: str, role: str) -> bool:
        if role == "student":
            return any(self.student_of_class(x, c) for c in self.classes if self.school_of[c] == s)
        if role == "parent":
            return any(self.parent_of_class(x, c) for c in self.classes if self.school_of[c] == s)
        return (x, s, role) in self._staff

    def a_student(self, x: int) -> bool:
        """``x`` is a student of some school."""
        return any(self.student_of_class(x, c) for c in self.classes)

    def any_role(self, x: int, s: str) -> bool:
        return any(self.has_role(x, s, role) for role in ("student", "parent", "teacher", "admin"))

    def staff(self, x: int, s: str) -> bool:
        return self.has_role(x, s, "teacher") or self.has_role(x, s, "admin")

    # The relations.

    def person_relations(self, a: int, b: int) -> frozenset[str]:
        if (a, b) not in self._cache:
            self._cache[a, b] = frozenset(self._person_relations(a, b))
        return self._cache[a, b]

    def _person_relations(self, a: int, b: int) -> Iterator[str]:
        if a == b and DOC.no_relation_to_oneself:
            return
        schools, classes = self.schools, self.classes
        if a != b and any(
            self.student_of_class(a, c) and self.student_of_class(b, c) for c in classes
        ):  # "and A is not B" is in the relation's own words too
            yield "classmate"
        if self.guardian(b, a) and self.a_student(a):
            yield "own_parent"
        if self.guardian(a, b) and self.a_student(b):
            yield "own_child"
        if any(self.has_role(a, s, "student") and self.has_role(b, s, "teacher") for s in schools):
            yield "teacher_of_my_school"
        if any(
            (self.has_role(a, s, "student") or self.has_role(a, s, "parent"))
            and self.has_role(b, s, "admin")
            for s in schools
        ):
            yield "admin_of_my_school"
        if any(self.parent_of_class(a, c) and self.teaches(b, c) for c in classes):
            yield "teacher_of_my_childs_class"
        if a != b and any(
            self.parent_of_class(a, c) and self.parent_of_class(b, c) for c in classes
        ):
            yield "parent_in_my_childs_class"
        if a != b and any(self.staff(a, s) and self.any_role(b, s) for s in schools):
            yield "staff_of_their_school"

    def school_relations(self, a: int, s: str) -> frozenset[str]:
        found = set()
        if self.staff(a, s):
            found.add("staff_of_school")
        if self.has_role(a, s, "admin"):
            found.add("admin_of_school")
        if self.any_role(a, s):
            found.add("member_of_school")
        return frozenset(found)

    def class_relations(self, a: int, c: str) -> frozenset[str]:
        # staff_of_school and admin_of_school say "for a class: of C's
        # school"; member_of_school does not, so it is not a class relation.
        found = self.school_relations(a, self.school_of[c]) - {"member_of_school"}
        if self.teaches(a, c):
            found |= {"teacher_of_class"}
        if self.student_of_class(a, c):
            found |= {"student_of_class"}
        if self.parent_of_class(a, c):
            found |= {"parent_of_class"}
        return found

    # The decisions: the parsed document's table, deny by default.

    def may(
        self,
        action: str,
        a: int,
        b: int,
        *,
        today: datetime.date = TODAY,
        oversight_age: Mapping[str, int] | None = None,
    ) -> bool:
        if action in DOC.allowed:
            return not DOC.allowed[action].isdisjoint(self.person_relations(a, b))
        if action in DOC.either_way:
            base = DOC.either_way[action]
            return self.may(base, a, b) or self.may(base, b, a)
        if action in DOC.under_oversight_age:
            if DOC.under_oversight_age[action] not in self.person_relations(a, b):
                return False
            ages = oversight_age or {}
            age = age_on(self.rows.people[OID(b)].birth_date, today)
            return any(
                age < ages.get(s, DOC.default_oversight_age)
                for s in self.schools
                if self.has_role(b, s, "student")
            )
        return False

    def may_in_school(self, action: str, a: int, s: str) -> bool:
        return not DOC.allowed.get(action, frozenset()).isdisjoint(self.school_relations(a, s))

    def may_in_class(self, action: str, a: int, c: str) -> bool:
        return not DOC.allowed.get(action, frozenset()).isdisjoint(self.class_relations(a, c))

    def describe(self, x: int) -> str:
        """Who ``x`` is, for failure messages."""
        facts = [f"age {age_on(self.rows.people[OID(x)].birth_date, TODAY)}"]
        facts += [f"student of {c}" for c in self.classes if self.student_of_class(x, c)]
        facts += [f"teaches {c}" for c in self.classes if self.teaches(x, c)]
        facts += sorted(f"{role} of {s}" for (o, s, role) in self._staff if o == x)
        facts += [f"guardian of {y}" for y in self.people if self.guardian(x, y)]
        return f"{x} ({', '.join(facts)})"


# -- asking the policy ---------------------------------------------------------------


def policy_may(
    action: str,
    a: Profile,
    b: Profile,
    *,
    today: datetime.date = TODAY,
    oversight_age: Mapping[str, int] | None = None,
) -> bool:
    if action == "message":
        return policy.may_message(a, b)
    if action == "reply":
        return policy.may_reply(a, b)
    if action == "find":
        return policy.may_find(a, b)
    if action == "oversee":
        return policy.may_oversee(a, b, today=today, oversight_age=oversight_age or {})
    raise AssertionError(f"{action} is not a person action")


def profiles_of(rows: RosterRows) -> dict[int, Profile]:
    built = {oid: build_profile(rows, oid) for oid in rows.people}
    assert all(profile is not None for profile in built.values())
    return {oid: profile for oid, profile in built.items() if profile is not None}


def mismatch(
    oracle: Oracle, action: str, a: int, b: object, got: bool, want: bool, found: str
) -> str:
    return (
        f"{action}: policy says {got}, the document says {want}\n"
        f"  actor  A = {oracle.describe(a)}\n"
        f"  target B = {oracle.describe(b) if isinstance(b, int) else b}\n"
        f"  {found}"
    )


def assert_none(wrong: list[str]) -> None:
    shown = "\n".join(wrong[:8])
    more = f"\n... and {len(wrong) - 8} more" if len(wrong) > 8 else ""
    if wrong:
        pytest.fail(f"{len(wrong)} answer(s) differ from docs/safety.md:\n{shown}{more}")


# -- properties ----------------------------------------------------------------------

PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(rows=rosters())
def test_generated_rosters_are_valid_roster_files(rows: RosterRows) -> None:
    assert RosterRows.from_document(parse_roster(to_document(rows))) == rows


@PROPERTY
@given(rows=rosters(), data=st.data())
def test_person_actions_follow_the_document(rows: RosterRows, data: st.DataObject) -> None:
    ages = data.draw(oversight_ages(sorted(rows.schools)), label="oversight_age")
    profiles = profiles_of(rows)
    oracle = Oracle(rows)
    wrong = []
    for a, b in product(oracle.people, repeat=2):
        for action in PERSON_ACTIONS:
            got = policy_may(action, profiles[a], profiles[b], oversight_age=ages)
            want = oracle.may(action, a, b, oversight_age=ages)
            if got != want:
                found = (
                    f"oracle relations A->B: {sorted(oracle.person_relations(a, b))}, "
                    f"B->A: {sorted(oracle.person_relations(b, a))}; oversight_age {ages}"
                )
                wrong.append(mismatch(oracle, action, a, b, got, want, found))
    assert_none(wrong)


@PROPERTY
@given(rows=rosters())
def test_place_actions_follow_the_document(rows: RosterRows) -> None:
    profiles = profiles_of(rows)
    oracle = Oracle(rows)
    wrong = []
    for a, s, action in product(oracle.people, oracle.schools, SCHOOL_ACTIONS):
        got = policy.may_in_school(profiles[a], Action(action), s)
        want = oracle.may_in_school(action, a, s)
        if got != want:
            found = f"oracle relations A->{s}: {sorted(oracle.school_relations(a, s))}"
            wrong.append(mismatch(oracle, action, a, f"school {s}", got, want, found))
    for a, c, action in product(oracle.people, oracle.classes, CLASS_ACTIONS):
        place = ClassPlace(c, oracle.school_of[c])
        got = policy.may_in_class(profiles[a], Action(action), place)
        want = oracle.may_in_class(action, a, c)
        if got != want:
            found = f"oracle relations A->{c}: {sorted(oracle.class_relations(a, c))}"
            wrong.append(mismatch(oracle, action, a, f"class {c}", got, want, found))
    assert_none(wrong)


@PROPERTY
@given(rows=rosters())
def test_relations_are_the_documents(rows: RosterRows) -> None:
    """The relations themselves, not only the decisions: a wrong relation can
    hide behind a right one in an ``any``."""
    profiles = profiles_of(rows)
    oracle = Oracle(rows)
    wrong = []
    for a, b in product(oracle.people, repeat=2):
        got = {str(r) for r in policy.person_relations(profiles[a], profiles[b])}
        want = oracle.person_relations(a, b)
        if got != want:
            found = f"policy {sorted(got)}, oracle {sorted(want)}"
            wrong.append(mismatch(oracle, "person_relations", a, b, False, True, found))
    for a, s in product(oracle.people, oracle.schools):
        got = {str(r) for r in policy.school_relations(profiles[a], s)}
        want = oracle.school_relations(a, s)
        if got != want:
            found = f"policy {sorted(got)}, oracle {sorted(want)}"
            wrong.append(mismatch(oracle, "school_relations", a, s, False, True, found))
    for a, c in product(oracle.people, oracle.classes):
        place = ClassPlace(c, oracle.school_of[c])
        # The code also reports member_of_school for a class; the document
        # defines it for a school only and no class rule uses it.
        got = {str(r) for r in policy.class_relations(profiles[a], place)} - {"member_of_school"}
        want = oracle.class_relations(a, c)
        if got != want:
            found = f"policy {sorted(got)}, oracle {sorted(want)}"
            wrong.append(mismatch(oracle, "class_relations", a, c, False, True, found))
    assert_none(wrong)


# -- examples: the sentences of the document ------------------------------------------

S1, S2 = SchoolId("sosh-1"), SchoolId("lyceum-2")
A5, B5, L7 = ClassId("sosh-1-5a"), ClassId("sosh-1-5b"), ClassId("lyceum-2-7a")

DIRECTOR = 1  # admin of sosh-1, nothing else
TEACHER_A = 2  # teacher of sosh-1, class teacher of 5А
TEACHER_B = 3  # teacher of sosh-1, maths in 5Б; parent of GLEB in the lyceum
LYCEUM_TEACHER = 4  # teacher of lyceum-2, class teacher of 7А
ANNA, BORIS, VERA, GLEB, PASHA = 11, 12, 13, 14, 15  # 5А, 5А, 5Б, 7А, 7А
STUDENT_TEACHER = 16  # student of the lyceum's 7А, teacher at sosh-1
ANNA_MUM, BORIS_DAD, VERA_MUM = 21, 22, 23  # VERA_MUM is also PASHA's mother
OUTSIDER = 31  # a people row and nothing else
LONE_PARENT, LONE_KID = 32, 33  # a guardian and a child in no class
TEACHERS_KID = 34  # TEACHER_A's child, in no class

BIRTHS = {
    DIRECTOR: born(55),
    TEACHER_A: born(40),
    TEACHER_B: born(35),
    LYCEUM_TEACHER: born(45),
    ANNA: born(10),
    BORIS: born(10),
    VERA: born(15),
    GLEB: born(10),
    PASHA: born(14),  # fourteen today
    STUDENT_TEACHER: born(17),
    ANNA_MUM: born(38),
    BORIS_DAD: born(40),
    VERA_MUM: born(42),
    OUTSIDER: born(30),
    LONE_PARENT: born(35),
    LONE_KID: born(8),
    TEACHERS_KID: born(9),
}


def school_roster() -> RosterRows:
    return RosterRows(
        people={OID(oid): person(oid, birth) for oid, birth in BIRTHS.items()},
        schools={S1: SchoolRow(S1, "СОШ № 1"), S2: SchoolRow(S2, "Лицей № 2")},
        classes={
            A5: ClassRow(A5, S1, "5А", OID(TEACHER_A)),
            B5: ClassRow(B5, S1, "5Б", None),
            L7: ClassRow(L7, S2, "7А", OID(LYCEUM_TEACHER)),
        },
        staff=frozenset(
            {
                StaffRow(S1, OID(DIRECTOR), Role.ADMIN),
                StaffRow(S1, OID(TEACHER_A), Role.TEACHER),
                StaffRow(S1, OID(TEACHER_B), Role.TEACHER),
                StaffRow(S1, OID(STUDENT_TEACHER), Role.TEACHER),
                StaffRow(S2, OID(LYCEUM_TEACHER), Role.TEACHER),
            }
        ),
        members=frozenset(
            MemberRow(school, OID(oid), class_id)
            for school, oid, class_id in [
                (S1, ANNA, A5),
                (S1, BORIS, A5),
                (S1, VERA, B5),
                (S2, GLEB, L7),
                (S2, PASHA, L7),
                (S2, STUDENT_TEACHER, L7),
            ]
        ),
        subject_teachers=frozenset({SubjectTeacherRow(B5, OID(TEACHER_B), "Математика")}),
        guardians=frozenset(
            GuardianRow(OID(child), OID(parent))
            for child, parent in [
                (ANNA, ANNA_MUM),
                (BORIS, BORIS_DAD),
                (VERA, VERA_MUM),
                (PASHA, VERA_MUM),
                (GLEB, TEACHER_B),
                (LONE_KID, LONE_PARENT),
                (TEACHERS_KID, TEACHER_A),
            ]
        ),
    )


ROSTER = school_roster()
PROFILES = profiles_of(ROSTER)
ORACLE = Oracle(ROSTER)
EVERYONE = sorted(BIRTHS)


def may(action: str, a: int, b: int, oversight_age: Mapping[str, int] | None = None) -> bool:
    """The policy's answer, checked against the oracle's on the way."""
    ages = oversight_age
    got = policy_may(action, PROFILES[a], PROFILES[b], oversight_age=ages)
    assert got == ORACLE.may(action, a, b, oversight_age=ages), (action, a, b)
    return got


def may_in_school(action: str, a: int, s: str) -> bool:
    got = policy.may_in_school(PROFILES[a], Action(action), s)
    assert got == ORACLE.may_in_school(action, a, s), (action, a, s)
    return got


def may_in_class(action: str, a: int, c: str) -> bool:
    got = policy.may_in_class(PROFILES[a], Action(action), ClassPlace(c, ORACLE.school_of[c]))
    assert got == ORACLE.may_in_class(action, a, c), (action, a, c)
    return got


def test_the_example_roster_is_a_valid_roster_file() -> None:
    assert RosterRows.from_document(parse_roster(to_document(ROSTER))) == ROSTER


@pytest.mark.parametrize("target", [BORIS, TEACHER_A, TEACHER_B, DIRECTOR, ANNA_MUM])
def test_a_student_writes_to_classmates_teachers_admins_and_own_parents(target: int) -> None:
    assert may("message", ANNA, target)
    assert may("find", ANNA, target)


@pytest.mark.parametrize(
    "target",
    [
        VERA,  # another class of the same school is not a classmate
        GLEB,  # a student of another school
        BORIS_DAD,  # another child's parent
        VERA_MUM,
        LYCEUM_TEACHER,  # a teacher of another school
        OUTSIDER,
        TEACHERS_KID,
    ],
)
def test_a_student_does_not_reach_other_classes_schools_or_other_parents(target: int) -> None:
    assert not may("message", ANNA, target)
    assert not may("reply", ANNA, target)
    assert not may("find", ANNA, target)


@pytest.mark.parametrize(
    ("parent", "target"),
    [
        (ANNA_MUM, TEACHER_A),  # the class teacher of her child's class
        (VERA_MUM, TEACHER_B),  # a subject teacher of her child's class
        (ANNA_MUM, BORIS_DAD),  # another parent of that class
        (ANNA_MUM, ANNA),  # her own child
        (ANNA_MUM, DIRECTOR),  # the school's admin
    ],
)
def test_a_parent_writes_to_teachers_parents_admins_of_the_class_and_own_child(
    parent: int, target: int
) -> None:
    assert may("message", parent, target)


@pytest.mark.parametrize(
    "target",
    [BORIS, VERA, TEACHERS_KID, VERA_MUM, LYCEUM_TEACHER, STUDENT_TEACHER, OUTSIDER],
)
def test_a_parent_never_writes_first_to_someone_elses_child_or_strangers(target: int) -> None:
    assert not may("message", ANNA_MUM, target)


def test_a_parent_answers_a_teacher_who_wrote_first() -> None:
    # TEACHER_B does not teach ANNA's class: her mother cannot start, but
    # may answer, and each finds the other.
    assert not may("message", ANNA_MUM, TEACHER_B)
    assert may("message", TEACHER_B, ANNA_MUM)
    assert may("reply", ANNA_MUM, TEACHER_B)
    assert may("find", ANNA_MUM, TEACHER_B)


SOSH_1 = [DIRECTOR, TEACHER_A, TEACHER_B, STUDENT_TEACHER, ANNA, BORIS, VERA]
SOSH_1 += [ANNA_MUM, BORIS_DAD, VERA_MUM]


@pytest.mark.parametrize("staff", [DIRECTOR, TEACHER_A])
def test_teachers_and_admins_write_to_anyone_in_their_school_only(staff: int) -> None:
    for target in EVERYONE:
        # TEACHER_A's own child is in no class: outside the roster, so not reached.
        expected = target in SOSH_1 and target != staff
        assert may("message", staff, target) == expected, target


def test_an_outsider_reaches_nobody_and_nobody_reaches_them() -> None:
    for other in EVERYONE:
        for action in PERSON_ACTIONS:
            assert not may(action, OUTSIDER, other), (action, other)
            assert not may(action, other, OUTSIDER), (action, other)
    for s in (S1, S2):
        assert not any(may_in_school(action, OUTSIDER, s) for action in SCHOOL_ACTIONS)
    for c in (A5, B5, L7):
        assert not any(may_in_class(action, OUTSIDER, c) for action in CLASS_ACTIONS)


def test_a_guardian_and_a_child_in_no_class_reach_nobody() -> None:
    # A guardian row counts only while the child is a student somewhere: a
    # child on no school's roster is outside Zvonok, and so is the guardian
    # of such a child alone.
    assert "own_parent" not in ORACLE.person_relations(LONE_KID, LONE_PARENT)
    for other in EVERYONE:
        for action in PERSON_ACTIONS:
            assert not may(action, LONE_PARENT, other), (action, other)
            assert not may(action, LONE_KID, other), (action, other)
    # A guardian of a child in no class has no parent role anywhere.
    assert PROFILES[LONE_PARENT].roles == ()
    assert not may_in_school("be_added_to_group", LONE_PARENT, S1)


def test_a_child_in_no_class_does_not_reach_a_parent_who_is_a_teacher() -> None:
    # "Nobody outside a school's roster can reach anyone inside it", a
    # guardian row included: the child's parent teaching in sosh-1 does not
    # bring the child in.
    assert not may("message", TEACHERS_KID, TEACHER_A)
    assert not may("message", TEACHER_A, TEACHERS_KID)
    assert not may("oversee", TEACHER_A, TEACHERS_KID)
    assert not may_in_school("be_added_to_group", TEACHERS_KID, S1)


def test_a_person_in_two_schools_has_the_union() -> None:
    # A parent of children in two schools.
    assert may("message", VERA_MUM, TEACHER_B)  # 5Б in sosh-1
    assert may("message", VERA_MUM, LYCEUM_TEACHER)  # 7А in the lyceum
    assert may("message", VERA_MUM, DIRECTOR)
    # VERA_MUM and TEACHER_B are also parents in the lyceum's 7А.
    assert "parent_in_my_childs_class" in ORACLE.person_relations(VERA_MUM, TEACHER_B)
    # A teacher in sosh-1 who is a parent in the lyceum.
    assert may("message", TEACHER_B, ANNA)
    assert may("message", TEACHER_B, LYCEUM_TEACHER)
    assert may("message", TEACHER_B, VERA_MUM)
    assert may("message", TEACHER_B, GLEB)
    assert not may("message", TEACHER_B, PASHA)  # someone else's child, in the lyceum
    # A student of the lyceum who teaches in sosh-1.
    assert may("message", STUDENT_TEACHER, PASHA)  # classmate
    assert may("message", STUDENT_TEACHER, LYCEUM_TEACHER)
    assert may("message", STUDENT_TEACHER, ANNA)
    assert not may("message", STUDENT_TEACHER, TEACHERS_KID)
    assert may_in_class("join_lesson", STUDENT_TEACHER, L7)  # as a student
    assert may_in_class("join_lesson", STUDENT_TEACHER, A5)  # as staff
    assert not may_in_class("host_lesson", STUDENT_TEACHER, L7)


def test_oversee() -> None:
    assert may("oversee", ANNA_MUM, ANNA)  # ten, default age 14
    assert may("oversee", ANNA_MUM, ANNA, oversight_age={S1: 11})
    assert not may("oversee", ANNA_MUM, ANNA, oversight_age={S1: 10})
    assert not may("oversee", ANNA_MUM, ANNA, oversight_age={S1: 0})  # turned off
    assert may("oversee", ANNA_MUM, ANNA, oversight_age={S2: 0})  # another school's setting
    assert not may("oversee", VERA_MUM, VERA)  # fifteen
    assert may("oversee", VERA_MUM, VERA, oversight_age={S1: 16})
    assert not may("oversee", VERA_MUM, PASHA)  # fourteen today
    assert not may("oversee", ANNA_MUM, BORIS)  # someone else's child
    assert not may("oversee", TEACHER_A, ANNA)  # her teacher
    assert not may("oversee", ANNA, ANNA_MUM)
    assert not may("oversee", LONE_PARENT, LONE_KID)  # studies in no school
    assert may("oversee", TEACHER_B, GLEB)


def test_school_and_class_actions() -> None:
    assert may_in_school("create_group", TEACHER_A, S1)
    assert may_in_school("add_to_group", DIRECTOR, S1)
    assert not may_in_school("create_group", ANNA, S1)
    assert not may_in_school("create_group", TEACHER_A, S2)
    assert may_in_school("be_added_to_group", ANNA_MUM, S1)
    assert not may_in_school("be_added_to_group", ANNA_MUM, S2)
    assert may_in_school("own_group", TEACHER_A, S1)
    assert may_in_school("own_group", DIRECTOR, S1)
    assert not may_in_school("own_group", ANNA_MUM, S1)  # a parent keeps no group's powers
    assert not may_in_school("own_group", TEACHER_B, S2)  # a parent in the lyceum
    assert may_in_school("moderate_school", DIRECTOR, S1)
    assert not may_in_school("moderate_school", TEACHER_A, S1)
    assert may_in_class("moderate_class", TEACHER_A, A5)
    assert not may_in_class("moderate_class", TEACHER_A, B5)
    assert may_in_class("moderate_class", TEACHER_B, B5)
    assert may_in_class("moderate_class", DIRECTOR, B5)
    assert not may_in_class("moderate_class", DIRECTOR, L7)
    assert may_in_class("host_lesson", TEACHER_B, B5)
    assert may_in_class("join_lesson", ANNA, A5)
    assert not may_in_class("join_lesson", ANNA, B5)
    assert may_in_class("join_lesson", TEACHER_A, B5)
    assert may_in_class("join_meeting", ANNA_MUM, A5)
    assert not may_in_class("join_meeting", ANNA_MUM, B5)
    assert not may_in_class("join_meeting", ANNA, A5)
    assert may_in_class("host_meeting", LYCEUM_TEACHER, L7)
    assert not may_in_class("host_meeting", LYCEUM_TEACHER, A5)


# -- nobody has a relation to themselves ---------------------------------------------


def test_nobody_has_a_relation_to_themselves() -> None:
    # TEACHER_A teaches her own child's class: teacher_of_my_childs_class
    # would hold for (TEACHER_A, TEACHER_A) but for the document's rule that
    # every person-to-person relation needs two people.
    rows = RosterRows(
        people={OID(1): person(1, born(40)), OID(2): person(2, born(10))},
        schools={S1: SchoolRow(S1, "СОШ № 1")},
        classes={A5: ClassRow(A5, S1, "5А", OID(1))},
        staff=frozenset({StaffRow(S1, OID(1), Role.TEACHER)}),
        members=frozenset({MemberRow(S1, OID(2), A5)}),
        guardians=frozenset({GuardianRow(OID(2), OID(1))}),
    )
    teacher = profiles_of(rows)[1]
    assert policy.person_relations(teacher, teacher) == frozenset()
    assert not Oracle(rows).may("find", 1, 1)
    assert not policy.may_find(teacher, teacher)
    assert not policy.may_message(teacher, teacher)
