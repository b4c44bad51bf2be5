"""Whose records a refused roster file points at, read from its JSON.

An admin's upload that is refused for a problem in another school's record
(a malformed birth date of that school's child, a banned word in the name of
a school she does not run) is an attempt on that school, and its admins are
told (docs/roster.md, "Uploads by a school's admin").  A file that fails
validation has no :class:`~server.roster.document.RosterDocument`, so the
schools and people are read from the decoded JSON along each issue's path
(``schools[0].classes[1].students[3]``), as far as it can be followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeGuard

from .document import MAX_OID
from .errors import RosterIssue

_STEP = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")
_PERSON_KEYS = ("oid", "child")
_PERSON_LISTS = ("students", "parents", "class_teacher")


@dataclass(frozen=True, slots=True)
class Reach:
    """The school ids and OIDs a refused file's issues point at."""

    schools: frozenset[str]
    people: frozenset[int]


def reach_of(data: object, issues: Iterable[RosterIssue]) -> Reach:
    """The schools a file names, and the people its issues' records name.

    Every school in ``schools`` is counted, whatever the issues: a file that
    names a school reaches for it.  People are those whose records lie on
    an issue's path: ``people[2].birth_date`` names the OID of ``people[2]``,
    ``guardians[0].parents[1]`` the child and that parent.
    """
    schools: set[str] = set()
    people: set[int] = set()
    if isinstance(data, Mapping):
        listed = data.get("schools")
        if isinstance(listed, list):
            schools.update(s["id"] for s in listed if isinstance(s, Mapping) and _text(s.get("id")))
    for issue in issues:
        node: object = data
        key = ""
        for name, index in _STEP.findall(issue.path):
            if name:
                node = node.get(name) if isinstance(node, Mapping) else None
                key = name
            else:
                position = int(index)
                node = node[position] if isinstance(node, list) and position < len(node) else None
            if isinstance(node, Mapping):
                people.update(node[k] for k in _PERSON_KEYS if _oid(node.get(k)))
            elif key in _PERSON_LISTS and _oid(node):
                people.add(node)
            if node is None:
                break
    return Reach(frozenset(schools), frozenset(people))


def _oid(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_OID


def _text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64
