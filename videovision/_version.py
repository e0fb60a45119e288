"""The package version, in one place: ``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``), the
package re-exports it, and cache keys and ``--version`` import it from here so no module reaches back up
into ``videovision/__init__.py``."""

__version__ = "0.1.0"
