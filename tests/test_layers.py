"""The packages' imports run one way: edges, features, edge plumbing, the policy,
the store, the roster and the shared models, then infrastructure.

docs/architecture.md ("Layers") says why; this test reads every import of
``server/``, ``media/`` and ``signaling/`` (type-only and function-level ones
included) and fails on one that goes up, or on a module not placed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "edges",
        (
            "server.__main__",
            "server.cli",
            "server.app",
            "server.devlogin",
            "server.ws",
            "server.connection",
            "media",
        ),
    ),
    (
        "features (each with its WebSocket and HTTP edges)",
        ("server.redisrooms", "server.rooms", "server.safety"),
    ),
    ("features", ("server.chats",)),
    (
        "edge plumbing",
        (
            "server.http_api",
            "server.signin",
            "server.webclient",
            "server.appkeys",
            "server.access",
            "server.http_limits",
            "server.sessions",
            "server.preauth",
            "server.wsbatch",
            "server.dispatch",
        ),
    ),
    ("policy", ("server.policy",)),
    ("store", ("server.retention", "server.store")),
    ("roster", ("server.roster",)),
    ("shared models", ("server.model",)),
    (
        "infrastructure",
        (
            "server.auth",
            "server.logformat",
            "server.logsafety",
            "server.metrics",
            "server.redispresence",
            "server.redislimits",
            "server.redisbus",
            "server.bus",
            "server.ratelimit",
            "server.config",
            "server.clock",
        ),
    ),
    ("errors", ("server.errors",)),
    ("the wire", ("signaling", "server")),
)
"""Top first.  A unit may import units of the layers below it, and, within its
layer, those listed after it."""

ORDER = [unit for _, units in LAYERS for unit in units]
RANK = {unit: index for index, unit in enumerate(ORDER)}


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] in ("media", "signaling"):
        return parts[0]
    if parts[0] != "server":
        return None
    if len(parts) == 1:
        return "server"
    return f"server.{parts[1]}"


def module_of(path: Path) -> tuple[str, str]:
    """The module a file is, and the package its relative imports start from."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        name = ".".join(parts[:-1])
        return name, name
    name = ".".join(parts)
    return name, name.rsplit(".", 1)[0]


def imports() -> list[tuple[str, str, str]]:
    """(importing module, its unit, imported module) for every import of ours."""
    found = []
    for package in ("server", "media", "signaling"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name, base = module_of(path)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets: list[str] = []
                if isinstance(node, ast.ImportFrom):
                    if node.level:
                        start = base.split(".")[: len(base.split(".")) - node.level + 1]
                        targets.append(".".join([*start, *filter(None, [node.module])]))
                    elif node.module:
                        targets.append(node.module)
                elif isinstance(node, ast.Import):
                    targets += [alias.name for alias in node.names]
                for target in targets:
                    if unit_of(target) is not None:
                        found.append((name, unit_of(name) or name, target))
    return found


def test_every_unit_has_a_layer() -> None:
    units = {unit for _, unit, _ in imports()} | {unit_of(t) for _, _, t in imports()}
    assert units - set(RANK) == set()


def upward(found: list[tuple[str, str, str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, unit, target in found
        if (below := unit_of(target)) is not None and below != unit and RANK[below] <= RANK[unit]
    )


def test_imports_run_one_way() -> None:
    assert upward(imports()) == []


def test_an_upward_import_is_seen() -> None:
    """What the test above says of a store that imports a feature's service."""
    found = [("server.store.chat_sql", "server.store", "server.chats.service")]
    assert upward(found) == ["server.store.chat_sql imports server.chats.service"]
    assert upward([("server.chats.service", "server.chats", "server.store.base")]) == []
