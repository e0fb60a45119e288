"""The tokens a reply reports: a value of its own at the bottom of the package, so the error classes
(which carry what a failed reply billed) and the stage values in ``types.py`` can both hold it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Usage"]


@dataclass(frozen=True)
class Usage:
    """Tokens a reply reports (``usage``)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens the provider served from its prompt cache (``prompt_tokens_details.cached_tokens``;
    OpenAI counts them inside ``prompt_tokens`` and bills them at a discount)."""

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens,
                     self.cached_tokens + other.cached_tokens)
