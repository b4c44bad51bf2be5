"""The safety policy: one pure function per question, deny by default.

Every right in Zvonok comes from the school roster.  This module turns two
:class:`~server.roster.model.Profile` values (or a profile and a place: a
school or a class) into the set of *relations* that hold between them, and
allows an action only if the rules table grants it under one of those
relations.  The tables are ``RULES`` below and the table of the same name in
``docs/safety.md``; a test keeps the two equal, and the property tests check
the decisions against the document for generated rosters.

Nothing here does I/O or reads a clock: callers pass the profiles, the
school settings and today's date.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from server.roster.model import Profile, Role

DEFAULT_OVERSIGHT_AGE = 14


class Action(StrEnum):
    """What someone wants to do (the rows of the rules table)."""

    MESSAGE = "message"  # open a direct chat with a person, write first
    REPLY = "reply"  # write in an existing direct chat
    FIND = "find"  # see a person in the people search
    CREATE_GROUP = "create_group"  # in a school
    ADD_TO_GROUP = "add_to_group"  # add someone to a group of a school
    BE_ADDED_TO_GROUP = "be_added_to_group"  # be put in a group of a school
    OWN_GROUP = "own_group"  # hold the powers of a group one made in a school
    MODERATE_CLASS = "moderate_class"  # the class and class parents' chats
    MODERATE_SCHOOL = "moderate_school"  # the staff chat and the groups
    HOST_LESSON = "host_lesson"
    JOIN_LESSON = "join_lesson"
    HOST_MEETING = "host_meeting"
    JOIN_MEETING = "join_meeting"
    OVERSEE = "oversee"  # see a child's chat list, not its content


class Relation(StrEnum):
    """How the actor stands to the target, derived from the roster."""

    # person to person
    CLASSMATE = "classmate"
    OWN_PARENT = "own_parent"
    OWN_CHILD = "own_child"
    TEACHER_OF_MY_SCHOOL = "teacher_of_my_school"
    ADMIN_OF_MY_SCHOOL = "admin_of_my_school"
    TEACHER_OF_MY_CHILDS_CLASS = "teacher_of_my_childs_class"
    PARENT_IN_MY_CHILDS_CLASS = "parent_in_my_childs_class"
    STAFF_OF_THEIR_SCHOOL = "staff_of_their_school"
    # person to place
    STAFF_OF_SCHOOL = "staff_of_school"
    ADMIN_OF_SCHOOL = "admin_of_school"
    TEACHER_OF_CLASS = "teacher_of_class"
    STUDENT_OF_CLASS = "student_of_class"
    PARENT_OF_CLASS = "parent_of_class"
    MEMBER_OF_SCHOOL = "member_of_school"


R = Relation

RULES: Mapping[Action, frozenset[Relation]] = {
    Action.MESSAGE: frozenset(
        {
            R.CLASSMATE,
            R.OWN_PARENT,
            R.OWN_CHILD,
            R.TEACHER_OF_MY_SCHOOL,
            R.ADMIN_OF_MY_SCHOOL,
            R.TEACHER_OF_MY_CHILDS_CLASS,
            R.PARENT_IN_MY_CHILDS_CLASS,
            R.STAFF_OF_THEIR_SCHOOL,
        }
    ),
    Action.CREATE_GROUP: frozenset({R.STAFF_OF_SCHOOL}),
    Action.ADD_TO_GROUP: frozenset({R.STAFF_OF_SCHOOL}),
    Action.BE_ADDED_TO_GROUP: frozenset({R.MEMBER_OF_SCHOOL}),
    Action.OWN_GROUP: frozenset({R.STAFF_OF_SCHOOL}),
    Action.MODERATE_CLASS: frozenset({R.TEACHER_OF_CLASS, R.ADMIN_OF_SCHOOL}),
    Action.MODERATE_SCHOOL: frozenset({R.ADMIN_OF_SCHOOL}),
    Action.HOST_LESSON: frozenset({R.TEACHER_OF_CLASS, R.ADMIN_OF_SCHOOL}),
    Action.JOIN_LESSON: frozenset({R.STUDENT_OF_CLASS, R.STAFF_OF_SCHOOL}),
    Action.HOST_MEETING: frozenset({R.TEACHER_OF_CLASS, R.ADMIN_OF_SCHOOL}),
    Action.JOIN_MEETING: frozenset({R.PARENT_OF_CLASS, R.STAFF_OF_SCHOOL}),
}
"""Which relations allow which action.  ``reply``, ``find`` and ``oversee``
are derived (see their functions); every other action is refused."""

PERSON_ACTIONS = frozenset({Action.MESSAGE, Action.REPLY, Action.FIND, Action.OVERSEE})
SCHOOL_ACTIONS = frozenset(
    {
        Action.CREATE_GROUP,
        Action.ADD_TO_GROUP,
        Action.BE_ADDED_TO_GROUP,
        Action.OWN_GROUP,
        Action.MODERATE_SCHOOL,
    }
)
CLASS_ACTIONS = frozenset(
    {
        Action.MODERATE_CLASS,
        Action.HOST_LESSON,
        Action.JOIN_LESSON,
        Action.HOST_MEETING,
        Action.JOIN_MEETING,
    }
)


@dataclass(frozen=True, slots=True)
class ClassPlace:
    """A class as a target: its id and its school."""

    class_id: str
    school_id: str


# -- what a profile says, as sets ----------------------------------------------


def _schools(profile: Profile, *roles: Role) -> set[str]:
    return {held.school_id for held in profile.roles if held.role in roles}


def _student_classes(profile: Profile) -> set[str]:
    return {link.class_id for link in profile.classes if link.relation == "student"}


def _taught_classes(profile: Profile) -> set[str]:
    return {link.class_id for link in profile.classes if link.relation != "student"}


def _children_classes(profile: Profile) -> set[str]:
    return {link.class_id for child in profile.children for link in child.classes}


def _children(profile: Profile) -> set[int]:
    return {child.person.oid for child in profile.children}


# -- relations -------------------------------------------------------------------


def person_relations(a: Profile, b: Profile) -> frozenset[Relation]:
    """Every relation of ``a`` (the actor) to ``b`` (the target); none to oneself."""
    found: set[Relation] = set()
    a_oid, b_oid = a.person.oid, b.person.oid
    if a_oid == b_oid:  # nobody has a relation to themselves
        return frozenset()
    if _student_classes(a) & _student_classes(b):
        found.add(R.CLASSMATE)
    # A guardian row counts while the child is a student somewhere: a child on
    # no school's roster is outside Zvonok, family or not (docs/safety.md).
    if a_oid in _children(b) and _student_classes(a):
        found.add(R.OWN_PARENT)
    if b_oid in _children(a) and _student_classes(b):
        found.add(R.OWN_CHILD)
    if _schools(a, Role.STUDENT) & _schools(b, Role.TEACHER):
        found.add(R.TEACHER_OF_MY_SCHOOL)
    if _schools(a, Role.STUDENT, Role.PARENT) & _schools(b, Role.ADMIN):
        found.add(R.ADMIN_OF_MY_SCHOOL)
    if _children_classes(a) & _taught_classes(b):
        found.add(R.TEACHER_OF_MY_CHILDS_CLASS)
    if _children_classes(a) & _children_classes(b):
        found.add(R.PARENT_IN_MY_CHILDS_CLASS)
    if _schools(a, Role.TEACHER, Role.ADMIN) & _schools(b, *Role):
        found.add(R.STAFF_OF_THEIR_SCHOOL)
    return frozenset(found)


def school_relations(a: Profile, school_id: str) -> frozenset[Relation]:
    """Every relation of ``a`` to the school ``school_id``."""
    found: set[Relation] = set()
    if school_id in _schools(a, Role.TEACHER, Role.ADMIN):
        found.add(R.STAFF_OF_SCHOOL)
    if school_id in _schools(a, Role.ADMIN):
        found.add(R.ADMIN_OF_SCHOOL)
    if school_id in _schools(a, *Role):
        found.add(R.MEMBER_OF_SCHOOL)
    return frozenset(found)


def class_relations(a: Profile, place: ClassPlace) -> frozenset[Relation]:
    """Every relation of ``a`` to a class (and, through it, its school)."""
    found = set(school_relations(a, place.school_id))
    if place.class_id in _taught_classes(a):
        found.add(R.TEACHER_OF_CLASS)
    if place.class_id in _student_classes(a):
        found.add(R.STUDENT_OF_CLASS)
    if place.class_id in _children_classes(a):
        found.add(R.PARENT_OF_CLASS)
    return frozenset(found)


# -- decisions -------------------------------------------------------------------


def _granted(action: Action, relations: Iterable[Relation]) -> bool:
    return not RULES.get(action, frozenset()).isdisjoint(relations)


def may_message(a: Profile, b: Profile) -> bool:
    """Whether ``a`` may open a direct chat with ``b`` and write first."""
    return _granted(Action.MESSAGE, person_relations(a, b))


def may_reply(a: Profile, b: Profile) -> bool:
    """Whether ``a`` may write in the direct chat of ``a`` and ``b``: while
    either of them may ``message`` the other."""
    return may_message(a, b) or may_message(b, a)


def may_find(a: Profile, b: Profile) -> bool:
    """Whether ``a`` sees ``b`` in the people search: the people ``a`` could
    talk to directly."""
    return may_reply(a, b)


def may_in_school(a: Profile, action: Action, school_id: str) -> bool:
    """A school-wide action (creating and filling groups, owning one,
    moderating the staff chat and the groups)."""
    if action not in SCHOOL_ACTIONS:
        raise ValueError(f"{action} is not about a school")
    return _granted(action, school_relations(a, school_id))


def may_in_class(a: Profile, action: Action, place: ClassPlace) -> bool:
    """A class's action (moderating its chats, hosting and joining its
    lessons and meetings)."""
    if action not in CLASS_ACTIONS:
        raise ValueError(f"{action} is not about a class")
    return _granted(action, class_relations(a, place))


def may_oversee(
    a: Profile,
    child: Profile,
    *,
    today: datetime.date,
    oversight_age: Mapping[str, int],
) -> bool:
    """Whether ``a`` may see the list of ``child``'s chats (never their content).

    ``a`` must be the child's guardian, and the child younger than the
    oversight age of a school where the child studies (default
    :data:`DEFAULT_OVERSIGHT_AGE`; 0 turns oversight off in that school).
    """
    if R.OWN_CHILD not in person_relations(a, child):
        return False
    age = child.person.age(today)
    return any(
        age < oversight_age.get(school_id, DEFAULT_OVERSIGHT_AGE)
        for school_id in _schools(child, Role.STUDENT)
    )
