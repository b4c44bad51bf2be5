"""A generated school roster for the benchmark (the format is docs/roster.md).

One school with ``classes`` classes; each class has 29 students and one
class teacher, so each class chat (``class:<class id>``) has 30 members.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHOOL_ID = "bench-school"
CLASS_SIZE = 30  # 29 students and the class teacher
_OID_BASE = 7_000_000_000
_LAST = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов")
_FIRST = ("Алексей", "Иван", "Дмитрий", "Сергей", "Никита", "Артём", "Максим", "Егор", "Роман")
_MIDDLE = ("Андреевич", "Игоревич", "Олегович", "Павлович", "Юрьевич")


@dataclass(frozen=True)
class ClassSpec:
    """One class: its id, its chat's id and its members' OIDs (teacher first)."""

    class_id: str
    chat: str
    members: tuple[int, ...]


def make_roster(classes: int) -> tuple[dict[str, Any], list[ClassSpec]]:
    """The roster document and the classes it defines."""
    people: list[dict[str, Any]] = []
    staff: list[dict[str, Any]] = []
    class_docs: list[dict[str, Any]] = []
    specs: list[ClassSpec] = []
    oid = _OID_BASE
    for c in range(classes):
        oid += 1
        teacher = oid
        people.append(_person(teacher, c, 0, "1980-03-15"))
        staff.append({"oid": teacher, "roles": ["teacher"]})
        students = []
        for s in range(1, CLASS_SIZE):
            oid += 1
            students.append(oid)
            people.append(_person(oid, c, s, f"2013-{1 + s % 12:02d}-{1 + s % 28:02d}"))
        class_id = f"bench-c{c + 1:04d}"
        class_docs.append(
            {
                "id": class_id,
                "name": f"Класс {c + 1}",
                "class_teacher": teacher,
                "students": students,
            }
        )
        specs.append(ClassSpec(class_id, f"class:{class_id}", (teacher, *students)))
    document = {
        "version": 1,
        "people": people,
        "schools": [
            {
                "id": SCHOOL_ID,
                "name": "Школа для нагрузочного теста",
                "staff": staff,
                "classes": class_docs,
            }
        ],
    }
    return document, specs


def write_roster(path: Path, classes: int) -> list[ClassSpec]:
    """Write a roster of ``classes`` classes to ``path``; return its classes."""
    document, specs = make_roster(classes)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return specs


def baseline_classes(classes: int) -> list[ClassSpec]:
    """The same classes without a roster file: the baseline needs only room names."""
    return make_roster(classes)[1]


def _person(oid: int, c: int, s: int, birth_date: str) -> dict[str, Any]:
    return {
        "oid": oid,
        "last_name": _LAST[(c + s) % len(_LAST)],
        "first_name": _FIRST[s % len(_FIRST)],
        "middle_name": _MIDDLE[c % len(_MIDDLE)],
        "birth_date": birth_date,
    }
