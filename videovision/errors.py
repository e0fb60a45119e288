"""The videovision error tree.

Every error the library raises on purpose is a ``VideovisionError``; the CLI turns
each into one line on stderr and a non-zero exit code, in one place.

    VideovisionError
    ├── VideoOpenError          the file is missing, not a video, truncated, audio-only, empty ...
    ├── SamplingError           no frame could be taken with the options given
    ├── BudgetError             the budget or provider limits cannot fit even one frame
    ├── ConfigError             an option or setting is invalid (exit code 2 in the CLI)
    ├── CacheError              the cache database cannot be used
    └── RequestError            the model endpoint failed (keeps status_code and request_id)
        ├── AuthenticationError     no key, 401, 403
        ├── ModelNotFoundError      404 for the model
        ├── RateLimitError          429 after the SDK's retries
        │   └── QuotaExceededError      429 insufficient_quota: retrying will not help
        ├── ServerError             5xx after retries
        ├── RequestTimeoutError     no reply within the timeout
        ├── EndpointConnectionError connection refused / DNS failure
        ├── ContextLengthError      the request is too large for the model's context
        ├── ContentRefusedError     the model or its filter refused
        └── ResponseFormatError     the reply is malformed, or cut off (finish_reason == "length")
            └── IncompleteReplyError    the reply ended before the model finished (no finish_reason)

Messages say what is wrong and what to do next. Every ``RequestError`` carries ``usage``: the tokens
the endpoint billed for the reply that failed (zero when none were reported).
"""

from __future__ import annotations

from .usage import Usage

EXIT_PARTIAL = 8
"""``videovision batch``: some videos failed (the others are done)."""
EXIT_ALL_FAILED = 7
"""``videovision batch``: every video failed (as a failed request)."""
EXIT_PENDING = 9
"""``videovision batch --batch-api``: nothing failed, some videos wait for their Batch API replies."""


class VideovisionError(Exception):
    """Base class of every error videovision raises on purpose."""

    exit_code: int = 1


class VideoOpenError(VideovisionError):
    """The video cannot be opened or decoded (missing, not a video, truncated, no video stream)."""

    exit_code = 3


class SamplingError(VideovisionError):
    """No frame could be sampled with the given options."""

    exit_code = 4


class BudgetError(VideovisionError):
    """The budget or the provider limits cannot fit even one frame."""

    exit_code = 5


class ConfigError(VideovisionError):
    """An option, setting or model parameter is invalid.

    ``field`` names the config field at fault (``max_frames``, ``tolerance`` ...) when there is one;
    the message then starts with it, and the CLI shows the matching flag (``--max-frames``) instead.
    """

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class CacheError(VideovisionError):
    """The cache database cannot be opened or written."""

    exit_code = 6


class RequestError(VideovisionError):
    """The model endpoint failed. Keeps the HTTP status and the request id when known, and the
    tokens billed for the failed reply (``usage``; zero when none were reported)."""

    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        usage: Usage | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.usage: Usage = usage if usage is not None else _no_usage()


def _no_usage() -> Usage:
    return Usage()


class AuthenticationError(RequestError):
    """No API key, or the key was refused (401/403)."""


class ModelNotFoundError(RequestError):
    """The endpoint does not know the model (404)."""


class RateLimitError(RequestError):
    """Rate limited (429) even after the SDK's retries."""


class QuotaExceededError(RateLimitError):
    """The account's quota is spent (429 ``insufficient_quota``): retrying will not help."""


class ServerError(RequestError):
    """The endpoint kept failing with 5xx after the SDK's retries."""


class RequestTimeoutError(RequestError):
    """No reply within the timeout."""


class EndpointConnectionError(RequestError):
    """The endpoint could not be reached."""


class ContextLengthError(RequestError):
    """The request does not fit the model's context window."""


class ContentRefusedError(RequestError):
    """The model or the provider's content filter refused to answer."""


class ResponseFormatError(RequestError):
    """The reply could not be used: malformed, empty, or cut off."""


class IncompleteReplyError(ResponseFormatError):
    """The reply ended before the model finished it (no ``finish_reason``): cut off or truncated."""


class UsageMismatchError(ResponseFormatError):
    """``--strict``: the endpoint counted far fewer input tokens than the images sent cost (it
    likely dropped them), or the reply could not be read as the task asked."""
