"""Every user-facing default, named once.

The library's config objects take their defaults from here; the CLI shows them in ``--help`` and
passes ``None`` for an option not given, which means "the library default". Allowed values are the
``Literal`` types in :mod:`videovision.types` (the CLI derives its ``choices`` from them).
Stage-internal tuning constants (candidate counts, detection width ...) stay in their modules.
"""

from __future__ import annotations

from typing import Final

# ---- sampling (SamplingConfig)
STRATEGY: Final = "interval"
"""Strategy of ``frames`` and of a bare ``SamplingConfig()``."""
TASK_STRATEGY: Final = "hybrid"
"""Strategy of ``plan`` / ``summarize`` / ``ask`` / ``chapters`` (TaskConfig)."""
EVERY: Final = 5.0
"""``interval``: seconds between frames."""
COUNT: Final = 16
"""``uniform``: number of frames."""
MAX_GAP: Final = 10.0
"""``hybrid``: longest gap in seconds between chosen frames (before the automatic gap)."""
DEDUP_CHANGE: Final = 1.0
"""``dedup``: percent of a small grey copy's pixels that must change for two frames to show different
pictures (measured on slide samples: a moved pointer changes less, the next slide of one template more)."""
PRESET: Final = "auto"
"""Scene detection of ``scenes`` / ``hybrid`` when no PySceneDetect detector is named: ``auto`` picks
``screen`` (slides, screen shares) or ``film`` (PySceneDetect's adaptive detector) from measured motion."""
MIN_SCENE_LEN: Final = 0.6
"""Seconds; shorter "scenes" (flashes) are merged into their neighbour."""

# ---- speech (SpeechConfig)
SPEECH: Final = "auto"
"""Where speech comes from: ``auto`` = subtitles (embedded, then a sidecar file), else transcription
when the video has audio and the provider allows it, else frames only."""
TRANSCRIBE_MODEL: Final = "whisper-1"
TRANSCRIBE_CHUNK: Final = 600.0
"""Longest audio chunk uploaded for transcription, seconds (each also stays under 25 MB)."""
MAX_SPEECH_TOKENS: Final = 20_000
"""Speech text a plan may carry; over it, lines are thinned evenly across the whole video."""

# ---- packing (PackConfig, Budget)
MODEL: Final = "gpt-5.6-luna"
"""Model assumed when none is given (-m/--model, $VIDEOVISION_MODEL, a profile): the cheapest current
OpenAI model whose image-token rule OpenAI documents ($0.20 / $1.20 per 1M tokens; 32 px patches x 1.2;
README, Models). A reasoning model: it gets ``reasoning_effort`` low and a larger output limit."""
MAX_FRAMES: Final = 32
"""Frame budget of summarize/ask/chapters: a 10-minute video in one request at low detail
(32 x 288 tokens on the default model; 32 x 2833 = 91k on gpt-4o-mini, within its 128k context)."""
DETAIL: Final = "low"
IMAGE_FORMAT: Final = "jpeg"
QUALITY: Final = 80
"""JPEG/WEBP quality of packed frames."""

# ---- prompt (PromptOptions)
STYLE: Final = "brief"
MAX_OUTPUT_TOKENS: Final = 1200
REASONING_MAX_OUTPUT_TOKENS: Final = 4000
"""Reasoning models spend output tokens on hidden reasoning before the answer: a larger limit."""
TEMPERATURE: Final = 0.2
REASONING_EFFORT: Final = "low"

# ---- run (TaskConfig) and checking answers
CONCURRENCY: Final = 4
"""Map-reduce chunk requests in flight at once."""
TOLERANCE: Final = 1.0
"""Seconds within which a cited time counts as supported by a frame sent."""
REFINE: Final = True
"""``ask``: after the overview, look again at each cited moment, densely (the refine pass)."""
REFINE_MAX: Final = 3
"""``ask``: moments refined at most (one request each)."""
REFINE_FPS: Final = 2.0
"""Frames per second sampled in a refine window."""
REFINE_MAX_FRAMES: Final = 32
"""Frames a refine window sends at most (spread evenly when 2 fps would give more)."""
REFINE_MIN_HALF_WINDOW: Final = 4.0
"""Seconds: a refine window reaches at least this far on each side of the cited time."""

# ---- clips (videovision clip, ask --clips)
CLIP_BEFORE: Final = 3.0
"""Seconds a moment's clip starts before the cited time."""
CLIP_AFTER: Final = 5.0
"""Seconds a moment's clip runs after the cited time, or after the end of a cited range."""

# ---- endpoint (ClientConfig)
TIMEOUT: Final = 120.0
"""Seconds one request attempt may take."""
MAX_RETRIES: Final = 2
"""The openai SDK's retries with exponential backoff (honouring Retry-After)."""
MAX_RETRIES_CAP: Final = 10
"""``--max-retries`` at most: each retry waits longer than the last (Retry-After honoured), so a run
with a huge count would keep retrying for minutes or hours instead of failing."""

# ---- downloads (videos by URL)
DOWNLOAD_STALL: Final = 30.0
"""Seconds a download may go with no byte, or with under 64 KiB, before it stops (a stalled or trickling
server); ``VIDEOVISION_DOWNLOAD_STALL`` or ``fetch(stall=...)`` overrides it."""
MAX_DOWNLOAD: Final[int | None] = None
"""Cap on one download's bytes (``--max-download``, ``VIDEOVISION_MAX_DOWNLOAD``, ``fetch(max_download=...)``);
None: no fixed cap, only the cache disk's free space minus ``DOWNLOAD_SPARE``."""
DOWNLOAD_SPARE: Final = 100 * 1024**2
"""Bytes of free space a download leaves on the cache's disk (100 MiB)."""

# ---- search (videovision search)
SEARCH_LIMIT: Final = 10
"""Hits ``videovision search`` shows."""

# ---- cache
CACHE_MAX_BYTES: Final = 2 * 1024**3
"""Cap on stored image bytes; least recently used images are pruned past it (2 GiB)."""
LOG_LIMIT: Final = 20
"""Entries ``videovision log`` lists."""

# ---- batch
BATCH_FAILURES_SHOWN: Final = 20
"""Failed videos ``videovision batch`` names on stderr (one line each); the rest are counted."""

# ---- screen text (videovision/screentext.py)
SCREEN_TEXT: Final = "auto"
"""``--screen-text``: ``auto`` reads the frames of screen recordings when Tesseract is installed."""
SCREEN_TEXT_MAX_TOKENS: Final = 4000
"""Text tokens all "on screen" parts of a plan may take together; frames past it send no text (a note says so)."""
SCREEN_TEXT_FRAME_MAX_TOKENS: Final = 400
"""Text tokens one frame's "on screen" part may take (cut at a line boundary past it)."""
SCREEN_TEXT_LEGIBLE_RECALL: Final = 0.6
"""A frame's text survives its packed size when OCR at that size finds at least this share of the words
read on the full frame (bench/bench_screentext.py)."""
SCREEN_TEXT_MIN_WORDS: Final = 3
"""Frames with fewer words read on the full frame are not judged for legibility."""
OCR_TIMEOUT: Final = 60.0
"""Seconds one Tesseract call may take."""
