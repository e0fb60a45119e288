"""The shape of the package: every package it imports is declared, and no module reaches back up into
``videovision/__init__.py`` (the public names live there; importing it from inside makes a circle)."""

from __future__ import annotations

import ast
import importlib.util
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


def _structure():
    spec = importlib.util.spec_from_file_location("structure", ROOT / "scripts" / "structure.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["structure"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_structure_drawing_shows_no_circle_and_few_arrows_back_up():
    structure = _structure()
    g = structure.graph()
    assert len(g.modules) == len(list(PACKAGE.rglob("*.py")))
    assert not structure.circles(g.eager), structure.circles(g.eager)
    up = structure.arrows_up(g)
    assert len(up) <= structure.MAX_ARROWS_UP, up
    drawing = structure.draw(g)
    assert "circles: 0" in drawing and f"arrows back up: {len(up)}" in drawing


def test_the_drawing_finds_a_circle_and_an_arrow_back_up():
    structure = _structure()
    assert structure.circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    g = structure.Graph({"low": Path("low.py"), "high": Path("high.py")},
                        eager={"low": set(), "high": {"low"}}, deferred={"low": {"high"}, "high": set()})
    assert structure.arrows_up(g) == [("low", "high")]
    g.eager["low"] = {"high"}
    assert structure.draw(g).startswith("circles: high <-> low")


def test_the_readme_design_section_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Design")
    block = readme[start:readme.index("\n## ", start + 1)]
    missing = [str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
               if p.name != "__init__.py" and p.name not in block]
    assert not missing, f"modules the README's Design section does not name: {missing}"
