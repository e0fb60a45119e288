"""The shape of the package: every package it imports is declared, and no module reaches back up into
``videovision/__init__.py`` (the public names live there; importing it from inside makes a circle)."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "videovision"


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        wanted += extra
    return {re.split(r"[\s<>=!~;\[]", w, maxsplit=1)[0].lower().replace("_", "-") for w in wanted}


def test_every_package_the_code_imports_is_declared_in_pyproject():
    imported: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        imported |= _imports(ast.parse(path.read_text(encoding="utf-8")))
    third = {name for name in imported if name not in sys.stdlib_module_names and name != "videovision"}
    dists = metadata.packages_distributions()
    declared = _declared()
    missing = []
    for name in sorted(third):
        owners = {d.lower().replace("_", "-") for d in dists.get(name, [name.replace("_", "-")])}
        if not owners & declared:
            missing.append(f"{name} ({', '.join(sorted(owners))})")
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_no_module_imports_the_package_init():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue
        depth = len(path.relative_to(PACKAGE).parts)  # 1: videovision/x.py, 2: videovision/sub/x.py
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            top = (node.level == depth and node.module is None) or (node.level == 0 and node.module == "videovision")
            public = {a.name for a in node.names} - {p.stem for p in PACKAGE.iterdir()}
            if top and public:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(public)}")
    assert not offenders, offenders


def _module_imports() -> dict[str, set[str]]:
    """Each videovision module -> the videovision modules it imports at run time (imports under
    ``if TYPE_CHECKING:`` are for annotations only and are left out)."""
    modules: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only |= {id(n) for b in node.body for n in ast.walk(b)}
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(tree):
            if id(node) in typing_only or not isinstance(node, ast.ImportFrom):
                continue
            base = (package[: len(package) - node.level + 1] if node.level else [])
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found = full if full in modules else target if target in modules else None
                if found and found != name:
                    edges[name].add(found)
    return edges


def test_no_import_circles():
    edges = _module_imports()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
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
                circles.append(sorted(component))

    for module in edges:
        if module not in index:
            visit(module)
    assert not circles, f"modules importing each other: {circles}"


def test_the_readme_design_section_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Design")
    block = readme[start:readme.index("\n## ", start + 1)]
    missing = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
               if p.name != "__init__.py" and p.name not in block]
    assert not missing, f"modules the README's Design section does not name: {missing}"
