"""The roster file: its records, and their validation as a whole.

A roster file (format in ``docs/roster.md``) lists people, schools with their
staff and classes, and which adults are the guardians of which children.
:func:`parse_roster` turns decoded JSON into a :class:`RosterDocument`,
checking every record and every reference and collecting *all* problems
before it gives up, so an administrator can fix a file in one pass.  Each
problem names the record and the field as written in the file, e.g.
``schools[0].classes[1].students[3]: person 1000100042 is not in people``.

Nothing here touches the database: what the file means for the rows already
stored is :mod:`server.roster.diff`'s business.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .errors import RosterError, RosterIssue
from .model import OID, ClassId, Person, Role, SchoolId

FORMAT_VERSION = 1
MAX_TEXT_LENGTH = 200
MAX_OID = 2**63 - 1  # OIDs are stored as BIGINT
MIN_BIRTH_YEAR = 1900
STAFF_ROLES: tuple[Role, ...] = (Role.TEACHER, Role.ADMIN)

_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

T = TypeVar("T")


# --------------------------------------------------------------------------
# The records of a valid file
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A person on a school's staff; ``roles`` in :class:`Role` order, each once."""

    oid: OID
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class SubjectTeacher:
    """A teacher of one subject in one class."""

    oid: OID
    subject: str


@dataclass(frozen=True, slots=True)
class ClassRecord:
    """A class of a school: its class teacher, subject teachers and students."""

    id: ClassId
    name: str
    class_teacher: OID | None
    subject_teachers: tuple[SubjectTeacher, ...]
    students: tuple[OID, ...]


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    """A school with everything the file says about it."""

    id: SchoolId
    name: str
    staff: tuple[StaffMember, ...]
    classes: tuple[ClassRecord, ...]


@dataclass(frozen=True, slots=True)
class GuardianRecord:
    """The complete list of guardians (parents, legal representatives) of a child."""

    child: OID
    parents: tuple[OID, ...]


@dataclass(frozen=True, slots=True)
class RosterDocument:
    """A roster file that passed validation; records keep the file's order."""

    version: int
    people: tuple[Person, ...]
    schools: tuple[SchoolRecord, ...]
    guardians: tuple[GuardianRecord, ...]


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def parse_roster(data: object) -> RosterDocument:
    """Validate decoded JSON as a roster file.

    Raises :class:`RosterError` listing every problem found, each with the
    path of the record and field it concerns.
    """
    parser = _Parser()
    document = parser.document(data)
    if parser.issues or document is None:
        raise RosterError(parser.issues)
    return document


def load_roster_file(path: Path) -> RosterDocument:
    """Read, decode and validate a roster file.

    Unreadable files, text that is not UTF-8 and invalid JSON (reported with
    line and column) are a :class:`RosterError` too, so the caller has one
    error to handle.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RosterError([RosterIssue("", f"cannot read {path}: {exc.strerror or exc}")]) from exc
    return parse_roster_bytes(raw)


def parse_roster_bytes(raw: bytes) -> RosterDocument:
    """Decode and validate the bytes of a roster file (an upload, a file)."""
    return parse_roster(decode_roster_bytes(raw))


def decode_roster_bytes(raw: bytes) -> object:
    """The JSON a roster file holds, not yet validated; :class:`RosterError`
    if it is not UTF-8 JSON (duplicate keys are reported by validation)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"the file is not valid UTF-8 (byte {exc.start})"
        raise RosterError([RosterIssue("", message)]) from exc
    try:
        data = json.loads(text, object_pairs_hook=_JsonObject.from_pairs, parse_constant=_reject)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise RosterError([RosterIssue("", message)]) from exc
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        raise RosterError([RosterIssue("", f"invalid JSON: {exc}")]) from exc
    except RecursionError as exc:  # arrays or objects nested thousands deep
        raise RosterError([RosterIssue("", "invalid JSON: nested too deeply")]) from exc
    return data


class _JsonObject(dict[str, object]):
    """A decoded JSON object that remembers keys given more than once.

    ``json`` keeps the last of duplicate keys silently; a roster file with
    two ``"students"`` in one class would lose data without a word.
    """

    duplicate_keys: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, object]]) -> _JsonObject:
        obj = cls(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            duplicates: dict[str, None] = {}
            for key, _ in pairs:
                if key in seen:
                    duplicates[key] = None
                seen.add(key)
            obj.duplicate_keys = tuple(duplicates)
        return obj


def _reject(constant: str) -> object:
    raise ValueError(f"{constant} is not allowed")


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


class _Missing:
    """Marks a field absent from its object (already reported if required)."""


_MISSING = _Missing()


def _kind(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclass
class _SchoolContext:
    """What the classes of one school are checked against."""

    label: str  # the school's id, for messages
    staff: dict[OID, str] = field(default_factory=dict)  # OID -> path of the staff record
    teachers: set[OID] = field(default_factory=set)
    unsure: set[OID] = field(default_factory=set)  # staff whose roles could not be read
    class_names: dict[str, str] = field(default_factory=dict)  # casefolded name -> path
    students: dict[OID, tuple[ClassId | None, str]] = field(default_factory=dict)


class _Parser:
    """Walks a decoded file once, collecting issues as it goes.

    Each reader returns the parsed value, or ``None`` after recording an issue
    (or when the field is absent, which the enclosing object reported).
    """

    def __init__(self) -> None:
        self.issues: list[RosterIssue] = []
        self.people: dict[OID, Person] = {}  # valid person records
        self.person_paths: dict[OID, str] = {}  # every readable OID in people
        self.people_readable = False
        self.school_paths: dict[SchoolId, str] = {}
        self.class_paths: dict[ClassId, str] = {}
        self.guardian_paths: dict[OID, str] = {}

    def add(self, path: str, message: str) -> None:
        self.issues.append(RosterIssue(path, message))

    # -- structure -----------------------------------------------------------

    def record(
        self, value: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> Mapping[str, object] | None:
        if isinstance(value, _Missing):
            return None
        if not isinstance(value, dict):
            self.add(path, f"expected an object, got {_kind(value)}")
            return None
        for key in getattr(value, "duplicate_keys", ()):
            self.add(_at(path, key), "field is given more than once")
        for key in value:
            if key not in required and key not in optional:
                self.add(_at(path, str(key)), "unknown field")
        for key in required:
            if key not in value:
                self.add(_at(path, key), "missing required field")
        return value

    def items(
        self,
        obj: Mapping[str, object],
        key: str,
        path: str,
        read: Callable[[object, str], T | None],
    ) -> tuple[T, ...] | None:
        """Read the array ``obj[key]`` (empty if absent) with ``read`` for each item."""
        where = _at(path, key)
        value = obj.get(key, [])
        if not isinstance(value, list):
            self.add(where, f"expected an array, got {_kind(value)}")
            return None
        parsed = [read(item, f"{where}[{index}]") for index, item in enumerate(value)]
        if any(item is None for item in parsed):
            return None
        return tuple(item for item in parsed if item is not None)

    # -- scalars -------------------------------------------------------------

    def integer(self, value: object, path: str) -> int | None:
        if isinstance(value, _Missing):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"expected an integer, got {_kind(value)}")
            return None
        return value

    def oid(self, value: object, path: str) -> OID | None:
        number = self.integer(value, path)
        if number is None:
            return None
        if not 0 < number <= MAX_OID:
            self.add(path, f"OID {number} is out of range (1 to 2^63-1)")
            return None
        return OID(number)

    def ref(self, value: object, path: str) -> OID | None:
        """An OID that must belong to a record in ``people``."""
        oid = self.oid(value, path)
        if oid is None:
            return None
        if oid not in self.person_paths:
            if self.people_readable:
                self.add(path, f"person {oid} is not in people")
            return None
        return oid

    def text(self, value: object, path: str) -> str | None:
        """A non-empty one-line string; surrounding whitespace is dropped."""
        if isinstance(value, _Missing):
            return None
        if not isinstance(value, str):
            self.add(path, f"expected a string, got {_kind(value)}")
            return None
        text = value.strip()
        if not text:
            self.add(path, "must not be empty")
        elif len(text) > MAX_TEXT_LENGTH:
            self.add(path, f"must be at most {MAX_TEXT_LENGTH} characters")
        elif _CONTROL_CHARACTERS.search(text):
            self.add(path, "must not contain control characters or line breaks")
        else:
            return text
        return None

    def ident(self, value: object, path: str) -> str | None:
        if isinstance(value, _Missing):
            return None
        if not isinstance(value, str):
            self.add(path, f"expected a string, got {_kind(value)}")
            return None
        if not _ID_PATTERN.fullmatch(value):
            self.add(
                path,
                f"invalid id {value!r}: use 1 to 64 ASCII letters, digits, '.', '_' or '-', "
                "starting with a letter or digit",
            )
            return None
        return value

    def date(self, value: object, path: str) -> datetime.date | None:
        if isinstance(value, _Missing):
            return None
        if not isinstance(value, str):
            self.add(path, f"expected a date string YYYY-MM-DD, got {_kind(value)}")
            return None
        try:
            if not _DATE_PATTERN.fullmatch(value):
                raise ValueError
            date = datetime.date.fromisoformat(value)
        except ValueError:
            self.add(path, f"invalid date {value!r}: expected YYYY-MM-DD")
            return None
        if date.year < MIN_BIRTH_YEAR:
            self.add(path, f"date {value} is before {MIN_BIRTH_YEAR}")
            return None
        return date

    # -- records -------------------------------------------------------------

    def document(self, data: object) -> RosterDocument | None:
        top = self.record(data, "", ("version", "people"), ("schools", "guardians"))
        if top is None:
            return None
        version = self.version(top.get("version", _MISSING))
        self.people_readable = isinstance(top.get("people"), list)
        people = self.items(top, "people", "", self.person)
        schools = self.items(top, "schools", "", self.school)
        guardians = self.items(top, "guardians", "", self.guardian)
        if version is None or people is None or schools is None or guardians is None:
            return None
        return RosterDocument(version, people, schools, guardians)

    def version(self, value: object) -> int | None:
        number = self.integer(value, "version")
        if number is not None and number != FORMAT_VERSION:
            self.add("version", f"unsupported version {number}: this server reads version 1")
            return None
        return number

    def person(self, value: object, path: str) -> Person | None:
        obj = self.record(
            value, path, ("oid", "last_name", "first_name", "birth_date"), ("middle_name",)
        )
        if obj is None:
            return None
        oid = self.oid(obj.get("oid", _MISSING), _at(path, "oid"))
        if oid is not None:
            first = self.person_paths.setdefault(oid, path)
            if first != path:
                self.add(_at(path, "oid"), f"duplicate OID {oid}: already listed at {first}")
                oid = None
        last_name = self.text(obj.get("last_name", _MISSING), _at(path, "last_name"))
        first_name = self.text(obj.get("first_name", _MISSING), _at(path, "first_name"))
        middle = obj.get("middle_name")
        middle_name = None
        middle_ok = True
        if not (middle is None or (isinstance(middle, str) and not middle.strip())):
            middle_name = self.text(middle, _at(path, "middle_name"))
            middle_ok = middle_name is not None
        birth_date = self.date(obj.get("birth_date", _MISSING), _at(path, "birth_date"))
        if oid is None or last_name is None or first_name is None or birth_date is None:
            return None
        if not middle_ok:
            return None
        person = Person(oid, last_name, first_name, middle_name, birth_date)
        self.people[oid] = person
        return person

    def school(self, value: object, path: str) -> SchoolRecord | None:
        obj = self.record(value, path, ("id", "name"), ("staff", "classes"))
        if obj is None:
            return None
        school_id = self.ident(obj.get("id", _MISSING), _at(path, "id"))
        if school_id is not None:
            first = self.school_paths.setdefault(SchoolId(school_id), path)
            if first != path:
                self.add(_at(path, "id"), f"duplicate school id {school_id!r}: see {first}")
                school_id = None
        name = self.text(obj.get("name", _MISSING), _at(path, "name"))
        context = _SchoolContext(label=f"school {school_id}" if school_id else "this school")
        staff = self.items(obj, "staff", path, lambda v, p: self.staff_member(v, p, context))
        classes = self.items(obj, "classes", path, lambda v, p: self.school_class(v, p, context))
        if school_id is None or name is None or staff is None or classes is None:
            return None
        return SchoolRecord(SchoolId(school_id), name, staff, classes)

    def staff_member(self, value: object, path: str, school: _SchoolContext) -> StaffMember | None:
        obj = self.record(value, path, ("oid", "roles"))
        if obj is None:
            return None
        oid = self.ref(obj.get("oid", _MISSING), _at(path, "oid"))
        roles = self.staff_roles(obj.get("roles", _MISSING), _at(path, "roles"))
        if oid is not None:
            first = school.staff.setdefault(oid, path)
            if first != path:
                self.add(_at(path, "oid"), f"person {oid} is already on the staff at {first}")
                return None
            if roles is None:
                school.unsure.add(oid)
            elif Role.TEACHER in roles:
                school.teachers.add(oid)
        if oid is None or roles is None:
            return None
        return StaffMember(oid, roles)

    def staff_roles(self, value: object, path: str) -> tuple[Role, ...] | None:
        if isinstance(value, _Missing):
            return None
        if not isinstance(value, list) or not value:
            self.add(path, f"expected a non-empty array of roles, got {_kind(value)}")
            return None
        roles: list[Role] = []
        allowed = ", ".join(f'"{role}"' for role in STAFF_ROLES)
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, str) or item not in STAFF_ROLES:
                shown = repr(item) if isinstance(item, str) else _kind(item)
                self.add(where, f"invalid staff role {shown}: expected one of {allowed}")
                return None
            if Role(item) in roles:
                self.add(where, f'role "{item}" is given more than once')
                return None
            roles.append(Role(item))
        return tuple(role for role in STAFF_ROLES if role in roles)

    def school_class(self, value: object, path: str, school: _SchoolContext) -> ClassRecord | None:
        obj = self.record(
            value, path, ("id", "name"), ("class_teacher", "subject_teachers", "students")
        )
        if obj is None:
            return None
        class_id = self.ident(obj.get("id", _MISSING), _at(path, "id"))
        if class_id is not None:
            first = self.class_paths.setdefault(ClassId(class_id), path)
            if first != path:
                self.add(_at(path, "id"), f"duplicate class id {class_id!r}: see {first}")
                class_id = None
        name = self.text(obj.get("name", _MISSING), _at(path, "name"))
        if name is not None:
            first = school.class_names.setdefault(name.casefold(), path)
            if first != path:
                self.add(_at(path, "name"), f"{school.label} already has a class {name}: {first}")
                name = None

        class_teacher: OID | None = None
        teacher_ok = True
        raw_teacher = obj.get("class_teacher")
        if raw_teacher is not None:
            class_teacher = self.teacher(raw_teacher, _at(path, "class_teacher"), school)
            teacher_ok = class_teacher is not None

        seen_subjects: dict[tuple[OID, str], str] = {}

        def read_subject_teacher(item: object, where: str) -> SubjectTeacher | None:
            record = self.subject_teacher(item, where, school)
            if record is not None:
                key = (record.oid, record.subject.casefold())
                first = seen_subjects.setdefault(key, where)
                if first != where:
                    message = f"person {record.oid} already teaches {record.subject} here: {first}"
                    self.add(where, message)
                    return None
            return record

        subject_teachers = self.items(obj, "subject_teachers", path, read_subject_teacher)
        in_class: dict[OID, str] = {}

        def read_student(item: object, where: str) -> OID | None:
            oid = self.ref(item, where)
            if oid is None:
                return None
            first = in_class.setdefault(oid, where)
            if first != where:
                self.add(where, f"person {oid} is listed twice in this class: {first}")
                return None
            other_class, other = school.students.setdefault(oid, (ClassId(class_id or ""), where))
            if other != where:
                label = f"class {other_class}" if other_class else "another class"
                message = f"person {oid} is already a student of {label} of {school.label}: {other}"
                self.add(where, message)
                return None
            return oid

        students = self.items(obj, "students", path, read_student)
        if class_id is None or name is None or not teacher_ok:
            return None
        if subject_teachers is None or students is None:
            return None
        return ClassRecord(ClassId(class_id), name, class_teacher, subject_teachers, students)

    def subject_teacher(
        self, value: object, path: str, school: _SchoolContext
    ) -> SubjectTeacher | None:
        obj = self.record(value, path, ("oid", "subject"))
        if obj is None:
            return None
        oid = self.teacher(obj.get("oid", _MISSING), _at(path, "oid"), school)
        subject = self.text(obj.get("subject", _MISSING), _at(path, "subject"))
        if oid is None or subject is None:
            return None
        return SubjectTeacher(oid, subject)

    def teacher(self, value: object, path: str, school: _SchoolContext) -> OID | None:
        """A person reference that must be a teacher on the school's staff."""
        oid = self.ref(value, path)
        if oid is None or oid in school.unsure:
            return oid
        if oid not in school.teachers:
            self.add(
                path,
                f"person {oid} is not a teacher of {school.label}: "
                'add them to its staff with the role "teacher"',
            )
            return None
        return oid

    def guardian(self, value: object, path: str) -> GuardianRecord | None:
        obj = self.record(value, path, ("child", "parents"))
        if obj is None:
            return None
        child = self.ref(obj.get("child", _MISSING), _at(path, "child"))
        if child is not None:
            first = self.guardian_paths.setdefault(child, path)
            if first != path:
                self.add(_at(path, "child"), f"guardians of person {child} are already at {first}")
                child = None
        listed: dict[OID, str] = {}

        def read_parent(item: object, where: str) -> OID | None:
            parent = self.ref(item, where)
            if parent is None:
                return None
            first = listed.setdefault(parent, where)
            if first != where:
                self.add(where, f"person {parent} is listed twice: {first}")
                return None
            if parent == child:
                self.add(where, f"person {parent} cannot be their own guardian")
                return None
            older = self.people.get(parent)
            younger = self.people.get(child) if child is not None else None
            if older and younger and older.birth_date >= younger.birth_date:
                self.add(
                    where,
                    f"guardian {parent} (born {older.birth_date}) is not older than "
                    f"child {child} (born {younger.birth_date})",
                )
                return None
            return parent

        parents = self.items(obj, "parents", path, read_parent)
        if child is None or parents is None:
            return None
        return GuardianRecord(child, parents)
