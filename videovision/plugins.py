"""Parts found by looking: the one way a package of parts (wires, sampling strategies, tasks, output formats)
finds its members. Every module of the package that defines the attribute (``WIRE``, ``STRATEGY``, ``TASK``,
``FORMAT``) is a member, named by the value's ``name``; adding one is adding a file.

    FOUND = Found(__name__, "TASK", order=lambda t: (t.order, t.name))
    FOUND["ask"], list(FOUND), FOUND.refresh()
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["Found"]

T = TypeVar("T")


def _name(value: Any) -> str:
    return value.name


class Found(Mapping[str, T], Generic[T]):
    """Name → the value ``attr`` of each module of the package ``package`` (its ``__path__`` read when
    first asked, so a folder added to it counts after :meth:`refresh`), sorted by ``order``; modules named
    ``base`` or starting with ``_`` are the package's own."""

    def __init__(self, package: str, attr: str, order: Callable[[Any], Any] = lambda value: value.name):
        self._package, self._attr, self._order = package, attr, order
        self._found: dict[str, T] = {}

    def _load(self) -> dict[str, T]:
        if not self._found:
            values: list[T] = []
            for module in pkgutil.iter_modules(sys.modules[self._package].__path__):
                if module.name == "base" or module.name.startswith("_"):
                    continue
                value = getattr(importlib.import_module(f"{self._package}.{module.name}"), self._attr, None)
                if value is not None:
                    values.append(value)
            self._found.update((_name(v), v) for v in sorted(values, key=self._order))
        return self._found

    def __getitem__(self, name: str) -> T:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def refresh(self) -> None:
        """Look again (after a module was added to the package's path)."""
        self._found.clear()
