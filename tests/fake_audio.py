"""``POST /v1/audio/transcriptions`` for the loopback OpenAI-compatible server (tests/fakeserver.py).

    with FakeOpenAIServer(api_key=KEY) as server:
        audio = install_audio(server)                 # adds the route
        audio.enqueue_fault("500")                    # the next upload gets a 500
        audio.fail_when(lambda up: "chunk-0001" in up.filename and "503")
        ...
        audio.uploads[0].response_format, audio.max_active

What it does per upload, in OpenAI's order:

1. a queued fault (FIFO) or one chosen by ``fail_when``, if any;
2. ``Authorization: Bearer <key>`` (the server's own check);
3. validates the multipart form as OpenAI documents it: ``model`` present (404 ``model_not_found``
   outside ``models`` when given); ``file`` present, at most 25 MB (413), with an extension among
   flac/mp3/mp4/mpeg/mpga/m4a/ogg/wav/webm (``.opus`` is refused); ``response_format`` among
   json/text/srt/verbose_json/vtt/diarized_json and allowed for the model (``gpt-4o(-mini)-transcribe``:
   json or text; ``*-diarize``: json, text or diarized_json); ``timestamp_granularities[]`` only with
   ``verbose_json``; ``keywords[]``/``languages[]`` only for gpt-transcribe, ``prompt`` not for
   ``*-diarize``; the file must decode as audio;
4. answers with segments from the responder ``(AudioUpload) -> [{"start", "end", "text", ("speaker")}]``
   (times in seconds from the upload's start). The default finds the voiced stretches of the upload
   (10 ms energy windows, pauses shorter than ``MERGE_GAP_SECONDS`` bridged), so a test can compare
   the times it gets back with the sample's ground truth.

``delay`` makes every answer take that long (to measure concurrency); ``max_active`` is the largest
number of uploads served at once.
"""

from __future__ import annotations

import collections
import io
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import av
import numpy as np
from fakeserver import ErrorReply, FakeOpenAIServer, RequestHandler

__all__ = [
    "AUDIO_EXTENSIONS",
    "AUDIO_FAULTS",
    "AUDIO_PATH",
    "AUDIO_RESPONSE_FORMATS",
    "MAX_AUDIO_BYTES",
    "AudioEndpoint",
    "AudioUpload",
    "install_audio",
    "voiced_segments",
]

AUDIO_PATH = "/v1/audio/transcriptions"
MAX_AUDIO_BYTES = 25 * 1024 * 1024
"""OpenAI's upload limit (bytes)."""
AUDIO_EXTENSIONS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm")
AUDIO_RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
TEXT_ONLY_MODELS = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe")
HINT_LIST_MODELS = ("gpt-transcribe",)
"""Models that take ``keywords[]`` and ``languages[]`` (others are refused with a 400)."""
DIARIZE_FORMATS = ("json", "text", "diarized_json")
AUDIO_FAULTS = frozenset({"400", "401", "404", "429", "500", "503", "slow", "disconnect", "malformed", "pass",
                          "html", "text"})
"""``html``: 200 with a text/html page (``message`` inside it: a login page echoing a key, say);
``text``: 200 with ``{"text": message}`` whatever format was asked."""
SAMPLE_RATE = 16000
WINDOW_SECONDS = 0.01
VOICE_THRESHOLD = 0.02
"""A 10 ms window is voiced above this RMS (fraction of full scale)."""
MERGE_GAP_SECONDS = 0.7
"""Pauses shorter than this stay inside one segment."""

AudioResponder = Callable[["AudioUpload"], list[dict]]


@dataclass(frozen=True)
class AudioUpload:
    """One transcription request as the server understood it."""

    model: str
    filename: str
    size: int
    response_format: str
    language: str | None
    prompt: str | None
    timestamp_granularities: tuple[str, ...]
    fields: dict[str, str]
    """Every non-file form field (repeated fields joined with commas)."""
    samples: np.ndarray = field(repr=False)
    """The decoded audio, mono float32 at 16 kHz."""

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def voiced_segments(upload: AudioUpload) -> list[dict]:
    """The voiced stretches of an upload as segments ``{"start", "end", "text"}``."""
    win = int(WINDOW_SECONDS * SAMPLE_RATE)
    n = len(upload.samples) // win
    if n == 0:
        return []
    rms = np.sqrt(np.mean(upload.samples[: n * win].reshape(n, win) ** 2, axis=1))
    voiced = np.flatnonzero(rms > VOICE_THRESHOLD)
    spans: list[list[int]] = []
    for k in voiced:
        if spans and k - spans[-1][1] <= MERGE_GAP_SECONDS / WINDOW_SECONDS:
            spans[-1][1] = int(k)
        else:
            spans.append([int(k), int(k)])
    return [
        {"start": round(a * WINDOW_SECONDS, 3), "end": round((b + 1) * WINDOW_SECONDS, 3), "text": f"Voice number {i + 1}."}
        for i, (a, b) in enumerate(spans)
    ]


class AudioEndpoint:
    """The transcription route's state: uploads received, faults, concurrency seen.

    Args:
        responder: segments for an upload (``voiced_segments`` if None).
        models: the models it knows (others: 404); None accepts any.
        delay: seconds every answer waits (after validation).
        decode: False skips decoding the audio (``samples`` is then empty): a benchmark's server
            that should cost nothing but ``delay``.
    """

    def __init__(
        self,
        *,
        responder: AudioResponder | None = None,
        models: tuple[str, ...] | None = None,
        delay: float = 0.0,
        decode: bool = True,
    ):
        self.responder = responder or voiced_segments
        self.models = models
        self.delay = delay
        self.decode = decode
        self._lock = threading.Lock()
        self._uploads: list[AudioUpload] = []
        self._faults: collections.deque[tuple[str, str | None]] = collections.deque()
        self._selector: Callable[[AudioUpload], str | None] | None = None
        self._active = 0
        self.max_active = 0

    @property
    def uploads(self) -> list[AudioUpload]:
        """Every upload that passed validation, in arrival order (a copy)."""
        with self._lock:
            return list(self._uploads)

    def enqueue_fault(self, kind: str, *, times: int = 1, message: str | None = None) -> None:
        """Queue a fault for the next upload(s), FIFO."""
        if kind not in AUDIO_FAULTS:
            raise ValueError(f"unknown fault {kind!r}; choose from {sorted(AUDIO_FAULTS)}")
        with self._lock:
            self._faults.extend([(kind, message)] * times)

    def fail_when(self, selector: Callable[[AudioUpload], str | None]) -> None:
        """Choose a fault per upload (after it is parsed): ``selector(upload) -> kind or None``."""
        self._selector = selector

    # ---- the route

    def handle(self, handler: RequestHandler, rec: dict) -> None:
        raw = handler.read_body(rec)
        with self._lock:
            queued = self._faults.popleft() if self._faults else None
        if queued is not None:
            self._fault(handler, rec, *queued)
        handler.check_auth()
        form, files = _parse_form(handler.headers.get("content-type") or "", raw)
        rec["body"] = {**form, **{name: {"filename": f, "bytes": len(d)} for name, (f, d) in files.items()}}
        upload = self._validate(form, files)
        if self._selector is not None:
            chosen = self._selector(upload)
            if chosen:
                self._fault(handler, rec, chosen, None)
        with self._lock:
            self._uploads.append(upload)
            self._active += 1
            self.max_active = max(self.max_active, self._active)
        try:
            if self.delay:
                time.sleep(self.delay)
            self._answer(handler, rec, upload)
        finally:
            with self._lock:
                self._active -= 1

    def _fault(self, handler: RequestHandler, rec: dict, kind: str, message: str | None) -> None:
        if kind == "pass":
            return
        if kind == "slow":
            time.sleep(1.0)
            return
        if kind == "disconnect":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("disconnect fault")
        if kind == "malformed":
            handler.send_bytes(rec, 200, b'{"text": "cut', "application/json")
            raise _Done
        if kind == "html":
            page = f"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>{message or ''}</body></html>"
            handler.send_bytes(rec, 200, page.encode(), "text/html; charset=utf-8")
            raise _Done
        if kind == "text":
            handler.send_json(rec, 200, {"text": message or ""})
            raise _Done
        replies = {
            "400": ErrorReply(400, message or "Audio file might be corrupted or unsupported", param="file", code="invalid_value"),
            "401": ErrorReply(401, message or "Incorrect API key provided: sk-****.", code="invalid_api_key"),
            "404": ErrorReply(404, message or "The model `x` does not exist or you do not have access to it.", code="model_not_found"),
            "429": ErrorReply(429, message or "Rate limit reached for requests.", type="requests", code="rate_limit_exceeded"),
            "500": ErrorReply(500, message or "The server had an error while processing your request.", type="server_error"),
            "503": ErrorReply(503, message or "The engine is currently overloaded, please try again later.", type="server_error"),
        }
        raise replies[kind]

    def _validate(self, form: dict[str, str], files: dict[str, tuple[str, bytes]]) -> AudioUpload:
        model = form.get("model")
        if not model:
            raise ErrorReply(400, "you must provide a model parameter", param="model", code="missing_required_parameter")
        if "file" not in files:
            raise ErrorReply(400, "Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
        filename, data = files["file"]
        if len(data) > MAX_AUDIO_BYTES:
            raise ErrorReply(
                413, f"Maximum content size limit ({MAX_AUDIO_BYTES}) exceeded ({len(data)} bytes read)", code="request_too_large"
            )
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if extension not in AUDIO_EXTENSIONS:
            raise ErrorReply(400, f"Invalid file format. Supported formats: {sorted(AUDIO_EXTENSIONS)}", param="file", code="invalid_value")
        if self.models is not None and model not in self.models:
            raise ErrorReply(404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found")
        fmt = form.get("response_format", "json")
        if fmt not in AUDIO_RESPONSE_FORMATS:
            raise ErrorReply(400, f"Invalid value: '{fmt}'. Supported values are: {list(AUDIO_RESPONSE_FORMATS)}.", param="response_format", code="invalid_value")
        if model.startswith(TEXT_ONLY_MODELS) and "diarize" not in model and fmt not in ("json", "text"):
            raise ErrorReply(400, f"response_format '{fmt}' is not compatible with model '{model}'. Use 'json' or 'text'.", param="response_format", code="unsupported_value")
        if "diarize" in model and fmt not in DIARIZE_FORMATS:
            raise ErrorReply(400, f"response_format '{fmt}' is not compatible with model '{model}'.", param="response_format", code="unsupported_value")
        for listed in ("keywords[]", "languages[]"):  # "Supported by gpt-transcribe" (the OpenAPI spec)
            if listed in form and not model.startswith(HINT_LIST_MODELS):
                raise ErrorReply(400, f"'{listed[:-2]}' is not supported with model '{model}'.", param=listed[:-2],
                                 code="unsupported_parameter")
        if "prompt" in form and "diarize" in model:
            raise ErrorReply(400, f"'prompt' is not supported with model '{model}'.", param="prompt",
                             code="unsupported_parameter")
        granularities = tuple(g for g in form.get("timestamp_granularities[]", "").split(",") if g)
        if granularities and fmt != "verbose_json":
            raise ErrorReply(400, "timestamp_granularities is only supported with response_format 'verbose_json'.", param="timestamp_granularities", code="invalid_value")
        if any(g not in ("word", "segment") for g in granularities):
            raise ErrorReply(400, f"Invalid timestamp_granularities {list(granularities)}.", param="timestamp_granularities", code="invalid_value")
        return AudioUpload(
            model=model,
            filename=filename,
            size=len(data),
            response_format=fmt,
            language=form.get("language"),
            prompt=form.get("prompt"),
            timestamp_granularities=granularities,
            fields=dict(form),
            samples=_decode(data) if self.decode else np.zeros(0, np.float32),
        )

    def _answer(self, handler: RequestHandler, rec: dict, upload: AudioUpload) -> None:
        segments = self.responder(upload)
        text = " ".join(s["text"].strip() for s in segments)
        usage = {"type": "duration", "seconds": math.ceil(upload.duration)}
        fmt = upload.response_format
        if fmt == "text":
            handler.send_bytes(rec, 200, text.encode(), "text/plain; charset=utf-8")
        elif fmt in ("srt", "vtt"):
            handler.send_bytes(rec, 200, _subtitles(segments, fmt).encode(), "text/plain; charset=utf-8")
        elif fmt == "verbose_json":
            body = {
                "task": "transcribe",
                "language": "english",
                "duration": upload.duration,
                "text": text,
                "segments": [
                    {"id": i, "seek": 0, "start": s["start"], "end": s["end"], "text": " " + s["text"], "tokens": [],
                     "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2, "no_speech_prob": 0.01}
                    for i, s in enumerate(segments)
                ],
                "usage": usage,
            }
            handler.send_json(rec, 200, body)
        elif fmt == "diarized_json":
            body = {
                "task": "transcribe",
                "duration": upload.duration,
                "text": text,
                "segments": [
                    {"type": "transcript.text.segment", "id": f"seg_{i}", "start": s["start"], "end": s["end"],
                     "text": s["text"], "speaker": s.get("speaker") or "AB"[i % 2]}
                    for i, s in enumerate(segments)
                ],
                "usage": usage,
            }
            handler.send_json(rec, 200, body)
        else:
            handler.send_json(rec, 200, {"text": text, "usage": usage})


class _Done(Exception):
    """The answer was sent by a fault."""


def install_audio(server: FakeOpenAIServer, **options: Any) -> AudioEndpoint:
    """Add ``POST /v1/audio/transcriptions`` to a running or not yet started server.

    Args:
        server: the loopback server.
        **options: ``AudioEndpoint`` options (responder, models, delay).

    Returns:
        The endpoint (uploads, faults, max_active).
    """
    endpoint = AudioEndpoint(**options)

    def route(handler: RequestHandler, rec: dict) -> None:
        try:
            endpoint.handle(handler, rec)
        except _Done:
            pass

    server.add_route("POST", AUDIO_PATH, route)
    return endpoint


def _parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """(text fields, files as (filename, bytes)) of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ErrorReply(400, f"Invalid Content-Type header ({content_type or 'none'}), expected multipart/form-data.")
    message = BytesParser(policy=HTTP).parsebytes(
        b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ErrorReply(400, "Could not parse multipart form")
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields.setdefault(name, []).append(payload.decode("utf-8"))
    return {name: ",".join(values) for name, values in fields.items()}, files


def _decode(data: bytes) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts = []
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise ErrorReply(400, "Audio file might be corrupted or unsupported", param="file", code="invalid_value")
            for frame in container.decode(audio=0):
                parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except av.error.FFmpegError:
        raise ErrorReply(400, "Audio file might be corrupted or unsupported", param="file", code="invalid_value") from None
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def _subtitles(segments: list[dict], fmt: str) -> str:
    import pysubs2

    subs = pysubs2.SSAFile()
    for s in segments:
        subs.append(pysubs2.SSAEvent(start=round(s["start"] * 1000), end=round(s["end"] * 1000), text=s["text"]))
    return subs.to_string(fmt)

