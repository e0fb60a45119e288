"""Profiles: named settings in a TOML config file, so a local server's endpoint, model and
provider are not typed on every command, and ``videovision config``, which shows the effective
settings and where each came from.

The file (``$VIDEOVISION_CONFIG``, else ``config.toml`` in the user config dir)::

    default_profile = "ollama"          # optional: used when --profile is not given

    [profiles.ollama]
    base_url = "http://localhost:11434/v1"
    model = "llava:13b"
    provider = "local"
    transcribe_base_url = "http://localhost:8000/v1"
    api = "chat"
    api_key = "ollama"                  # optional; never shown

Precedence, highest first: a flag, the profile (``--profile``, ``$VIDEOVISION_PROFILE``, the
file's ``default_profile``), the environment (``OPENAI_BASE_URL``, ``VIDEOVISION_MODEL``), the
default. A profile's ``api_key`` is sent instead of ``OPENAI_API_KEY`` (a local server's profile
never receives the OpenAI key by accident). A profile's values are checked like the flag's.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .options import API_CHOICES, OPTIONS, Option, option

CONFIG_ENV = "VIDEOVISION_CONFIG"
PROFILE_ENV = "VIDEOVISION_PROFILE"
APP_NAME = "videovision"
_EXTRA_KEYS = ("api", "api_key")
"""Profile keys that are no option of every build: ``api`` (the wire format, ``--api`` where the
table has it) and ``api_key`` (never a flag: keys do not belong on command lines)."""


def config_path() -> Path:
    """``$VIDEOVISION_CONFIG``, else ``config.toml`` in the platform's user config dir."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def profile_options() -> dict[str, Option]:
    """The options a profile may set, by key."""
    out: dict[str, Option] = {}
    for o in OPTIONS:
        if o.profile:
            out.setdefault(o.dest, o)
    return out


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The config file as a dict ({} when there is none).

    Raises:
        ConfigError: it cannot be read or is not valid TOML, naming the file.
    """
    path = path or config_path()
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise ConfigError(f"config file {path}: cannot read it ({err.strerror})") from err
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path}: not valid TOML ({err})") from err
    profiles = doc.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ConfigError(f"config file {path}: profiles must be tables: [profiles.NAME]")
    return doc


def read_profile(name: str, doc: dict[str, Any], path: Path) -> dict[str, Any]:
    """A profile's values ({key: value}), each checked as its flag would be.

    Raises:
        ConfigError: no such profile, an unknown key (with a suggestion) or a bad value.
    """
    profiles = doc.get("profiles", {})
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"no profile {name!r} in {path} (profiles: {known})")
    allowed = profile_options()
    out: dict[str, Any] = {}
    for key, value in profiles[name].items():
        where = f"{path}: [profiles.{name}] {key}"
        if key not in allowed and key not in _EXTRA_KEYS:
            close = difflib.get_close_matches(key, [*allowed, *_EXTRA_KEYS], n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"keys: {', '.join([*allowed, *_EXTRA_KEYS])}"
            raise ConfigError(f"{where}: unknown key; {hint}")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(f"{where}: give a string or a number")
        out[key] = _checked(key, value, allowed.get(key), where)
    return out


def _checked(key: str, value: Any, row: Option | None, where: str) -> Any:
    if key == "api":
        if value not in API_CHOICES:
            raise ConfigError(f"{where} = {value!r}: choose {', '.join(API_CHOICES)}")
        return value
    if row is None:
        return str(value)
    allowed = row.allowed()
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{where} = {value!r}: choose {', '.join(allowed)}")
    if row.type is None:
        return str(value)
    try:
        return row.type(str(value))
    except (argparse.ArgumentTypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from None


def chosen_profile(args: argparse.Namespace, doc: dict[str, Any]) -> tuple[str | None, str]:
    """The profile name in force and how it was chosen (``--profile``, the environment, the file)."""
    if getattr(args, "profile", None):
        return args.profile, "--profile"
    if os.environ.get(PROFILE_ENV):
        return os.environ[PROFILE_ENV], f"${PROFILE_ENV}"
    default = doc.get("default_profile")
    if isinstance(default, str) and default:
        return default, "default_profile"
    return None, ""


def apply_profile(args: argparse.Namespace) -> None:
    """Fill the options the user did not give from the profile in force (commands with
    ``--profile`` only); ``args.sources`` records which came from it.

    Raises:
        ConfigError: a bad config file or profile, naming the file and key.
    """
    command = getattr(args, "command", None)
    args.sources = {}
    if not command or option("profile", command) is None:
        return
    path = config_path()
    doc = load_config(path)
    name, _ = chosen_profile(args, doc)
    if name is None:
        return
    where = f"profile {name}"
    for key, value in read_profile(name, doc, path).items():
        if key == "api_key":
            args.profile_api_key = value
            args.sources[key] = where
            continue
        honoured = option(key, command) is not None
        if (honoured or key == "api") and getattr(args, key, None) is None:
            setattr(args, key, value)  # ``api`` is carried even where the table has no --api yet
            args.sources[key] = where


def effective_settings(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(setting, value shown, where it came from) for what a profile may set, the key (never its
    value) and the cache dir."""
    from .. import defaults
    from ..endpoint import OPENAI_BASE_URL
    from ..models import DEFAULT_MODEL
    from ..redact import display_url
    from ..store import default_cache_dir
    from ..store.db import ENV_CACHE_DIR

    sources: dict[str, str] = getattr(args, "sources", {})
    env_of = {"model": "VIDEOVISION_MODEL", "base_url": "OPENAI_BASE_URL", "cache_dir": ENV_CACHE_DIR}
    fallback: dict[str, Any] = {"model": DEFAULT_MODEL, "base_url": OPENAI_BASE_URL, "provider": "openai",
                                "detail": defaults.DETAIL, "transcribe_model": defaults.TRANSCRIBE_MODEL,
                                "transcribe_base_url": "(the chat endpoint)", "timeout": defaults.TIMEOUT,
                                "max_retries": defaults.MAX_RETRIES, "api": "(the library's choice)",
                                "cache_dir": str(default_cache_dir())}
    out: list[tuple[str, str, str]] = []
    for key in dict.fromkeys([*profile_options(), "api", "cache_dir"]):  # once, when the table gains --api
        value, source = getattr(args, key, None), sources.get(key, "flag")
        if value is None and os.environ.get(env_of.get(key, "")):
            value, source = os.environ[env_of[key]], f"env {env_of[key]}"
        if value is None:
            value, source = fallback.get(key, "(the library default)"), "default"
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        out.append((key, display_url(shown) if "://" in shown else shown, source))
    if getattr(args, "profile_api_key", None):
        out.append(("api_key", "set", sources.get("api_key", "profile")))
    elif os.environ.get("OPENAI_API_KEY"):
        out.append(("api_key", "set", "env OPENAI_API_KEY"))
    else:
        out.append(("api_key", "not set", "default (a local --base-url needs none)"))
    return out


def cmd_config(args: argparse.Namespace) -> int:
    """``videovision config``: the config file, the profile in force and the effective settings."""
    from ..render.documents import document, dumps
    from .outputs import answer_out, check_writable

    if args.output:
        check_writable(args.output, "--output")
    path = config_path()
    doc = load_config(path)
    name, how = chosen_profile(args, doc)
    settings = effective_settings(args)
    if args.json:
        data = document(config_file=str(path), config_file_exists=path.exists(),
                        profiles=sorted(doc.get("profiles", {})), profile=name,
                        settings={key: {"value": value, "source": source} for key, value, source in settings})
        answer_out(args, dumps(data), "settings", as_json=True)
        return 0
    found = "" if path.exists() else " (not found: no profiles)"
    lines = [f"config file  {path}{found}"]
    if doc.get("profiles"):
        lines.append(f"profiles     {', '.join(sorted(doc['profiles']))}")
    lines.append(f"profile      {name} ({how})" if name else "profile      none")
    width = max(len(key) for key, _, _ in settings)
    value_width = max(len(value) for _, value, _ in settings)
    lines += [f"{key:<{width}}  {value:<{value_width}}  {source}" for key, value, source in settings]
    answer_out(args, "\n".join(lines) + "\n", "settings")
    return 0
