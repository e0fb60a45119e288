"""The structure drawing: videovision's modules on floors, with every circle and every arrow back up.

    python scripts/structure.py [--edges]

Rooms are modules (a package's ``__init__.py`` is the package's room). A room's floor is 0 when it imports
no other videovision module, otherwise one more than the highest floor it imports: every import counts,
at the top of a module or deferred inside a function (imports under ``if TYPE_CHECKING:`` are for
annotations only and are left out). A *circle* is rooms importing each other. An *arrow back up* is a
reach the import graph does not show and that goes to a room on the same or a higher floor: a module
named in a string and imported by that name (``importlib.import_module``, a fork server's preload
list), or a module importing a name from its own package's ``__init__.py`` (the facade above it).
``tests/test_structure.py`` holds the numbers this prints: no circle, at most 3 arrows back up.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "videovision"
MAX_ARROWS_UP = 3


@dataclass
class Graph:
    modules: dict[str, Path]
    eager: dict[str, set[str]] = field(default_factory=dict)
    """The modules each module imports (at its top or inside a function)."""
    deferred: dict[str, set[str]] = field(default_factory=dict)
    """The modules each reaches without an import the graph shows: by name, or its own package's facade."""


def _module_names() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def graph() -> Graph:
    """Every videovision module, the modules it imports, and the modules it reaches by name."""
    modules = _module_names()
    g = Graph(modules, {m: set() for m in modules}, {m: set() for m in modules})
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only: set[int] = set()
        loggers: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only |= {id(n) for b in node.body for n in ast.walk(b)}
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("getLogger"):
                loggers |= {id(a) for a in node.args}
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    hit = full if full in modules else target if target in modules else None
                    if hit and hit != name:
                        g.eager[name].add(hit)
                        if name.startswith(hit + "."):  # a name from its own package's facade
                            g.deferred[name].add(hit)
            elif isinstance(node, ast.Import):
                g.eager[name] |= {a.name for a in node.names if a.name in modules and a.name != name}
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in loggers \
                    and node.value in modules and node.value != name:
                g.deferred[name].add(node.value)
    return g


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(1000, 10 * len(edges)))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def floors(edges: dict[str, set[str]]) -> dict[str, int]:
    """Each module's floor over ``edges`` (which must have no circle)."""
    floor: dict[str, int] = {}

    def of(m: str) -> int:
        if m not in floor:
            floor[m] = -1  # guard: a circle would recurse forever
            floor[m] = 1 + max((of(d) for d in edges[m]), default=-1)
        return floor[m]

    for m in edges:
        of(m)
    return floor


def arrows_up(g: Graph) -> list[tuple[str, str]]:
    """Reaches by name or to its own facade that go to the same or a higher floor."""
    floor = floors(g.eager)
    return sorted((m, d) for m, targets in g.deferred.items() for d in targets if floor[d] >= floor[m])


def draw(g: Graph, show_edges: bool = False) -> str:
    found = circles(g.eager)
    lines: list[str] = []
    if found:
        return "circles: " + "; ".join(" <-> ".join(c) for c in found)
    floor = floors(g.eager)
    top = max(floor.values())
    short = {m: m.removeprefix("videovision.") if m != "videovision" else "videovision (package)" for m in g.modules}
    for level in range(top, -1, -1):
        rooms = sorted(short[m] for m in g.modules if floor[m] == level)
        lines.append(f"floor {level:>2}: " + ", ".join(rooms))
        if show_edges:
            for m in sorted(m for m in g.modules if floor[m] == level):
                if g.eager[m]:
                    lines.append(f"            {short[m]} -> " + ", ".join(sorted(short[d] for d in g.eager[m])))
    up = arrows_up(g)
    lines.append("")
    lines.append(f"{len(g.modules)} modules on {top + 1} floors; "
                 f"circles: 0; arrows back up: {len(up)} (at most {MAX_ARROWS_UP})")
    for m, d in up:
        lines.append(f"  up: {short[m]} (floor {floor[m]}) -> {short[d]} (floor {floor[d]})")
    return "\n".join(lines)


if __name__ == "__main__":
    print(draw(graph(), show_edges="--edges" in sys.argv))
