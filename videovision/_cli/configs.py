"""Parsed options into the library's config objects, read from the options table
(:func:`.options.given`): nothing here names an option."""

from __future__ import annotations

import argparse
import os
from typing import Any

from .. import defaults
from ..types import SamplingConfig
from .options import given


def sampling_config(args: argparse.Namespace) -> SamplingConfig:
    return SamplingConfig(**given(args, "sampling"))


def speech_config(args: argparse.Namespace):
    from ..types import SpeechConfig

    return SpeechConfig(**given(args, "speech"))


def client_config(args: argparse.Namespace):
    from ..endpoint import ClientConfig

    key = getattr(args, "profile_api_key", None)  # a profile's key wins over OPENAI_API_KEY; never shown
    return ClientConfig.from_env(**given(args, "client"), **({"api_key": key} if key else {}))


def model_name(args: argparse.Namespace) -> str:
    """``--model`` (or a profile's), else ``$VIDEOVISION_MODEL``, else the library default."""
    from ..models import DEFAULT_MODEL

    given = getattr(args, "model", None)
    return given if given is not None else (os.environ.get("VIDEOVISION_MODEL") or DEFAULT_MODEL)


def task_config(args: argparse.Namespace, task: str, questions: tuple[str, ...] = ()):
    """The TaskConfig of a planning command."""
    from ..models import load_models_file
    from ..packing import Budget, PackConfig, load_provider
    from ..pipeline import TaskConfig
    from ..prompts import PromptOptions

    if getattr(args, "models_file", None):
        load_models_file(args.models_file)
    pack: dict[str, Any] = given(args, "pack")
    pack["model"] = model_name(args)
    pack["limits"] = load_provider(pack.pop("limits", None))
    pack["api"] = given(args, "client").get("api") or "auto"  # the requests are encoded for the wire sent by
    if pack.get("grid") is not None:
        pack["grid"] = tuple(pack["grid"])  # a stored run keeps it as a list
    budget = {"max_frames": defaults.MAX_FRAMES, **given(args, "budget")}
    prompt = PromptOptions(task=task, questions=questions, **given(args, "prompt"))
    from ..screentext import ScreenTextConfig

    return TaskConfig(sampling=sampling_config(args), pack=PackConfig(budget=Budget(**budget), **pack),
                      prompt=prompt, speech=speech_config(args), screen_text=ScreenTextConfig(**given(args, "screen_text")),
                      **given(args, "task"))
