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

    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's prompt cache (``prompt_tokens_details.cache_write_tokens``,
    ``input_tokens_details.cache_write_tokens`` on Responses; billed at 1.25x input on gpt-5.6 and later)."""
    image_tokens: int | None = None
    """Prompt tokens of the images as the reply reports them (``prompt_tokens_details.image_tokens`` /
    ``input_tokens_details.image_tokens``); None when the reply does not say."""

    def __add__(self, other: Usage) -> Usage:
        images = (None if self.image_tokens is None and other.image_tokens is None
                  else (self.image_tokens or 0) + (other.image_tokens or 0))
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens,
                     self.cached_tokens + other.cached_tokens, self.cache_write_tokens + other.cache_write_tokens,
                     images)
