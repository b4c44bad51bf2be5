"""Who is who in a school: people, their roles, classes and children.

These are the read-side values the rest of the server sees.  A
:class:`Profile` answers "who is this signed-in person": the schools they
belong to and in what role, the classes they study in or teach, and the
children they represent.  It is the body of ``GET /api/v1/me`` and part of the
WebSocket welcome, so ``to_json`` returns only plain JSON- and msgpack-able
data.

Roles are derived, never stored on their own (see ``docs/roster.md``): a
student of a school is a member of one of its classes, a parent is a guardian
of such a student, and teachers and admins are the school's staff.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, NewType

OID = NewType("OID", int)
"""A person's ESIA object id (``oid``): the stable key of a person everywhere."""

SchoolId = NewType("SchoolId", str)
"""A school's id as chosen in the roster file, e.g. ``sosh-1``."""

ClassId = NewType("ClassId", str)
"""A class's id as chosen in the roster file; unique across all schools."""

ClassRelation = Literal["student", "class_teacher", "subject_teacher"]
"""How a person is linked to a class."""

CLASS_RELATIONS: tuple[ClassRelation, ...] = ("student", "class_teacher", "subject_teacher")

ADULT_AGE = 18


class Role(StrEnum):
    """What a person is in one school.  Declaration order is display order."""

    STUDENT = "student"
    PARENT = "parent"  # a legal representative of a student
    TEACHER = "teacher"
    ADMIN = "admin"


ROLE_ORDER: dict[Role, int] = {role: index for index, role in enumerate(Role)}


def collation_key(text: str) -> str:
    """A sort key for Russian names: case-insensitive, with Ё sorted as Е.

    Plain code-point order puts «Ё» before «А» and «ё» after «я».
    """
    return text.casefold().replace("ё", "е")


@dataclass(frozen=True, slots=True)
class Person:
    """A person known by their ESIA OID.

    The birth date is kept so that minors can be told apart: a child may not
    have the same rights as the adults around them.
    """

    oid: OID
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: datetime.date

    @property
    def full_name(self) -> str:
        """«Фамилия Имя Отчество», without the patronymic if there is none."""
        parts = (self.last_name, self.first_name, self.middle_name)
        return " ".join(part for part in parts if part)

    def age(self, today: datetime.date) -> int:
        """Full years of age on ``today``."""
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - int(before_birthday)

    def is_minor(self, today: datetime.date) -> bool:
        """Whether the person is under 18 on ``today``."""
        return self.age(today) < ADULT_AGE

    def sort_key(self) -> tuple[str, str, str, str, int]:
        """Order by name as a school register would, then by birth date and OID."""
        return (
            collation_key(self.last_name),
            collation_key(self.first_name),
            collation_key(self.middle_name or ""),
            self.birth_date.isoformat(),
            self.oid,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "oid": self.oid,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "middle_name": self.middle_name,
            "full_name": self.full_name,
            "birth_date": self.birth_date.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class SchoolRole:
    """One role a person holds in one school."""

    school_id: SchoolId
    school_name: str
    role: Role

    def to_json(self) -> dict[str, Any]:
        return {
            "school_id": self.school_id,
            "school_name": self.school_name,
            "role": self.role.value,
        }


@dataclass(frozen=True, slots=True)
class ClassLink:
    """One link between a person and a class.

    ``subject`` is set only for ``subject_teacher``.  A teacher may be linked
    to the same class several times: as its class teacher and as the teacher
    of one or more subjects.
    """

    class_id: ClassId
    class_name: str
    school_id: SchoolId
    relation: ClassRelation
    subject: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "class_name": self.class_name,
            "school_id": self.school_id,
            "relation": self.relation,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class Child:
    """A child a parent represents, with the classes the child studies in."""

    person: Person
    classes: tuple[ClassLink, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person.to_json(),
            "classes": [link.to_json() for link in self.classes],
        }


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything the roster says about one person.

    ``roles`` holds each (school, role) pair once; ``classes`` are the
    person's own links (as student or teacher); ``children`` are the people
    they are a guardian of, whether or not those study in any school here.
    """

    person: Person
    roles: tuple[SchoolRole, ...]
    classes: tuple[ClassLink, ...]
    children: tuple[Child, ...]

    def has_role(self, role: Role, school_id: SchoolId | None = None) -> bool:
        """Whether the person holds ``role``, in ``school_id`` or in any school."""
        return any(
            held.role is role and (school_id is None or held.school_id == school_id)
            for held in self.roles
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person.to_json(),
            "roles": [role.to_json() for role in self.roles],
            "classes": [link.to_json() for link in self.classes],
            "children": [child.to_json() for child in self.children],
        }


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One line of the people directory (the development sign-in page)."""

    person: Person
    roles: tuple[SchoolRole, ...]
    classes: tuple[ClassLink, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person.to_json(),
            "roles": [role.to_json() for role in self.roles],
            "classes": [link.to_json() for link in self.classes],
        }
