"""Profiles and the directory, derived from stored rows.

Roles are not stored: they follow from the rows.  In a school S a person is

* a **student** if they are a member of a class of S;
* a **parent** if they are a guardian of a student of S;
* a **teacher** or an **admin** if S's staff rows say so.

Everything here is pure: a store reads the rows it needs into a
:class:`~server.roster.rows.RosterRows` and calls :func:`build_profile` or
:func:`build_directory`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .model import (
    CLASS_RELATIONS,
    OID,
    ROLE_ORDER,
    Child,
    ClassId,
    ClassLink,
    ClassRelation,
    DirectoryEntry,
    Profile,
    Role,
    SchoolId,
    SchoolRole,
    collation_key,
)
from .rows import RosterRows

_RELATION_ORDER = {relation: index for index, relation in enumerate(CLASS_RELATIONS)}


class _Index:
    """The rows of a snapshot grouped by person, built once per snapshot."""

    def __init__(self, rows: RosterRows) -> None:
        self.rows = rows
        self.staff: defaultdict[OID, list[tuple[SchoolId, Role]]] = defaultdict(list)
        self.links: defaultdict[OID, list[ClassLink]] = defaultdict(list)
        self.children: defaultdict[OID, list[OID]] = defaultdict(list)
        for staff in rows.staff:
            self.staff[staff.oid].append((staff.school_id, staff.role))
        for member in rows.members:
            self._link(member.oid, member.class_id, "student", None)
        for record in rows.classes.values():
            if record.class_teacher is not None:
                self._link(record.class_teacher, record.id, "class_teacher", None)
        for teacher in rows.subject_teachers:
            self._link(teacher.oid, teacher.class_id, "subject_teacher", teacher.subject)
        for guardian in rows.guardians:
            self.children[guardian.parent].append(guardian.child)

    def _link(
        self, oid: OID, class_id: ClassId, relation: ClassRelation, subject: str | None
    ) -> None:
        record = self.rows.classes.get(class_id)
        if record is None:  # outside the snapshot
            return
        link = ClassLink(record.id, record.name, record.school_id, relation, subject)
        self.links[oid].append(link)

    def school_name(self, school_id: SchoolId) -> str:
        school = self.rows.schools.get(school_id)
        return school.name if school is not None else school_id

    def class_key(self, link: ClassLink) -> tuple[str, str, str, str, int, str]:
        return (
            collation_key(self.school_name(link.school_id)),
            link.school_id,
            collation_key(link.class_name),
            link.class_id,
            _RELATION_ORDER[link.relation],
            link.subject or "",
        )

    def role_key(self, role: SchoolRole) -> tuple[str, str, int]:
        return (collation_key(role.school_name), role.school_id, ROLE_ORDER[role.role])

    def student_links(self, oid: OID) -> list[ClassLink]:
        return [link for link in self.links.get(oid, ()) if link.relation == "student"]

    def profile(self, oid: OID) -> Profile | None:
        person = self.rows.people.get(oid)
        if person is None:
            return None
        held: set[tuple[SchoolId, Role]] = set(self.staff.get(oid, ()))
        links = self.links.get(oid, [])
        held.update((link.school_id, Role.STUDENT) for link in links if link.relation == "student")
        children: list[Child] = []
        for child_oid in self.children.get(oid, ()):
            child = self.rows.people.get(child_oid)
            if child is None:
                continue
            child_links = sorted(self.student_links(child_oid), key=self.class_key)
            held.update((link.school_id, Role.PARENT) for link in child_links)
            children.append(Child(child, tuple(child_links)))
        roles = sorted(
            (SchoolRole(school_id, self.school_name(school_id), role) for school_id, role in held),
            key=self.role_key,
        )
        return Profile(
            person=person,
            roles=tuple(roles),
            classes=tuple(sorted(links, key=self.class_key)),
            children=tuple(sorted(children, key=lambda child: child.person.sort_key())),
        )


def build_profile(rows: RosterRows, oid: OID) -> Profile | None:
    """The profile of ``oid`` from a snapshot that holds the rows around them.

    ``None`` if the person is not in ``rows.people``.
    """
    return _Index(rows).profile(oid)


def build_directory(rows: RosterRows) -> list[DirectoryEntry]:
    """Everyone in the snapshot, sorted by school, role, class and name.

    A person is placed by their first role (schools by name, roles in
    :class:`Role` order) and, within it, by the first class of that role in
    that school: their own class for students and teachers, their child's for
    parents.  People without any role come last.
    """
    index = _Index(rows)
    keyed: list[tuple[tuple[object, ...], DirectoryEntry]] = []
    for oid in rows.people:
        profile = index.profile(oid)
        if profile is None:  # pragma: no cover - every key of rows.people has a person
            continue
        entry = DirectoryEntry(profile.person, profile.roles, profile.classes)
        keyed.append((_directory_key(index, profile), entry))
    keyed.sort(key=lambda pair: pair[0])
    return [entry for _, entry in keyed]


def _directory_key(index: _Index, profile: Profile) -> tuple[object, ...]:
    if not profile.roles:
        return (1, "", "", 0, "", *profile.person.sort_key())
    first = profile.roles[0]
    if first.role is Role.PARENT:
        links: Iterable[ClassLink] = (link for child in profile.children for link in child.classes)
    else:
        links = profile.classes
    class_names = sorted(
        collation_key(link.class_name) for link in links if link.school_id == first.school_id
    )
    return (
        0,
        collation_key(first.school_name),
        first.school_id,
        ROLE_ORDER[first.role],
        class_names[0] if class_names else "",
        *profile.person.sort_key(),
    )
