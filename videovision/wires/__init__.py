"""The request formats (wires) videovision speaks, one module each, found by looking:

    chat.py        POST /chat/completions   (Chat Completions)
    responses.py   POST /responses          (the Responses API; the only one serving gpt-5-pro, o3-pro ...)

Every module of this package that defines ``WIRE`` (a :class:`~videovision.wires.base.Wire`) is a
wire, named by ``WIRE.name``: ``--api`` takes the name, ``ClientConfig.api`` and ``PackConfig.api``
accept it, and the client, the plan, the Batch API and the reply cache go through it. A new format
is one new module here and nothing else.

    api_for("gpt-5-pro")             -> "responses"   (auto: the model table, or a wire's serves_only)
    wire_for("responses").encode(request)            -> the CreateResponse body
    wire_of_body({"model": ..., "messages": [...]})  -> the chat wire
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ..plugins import Found
from .base import StreamState, Wire, WireReply

__all__ = ["StreamState", "Wire", "WireReply", "api_choices", "api_for", "refresh", "wire_for", "wire_for_url",
           "wire_of", "wire_of_body", "wires"]

DEFAULT = "chat"
"""The wire of a model no wire claims and the model table sends nowhere else."""

_FOUND: Found[Wire] = Found(__name__, "WIRE", order=lambda w: (w.name != DEFAULT, w.name))


def refresh() -> None:
    """Look for wire modules again (after a module was added to the package's path)."""
    _FOUND.refresh()


def wires() -> Mapping[str, Wire]:
    """Every wire: name → its ``WIRE``, the default (``chat``) first."""
    return dict(_FOUND)


def api_choices() -> tuple[str, ...]:
    """The values ``api`` (``--api``) takes: a wire's name, or ``auto``."""
    return (*wires(), "auto")


def _choices() -> str:
    return ", ".join(api_choices())


def wire_for(name: str) -> Wire:
    """The wire called ``name``.

    Raises:
        ConfigError: no such wire.
    """
    wire = wires().get(name)
    if wire is None:
        raise ConfigError(f"invalid api {name!r}: choose {_choices()}", field="api")
    return wire


_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def api_for(model: str, api: str | None = "auto") -> str:
    """The wire a request to ``model`` goes over: ``api`` when it names a wire; for ``auto`` (or None)
    the wire whose ``serves_only`` names the model (dated snapshots included), else the model table's
    ``api`` (Responses for gpt-5-pro, gpt-5.5-pro, o3-pro ...), else Chat Completions.

    Raises:
        ConfigError: ``api`` names no wire and is not ``auto``.
    """
    if api not in (None, "auto"):
        return wire_for(api).name
    base = _SNAPSHOT.sub("", model.rsplit("/", 1)[-1])
    for wire in wires().values():
        if base in wire.serves_only:
            return wire.name
    from ..models import resolve_model

    declared: str
    try:
        declared = resolve_model(model).api
    except ConfigError:
        declared = DEFAULT
    return declared if declared in wires() else DEFAULT


def wire_of(model: str, api: str | None = "auto") -> Wire:
    """The wire a request to ``model`` goes over (:func:`api_for`)."""
    return wire_for(api_for(model, api))


def wire_of_body(body: Mapping[str, Any]) -> Wire:
    """The wire whose format ``body`` is in.

    Raises:
        ConfigError: a body of no wire.
    """
    for wire in wires().values():
        if wire.owns(body):
            return wire
    raise ConfigError("a request body in no known format: expected a non-empty 'messages' list (Chat Completions) "
                      "or another wire's body (" + ", ".join(wires()) + ")")


def wire_for_url(url: str) -> Wire:
    """The wire whose endpoint path ``url`` ends in (a Batch API line's ``url``: ``/v1/responses``).

    Raises:
        ConfigError: no wire serves that path.
    """
    for wire in wires().values():
        if url.rstrip("/").endswith(wire.path):
            return wire
    raise ConfigError(f"no wire serves {url!r}: expected one of " + ", ".join("/v1" + w.path for w in wires().values()))
