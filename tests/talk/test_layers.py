"""The talk package is HA-free and reaches ``api/`` only through the opener."""

from __future__ import annotations

import ast
from pathlib import Path

TALK = Path(__file__).parents[2] / "custom_components" / "volcengine_aiot" / "talk"


def imports_of(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            modules.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_only_the_opener_imports_the_api_client() -> None:
    for path in sorted(TALK.glob("*.py")):
        api = {m for m in imports_of(path) if m.startswith("..api") or "volcengine_aiot.api" in m}
        assert not api or path.name == "opener.py", f"{path.name} imports {api}"


def test_no_home_assistant_in_talk() -> None:
    for path in sorted(TALK.glob("*.py")):
        assert not any(m.startswith("homeassistant") for m in imports_of(path)), path.name


EVENTS = TALK.parent / "events"


def test_events_is_home_assistant_free_and_reaches_only_the_api() -> None:
    paths = sorted(EVENTS.glob("*.py"))
    assert {p.name for p in paths} >= {"__init__.py", "callback.py", "poller.py"}
    for path in paths:
        modules = imports_of(path)
        assert not any(m.startswith("homeassistant") for m in modules), path.name
        glue = {m for m in modules if m.startswith("..") and not m.startswith("..api")}
        assert not glue, f"{path.name} imports the HA glue: {glue}"


def test_no_home_assistant_in_ptz() -> None:
    ptz = TALK.parent / "ptz"
    paths = sorted(ptz.glob("*.py"))
    assert paths
    for path in paths:
        assert not any(m.startswith("homeassistant") for m in imports_of(path)), path.name


def test_recordings_is_home_assistant_free_and_reaches_only_the_api() -> None:
    paths = sorted((TALK.parent / "recordings").glob("*.py"))
    assert {p.name for p in paths} >= {"__init__.py", "library.py", "merge.py", "playbacks.py"}
    for path in paths:
        modules = imports_of(path)
        assert not any(m.startswith("homeassistant") for m in modules), path.name
        glue = {m for m in modules if m.startswith("..") and not m.startswith("..api")}
        assert not glue, f"{path.name} imports the HA glue: {glue}"
