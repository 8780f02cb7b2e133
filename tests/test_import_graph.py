"""The integration's import graph: no circle anywhere, nothing imports a higher layer.

Every import counts, those under ``TYPE_CHECKING`` and inside functions too: a circle hidden
from the interpreter is still two modules that cannot be understood one without the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "custom_components.volcengine_aiot"
ROOT = Path(__file__).parents[1] / "custom_components" / "volcengine_aiot"
# What Home Assistant loads itself: no module of the integration may import these.
TOP = frozenset(
    {
        PACKAGE,  # __init__: the entry's setup
        f"{PACKAGE}.config_flow",
        f"{PACKAGE}.diagnostics",
        *(
            f"{PACKAGE}.{platform}"
            for platform in (
                "assist_satellite",
                "binary_sensor",
                "button",
                "camera",
                "event",
                "media_player",
            )
        ),
    }
)


def modules() -> dict[str, Path]:
    """Return every module of the integration by its dotted name."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([PACKAGE, *parts])] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Return, for every module, the modules of the integration it imports."""
    mods = modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")
                if node.level:
                    base = base[: len(base) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                children = [
                    f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in mods
                ]
                # ``from . import compat`` imports the module, not the package's __init__ code
                targets = children if node.module is None and children else [module, *children]
            else:
                continue
            graph[name].update(t for t in targets if t in mods and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    """No two modules import each other, directly or through others."""
    assert cycles(import_graph()) == []


def test_nothing_imports_a_higher_layer() -> None:
    """Setup, config flow, diagnostics and platforms are imported by Home Assistant only.

    E.g. the coordinator never imports a platform, the config flow never imports ``__init__``.
    """
    upward = sorted(
        (importer, imported)
        for importer, imports in import_graph().items()
        for imported in imports
        if imported in TOP
    )
    assert upward == []


def test_the_graph_sees_every_kind_of_import() -> None:
    """The checks above would pass on a graph that missed imports: it does not."""
    graph = import_graph()
    assert f"{PACKAGE}.coordinator" in graph[f"{PACKAGE}.runtime"]  # from .x import y
    assert f"{PACKAGE}.compat" in graph[f"{PACKAGE}.entity"]  # from . import x
    assert f"{PACKAGE}.talk.source" in graph[f"{PACKAGE}.talk.session"]
    assert f"{PACKAGE}.talk" in graph[f"{PACKAGE}.media_player"]  # a package
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
