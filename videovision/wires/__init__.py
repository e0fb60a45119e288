"""The request formats (wires) videovision speaks: Chat Completions (``chat``) and Responses
(``responses``). A wire turns the request videovision builds into the body its endpoint takes, and
reads that endpoint's replies, stream events and usage. :func:`wire_for` picks one for a model."""

from __future__ import annotations

from typing import Literal

from ..errors import ConfigError

ApiChoice = Literal["chat", "responses", "auto"]
API_CHOICES: tuple[str, ...] = ("chat", "responses", "auto")

PATHS = {"chat": "/chat/completions", "responses": "/responses"}
"""Endpoint path of each wire (under the base URL's ``/v1``); the Batch API's ``url`` is ``/v1`` + it."""


def api_for(model: str, api: str | None = "auto") -> Literal["chat", "responses"]:
    """The wire a request to ``model`` goes through: ``api`` when it is ``chat`` or ``responses``; for
    ``auto`` (or None) the model table's choice (Responses for models only it serves: gpt-5-pro,
    gpt-5.5-pro, o3-pro ...; Chat Completions otherwise).

    Raises:
        ConfigError: ``api`` is not one of chat, responses, auto.
    """
    if api in (None, "auto"):
        from ..models import resolve_model

        return "responses" if resolve_model(model).api == "responses" else "chat"
    if api not in ("chat", "responses"):
        raise ConfigError(f"api must be one of {', '.join(API_CHOICES)}, not {api!r}")
    return api  # type: ignore[return-value]
