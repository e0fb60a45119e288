"""Offline estimates for ``plan`` and ``--dry-run``: speech tokens and transcription cost from
the audio's duration, before anything is uploaded (docs/speech.md).

The constants describe ordinary speech: about 150 words a minute, 1.3 tokens a word in the
o200k/cl100k tokenizers, a transcript line every 5 seconds, each line's time label
(``[00:01:05.2] ``) 10 tokens plus its newline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError
from .audio import DEFAULT_AUDIO_FORMAT, DEFAULT_CHUNK_SECONDS, QUIET_SEARCH_SECONDS, AudioFormat, max_chunk_seconds

__all__ = ["LABEL_TOKENS", "LINES_PER_MINUTE", "TOKENS_PER_WORD", "WORDS_PER_MINUTE", "SpeechEstimate", "estimate_speech"]

WORDS_PER_MINUTE = 150
"""Typical speaking rate of talks and meetings."""
TOKENS_PER_WORD = 1.3
"""English words per token in OpenAI's tokenizers (measured on the talk sample: 1.2)."""
LINES_PER_MINUTE = 12
"""Transcript lines per minute (Whisper segments last about 5 seconds)."""
LABEL_TOKENS = 11
"""Tokens of one line's time label and newline (``[00:01:05.2] `` is 10 in o200k_base)."""


@dataclass(frozen=True)
class SpeechEstimate:
    """What transcribing and sending the speech would take (an estimate, never a measurement).

    Attributes:
        audio_seconds: seconds of audio to transcribe.
        tokens: speech text tokens the requests would carry.
        requests: transcription requests (chunks), at most.
        cost: transcription cost in dollars, None when the price is unknown.
    """

    audio_seconds: float
    tokens: int
    requests: int
    cost: float | None


def estimate_speech(
    audio_seconds: float,
    *,
    price_per_minute: float | None = None,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    audio_format: AudioFormat = DEFAULT_AUDIO_FORMAT,
) -> SpeechEstimate:
    """Estimate speech tokens, transcription requests and cost from the audio's duration.

    Args:
        audio_seconds: the audio's duration (``probe_audio(path).duration``).
        price_per_minute: the transcription model's price in dollars per audio minute (from the
            model table), billed by the second; None when unknown.
        chunk_seconds: longest chunk (as for ``iter_audio_chunks``).
        audio_format: the chunk format (its bitrate may shorten the chunks).

    Returns:
        The estimate.

    Raises:
        ConfigError: a negative duration or price.
    """
    if not (isinstance(audio_seconds, (int, float)) and math.isfinite(audio_seconds) and audio_seconds >= 0):
        raise ConfigError(f"audio duration must be a number of seconds >= 0, not {audio_seconds!r}")
    if price_per_minute is not None and not (math.isfinite(price_per_minute) and price_per_minute >= 0):
        raise ConfigError(f"price per minute must be >= 0, not {price_per_minute!r}", field="price_per_minute")
    minutes = audio_seconds / 60
    tokens = math.ceil(minutes * (WORDS_PER_MINUTE * TOKENS_PER_WORD + LINES_PER_MINUTE * LABEL_TOKENS))
    limit = min(float(chunk_seconds), max_chunk_seconds(audio_format))
    shortest = limit - min(QUIET_SEARCH_SECONDS, limit / 4)  # a cut moves back at most this far
    requests = math.ceil(audio_seconds / shortest) if audio_seconds > 0 else 0
    cost = None if price_per_minute is None else minutes * price_per_minute
    return SpeechEstimate(float(audio_seconds), tokens, requests, cost)
