"""What ``--help`` says besides the options: the environment variables the code reads, and each
command's exit codes, taken from the error classes (:mod:`videovision.errors`: each class's
``exit_code`` and the first line of its docstring), so a code is never typed twice."""

from __future__ import annotations

from .. import defaults, errors

ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("OPENAI_API_KEY", "the API key (never printed or logged; a profile's api_key is sent instead)"),
    ("OPENAI_BASE_URL", "the OpenAI-compatible endpoint (below --base-url and a profile's base_url)"),
    ("VIDEOVISION_MODEL", f"the model when neither -m/--model nor a profile names one (default {defaults.MODEL})"),
    ("VIDEOVISION_CONFIG", "the config file with the profiles (default: config.toml in the user config dir)"),
    ("VIDEOVISION_PROFILE", "the profile used when --profile is not given"),
    ("VIDEOVISION_CACHE_DIR", "the cache (frames, replies, transcripts, run log); --cache-dir wins"),
    ("VIDEOVISION_MAX_DOWNLOAD", "most bytes one VIDEO URL may download (e.g. 2G); --max-download wins"),
    ("VIDEOVISION_DOWNLOAD_STALL", "seconds a download may bring nothing before it is given up"),
    ("VIDEOVISION_ENCODINGS_DIR", "tiktoken encoding files to count text tokens offline (also TIKTOKEN_CACHE_DIR)"),
    ("VIDEOVISION_TESSERACT", "the Tesseract executable that reads text on screen (default: tesseract on PATH)"),
    ("VIDEOVISION_DEBUG", "1: show the traceback of an error (the key scrubbed from it)"),
)
"""Every environment variable videovision reads, with what it sets."""

_GENERAL = ((0, "success"), (1, "unexpected error (please report it)"), (130, "interrupted (finished replies are "
                                                                              "cached; run again to resume)"))
_BY_KIND: dict[str, tuple[type[errors.VideovisionError], ...]] = {
    "offline": (errors.ConfigError,),
    "video": (errors.ConfigError, errors.VideoOpenError),
    "plan": (errors.ConfigError, errors.VideoOpenError, errors.SamplingError, errors.BudgetError, errors.CacheError),
    "send": (errors.ConfigError, errors.VideoOpenError, errors.SamplingError, errors.BudgetError, errors.CacheError,
             errors.RequestError),
    "transcript": (errors.ConfigError, errors.VideoOpenError, errors.CacheError, errors.RequestError),
    "cache": (errors.ConfigError, errors.CacheError),
    "search": (errors.ConfigError, errors.VideoOpenError),
}


def _first_line(cls: type) -> str:
    text = " ".join((cls.__doc__ or cls.__name__).split()).split(". ")[0].rstrip(".")
    return text[0].lower() + text[1:] if text else cls.__name__


def exit_codes(kind: str, extra: tuple[tuple[int, str], ...] = ()) -> str:
    """The exit-code lines of a command of ``kind`` (see ``_BY_KIND``), plus its own ``extra`` codes."""
    codes: dict[int, str] = {code: what for code, what in _GENERAL[:2]}
    for cls in _BY_KIND[kind]:
        codes[cls.exit_code] = _first_line(cls)
    if errors.ConfigError in _BY_KIND[kind]:
        codes[errors.ConfigError.exit_code] = "bad usage or options: " + _first_line(errors.ConfigError)
    for code, what in extra:
        codes[code] = what
    codes[_GENERAL[2][0]] = _GENERAL[2][1] if errors.RequestError in _BY_KIND[kind] else "interrupted (Ctrl-C)"
    return "exit codes:\n" + "\n".join(f"  {code:>3}  {what}" for code, what in sorted(codes.items()))


BATCH_EXIT_CODES = ((errors.EXIT_PARTIAL, "some videos failed (the others are done)"),
                    (errors.EXIT_ALL_FAILED, "every video failed"),
                    (errors.EXIT_PENDING, "none failed, but some wait for their Batch API replies"))


def environment() -> str:
    width = max(len(name) for name, _ in ENVIRONMENT)
    return "environment:\n" + "\n".join(f"  {name:<{width}}  {what}" for name, what in ENVIRONMENT)
