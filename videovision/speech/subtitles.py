"""Speech from subtitles: tracks inside the file, sidecar files next to it, or a file given.

    read_subtitles(video)            embedded text track (by language, else default, else first),
                                     else a sidecar (talk.srt, talk.vtt, talk.en.srt ...), else None
    read_embedded_subtitles(video)   the embedded track only (SubRip, mov_text, WebVTT, ASS/SSA)
    find_sidecar(video)              the best sidecar file, or None
    read_speech_file(file, video=)   SRT, WebVTT, ASS/SSA, or a videovision transcript JSON

Embedded tracks are decoded with PyAV: FFmpeg turns every text subtitle codec into ASS dialogue
lines, and pysubs2 parses those lines (and subtitle files) and strips the styling; no format is
parsed by hand here. Speakers come from the ASS ``Name`` field and from WebVTT voice spans
(``<v Alice>``, which pysubs2 and FFmpeg both drop from the text). Times are moved onto the video
timeline (seconds from the first video frame): an embedded cue at container time T lands at
``T - origin``; a subtitle file's times count from the container's start, as players show them.
See docs/speech.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import pysubs2

from ..errors import ConfigError, VideoOpenError
from ..media import known_stream_types, open_input
from .timeline import container_start, timeline_origin
from .transcript import Segment, SpeechSource, Transcript, place_on_timeline

__all__ = [
    "SUBTITLE_FILE_EXTENSIONS",
    "TEXT_SUBTITLE_CODECS",
    "SubtitleTrack",
    "find_sidecar",
    "list_subtitle_tracks",
    "pick_track",
    "read_embedded_subtitles",
    "read_speech_file",
    "read_subtitles",
    "same_language",
]

log = logging.getLogger("videovision.speech")

TEXT_SUBTITLE_CODECS = frozenset({"subrip", "mov_text", "webvtt", "ass", "ssa", "text"})
"""Embedded subtitle codecs known to carry text; any codec FFmpeg flags as a text subtitle is read
too (bitmap tracks such as PGS or DVD subtitles are skipped)."""
SUBTITLE_FILE_EXTENSIONS = (".srt", ".vtt", ".ass", ".ssa")
"""Sidecar extensions, in order of preference."""
TRANSCRIPT_FILE_EXTENSION = ".json"
DEFAULT_CUE_SECONDS = 5.0
"""A cue without a duration lasts until the next cue, at most this long."""
FALLBACK_ENCODING = "cp1252"
"""Subtitle files that are not UTF-8 are read in this encoding (the usual legacy one for SRT)."""

# FFmpeg's decoded ASS packets are "ReadOrder, Layer, Style, Name, MarginL, MarginR, MarginV,
# Effect, Text" (libavcodec/ass.h); pysubs2 reads the standard [Events] layout below.
_ASS_EVENTS_HEADER = (
    "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)
_ASS_ZERO_TIMES = "0:00:00.00,0:00:00.00"

# ISO 639-1 -> ISO 639-2 (bibliographic and terminological) for the common languages, so that
# "en", "eng" and "en-US" name the same track.
_ISO639: dict[str, tuple[str, ...]] = {
    "ar": ("ara",), "cs": ("cze", "ces"), "da": ("dan",), "de": ("ger", "deu"), "el": ("gre", "ell"),
    "en": ("eng",), "es": ("spa",), "fa": ("per", "fas"), "fi": ("fin",), "fr": ("fre", "fra"),
    "he": ("heb",), "hi": ("hin",), "hu": ("hun",), "id": ("ind",), "it": ("ita",), "ja": ("jpn",),
    "ko": ("kor",), "nl": ("dut", "nld"), "no": ("nor",), "nb": ("nob",), "pl": ("pol",), "pt": ("por",),
    "ro": ("rum", "ron"), "ru": ("rus",), "sv": ("swe",), "th": ("tha",), "tr": ("tur",), "uk": ("ukr",),
    "vi": ("vie",), "zh": ("chi", "zho"),
}
_TO_ISO639_1 = {three: two for two, threes in _ISO639.items() for three in threes}
_UNDETERMINED = frozenset({"und", "unk", "mis", "mul", "zxx", ""})


# --------------------------------------------------------------------------- languages


def _language_key(code: str | None) -> str | None:
    """``"en-US"``, ``"eng"``, ``"EN"`` -> ``"en"``; undetermined -> None."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    if primary in _UNDETERMINED:
        return None
    return _TO_ISO639_1.get(primary, primary)


def same_language(a: str | None, b: str | None) -> bool:
    """True when two language codes (ISO 639-1/2, BCP 47) name the same language."""
    key = _language_key(a)
    return key is not None and key == _language_key(b)


# --------------------------------------------------------------------------- embedded tracks


@dataclass(frozen=True)
class SubtitleTrack:
    """A text subtitle stream inside a media file.

    Attributes:
        index: the stream's index in the container.
        codec: FFmpeg's codec name (``subrip``, ``mov_text``, ``webvtt``, ``ass`` ...).
        language: the stream's language tag, if any.
        default: the stream carries the ``default`` disposition.
        title: the stream's title, if any.
    """

    index: int
    codec: str
    language: str | None
    default: bool
    title: str | None = None

    def describe(self) -> str:
        """``"stream #2 mov_text (eng)"``."""
        return f"stream #{self.index} {self.codec}" + (f" ({self.language})" if self.language else "")


def _tracks(container: av.container.InputContainer) -> tuple[SubtitleTrack, ...]:
    tracks = []
    for stream in container.streams.subtitles:
        decoder = stream.codec_context.codec if stream.codec_context is not None else None
        if decoder is None:
            continue
        codec = decoder.canonical_name  # "subrip", where the decoder's own name is "srt"
        if codec not in TEXT_SUBTITLE_CODECS and not decoder.text_sub:
            continue
        metadata = dict(stream.metadata or {})
        language = metadata.get("language")
        tracks.append(
            SubtitleTrack(
                index=stream.index,
                codec=codec,
                language=None if _language_key(language) is None else language,
                default=bool(stream.disposition & av.stream.Disposition.default),
                title=metadata.get("title") or None,
            )
        )
    return tuple(tracks)


def list_subtitle_tracks(path: str | os.PathLike[str]) -> tuple[SubtitleTrack, ...]:
    """The text subtitle tracks inside a media file, in stream order.

    Args:
        path: the media file.

    Returns:
        The tracks (empty when there are none).

    Raises:
        VideoOpenError: the file cannot be opened.
    """
    with open_input(path) as container:
        return _tracks(container)


def pick_track(tracks: Sequence[SubtitleTrack], language: str | None = None) -> SubtitleTrack | None:
    """The track to use: the first in ``language`` if given and present, else the default track,
    else the first.

    Args:
        tracks: candidate tracks.
        language: preferred language (``"en"``, ``"eng"``, ``"en-US"`` ...).

    Returns:
        The track, or None when there is none.
    """
    if not tracks:
        return None
    if language is not None:
        for track in tracks:
            if same_language(track.language, language):
                return track
        log.info("no subtitle track in language %r; using the default or first track", language)
    return next((t for t in tracks if t.default), tracks[0])


def read_embedded_subtitles(
    path: str | os.PathLike[str],
    *,
    language: str | None = None,
    track: int | None = None,
    origin: float | None = None,
) -> Transcript | None:
    """Speech from a subtitle track inside the file.

    Args:
        path: the media file.
        language: preferred track language (see ``pick_track``).
        track: a stream index to use instead of picking.
        origin: container time (seconds) of the first video frame, e.g. ``VideoInfo.start_time``;
            read from the file when None.

    Returns:
        The transcript (``source="subtitles"``), or None when the file has no text subtitle track.

    Raises:
        VideoOpenError: the file cannot be opened or its subtitle packets cannot be read.
        ConfigError: ``track`` is not a text subtitle stream of the file.
    """
    if track is None and (known := known_stream_types(path)) is not None and "subtitle" not in known:
        return None  # opened before in this process: no subtitle stream
    with open_input(path) as container:
        tracks = _tracks(container)
        if track is not None:
            chosen = next((t for t in tracks if t.index == track), None)
            if chosen is None:
                raise ConfigError(
                    f"stream {track} of {Path(path).name} is not a text subtitle track "
                    f"(text tracks: {', '.join(str(t.index) for t in tracks) or 'none'})"
                )
        else:
            chosen = pick_track(tracks, language)
        if chosen is None:
            return None
        zero = timeline_origin(container) if origin is None else origin
        stream = container.streams[chosen.index]
        try:
            segments = _decode_track(container, stream, -zero)
        except av.error.FFmpegError as err:
            raise VideoOpenError(f"{Path(path).name}: the subtitle {chosen.describe()} cannot be read ({err})") from err
    return Transcript(
        segments=tuple(segments), source="subtitles", language=chosen.language, track=chosen.describe()
    )


def _decode_track(container: av.container.InputContainer, stream: av.stream.Stream, shift: float) -> list[Segment]:
    """Every cue of one text subtitle stream, on the video timeline."""
    cues: list[tuple[float, float | None, str, bytes]] = []
    for packet in container.demux(stream):
        if packet.pts is None or packet.size == 0 or packet.time_base is None:
            continue
        start = float(packet.pts * packet.time_base)
        end = start + float(packet.duration * packet.time_base) if packet.duration else None
        payload = bytes(packet)
        try:
            decoded = packet.decode()
        except av.error.FFmpegError as err:
            log.warning("skipped an undecodable subtitle packet at %.3f s (%s)", start, err)
            continue
        for subtitle in decoded:
            line = getattr(subtitle, "ass", b"")
            if line:
                cues.append((start, end, bytes(line).decode("utf-8", "replace"), payload))
    events = _ass_events([line for _, _, line, _ in cues])
    segments = []
    voices = stream.codec_context.codec.canonical_name == "webvtt"
    for i, ((start, end, _, payload), event) in enumerate(zip(cues, events)):
        if end is None:
            following = cues[i + 1][0] if i + 1 < len(cues) else start + DEFAULT_CUE_SECONDS
            end = min(max(following, start), start + DEFAULT_CUE_SECONDS)
        speaker = event.name or (_webvtt_voice(payload.decode("utf-8", "replace")) if voices else None)
        segment = place_on_timeline(start, end, event.plaintext, shift=shift, speaker=speaker)
        if segment is not None:
            segments.append(segment)
    return segments


def _ass_events(lines: Sequence[str]) -> list[pysubs2.SSAEvent]:
    """Parse FFmpeg's decoded ASS packet lines with pysubs2 (one event per line, in order)."""
    dialogue = []
    for line in lines:
        fields = line.replace("\r", "").replace("\n", "\\N").split(",", 2)  # ReadOrder, Layer, the rest
        layer, rest = (fields[1], fields[2]) if len(fields) == 3 else ("0", line)
        dialogue.append(f"Dialogue: {layer},{_ASS_ZERO_TIMES},{rest}")
    if not dialogue:
        return []
    events = list(pysubs2.SSAFile.from_string(_ASS_EVENTS_HEADER + "\n".join(dialogue) + "\n", format_="ass"))
    if len(events) != len(dialogue):  # never expected: keep times and texts aligned regardless
        raise av.error.InvalidDataError(0, f"{len(dialogue)} subtitle lines parsed into {len(events)} events")
    return events


def _webvtt_voice(cue_text: str) -> str | None:
    """The annotation of a WebVTT voice span opening a cue (``<v.loud Bob>Hi`` -> ``Bob``), if any.

    WebVTT: a voice span is ``<v`` + optional ``.class`` list + whitespace + annotation + ``>``.
    """
    text = cue_text.lstrip()
    close = text.find(">")
    if not text.startswith("<v") or close < 0:
        return None
    tag = text[2:close]
    if tag and not (tag[0].isspace() or tag[0] == "."):
        return None  # another tag that starts with v
    parts = tag.split(None, 1)
    if tag.startswith("."):
        return parts[1].strip() if len(parts) > 1 else None
    return tag.strip() or None


# --------------------------------------------------------------------------- files


def _sidecar_language(video: Path, candidate: Path) -> tuple[str, ...]:
    """The dotted tags between the video's stem and the extension (``talk.en.forced.srt`` -> en, forced;
    the video's own extension, as in ``talk.mp4.srt``, is no tag)."""
    middle = candidate.name[len(video.stem) : -len(candidate.suffix)]
    own = video.suffix.lower().lstrip(".")
    return tuple(tag for tag in middle.split(".") if tag and tag.lower() != own)


def _known_language(tag: str) -> bool:
    """A tag that names a language in the table (``en``, ``eng``, ``en-US``), not ``forced`` or ``sdh``."""
    key = _language_key(tag)
    return key is not None and key in _ISO639


def find_sidecar(video: str | os.PathLike[str], *, language: str | None = None) -> Path | None:
    """The subtitle file next to a video with the same stem (``talk.srt``, ``talk.vtt``, ``talk.en.srt``).

    Preference: a file tagged with ``language`` (when given), then an untagged file, then any
    other tagged file; within each, by extension (.srt, .vtt, .ass, .ssa), then by name.

    Args:
        video: the video's path.
        language: preferred language.

    Returns:
        The file, or None when there is none.
    """
    path = Path(video)
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return None
    ranked = []
    for entry in entries:
        suffix = entry.suffix.lower()
        if suffix not in SUBTITLE_FILE_EXTENSIONS or entry == path or not entry.is_file():
            continue
        if entry.stem != path.stem and not entry.name.startswith(path.stem + "."):
            continue
        tags = _sidecar_language(path, entry)
        if language is not None and any(same_language(tag, language) for tag in tags):
            rank = 0
        elif not tags:
            rank = 1
        else:
            rank = 2
        ranked.append((rank, SUBTITLE_FILE_EXTENSIONS.index(suffix), entry.name, entry))
    return min(ranked)[3] if ranked else None


def _load_subs(path: Path, *, keep_unknown_html_tags: bool = False) -> pysubs2.SSAFile:
    try:
        return pysubs2.load(str(path), encoding="utf-8-sig", keep_unknown_html_tags=keep_unknown_html_tags)
    except UnicodeDecodeError:
        return pysubs2.load(
            str(path), encoding=FALLBACK_ENCODING, errors="replace", keep_unknown_html_tags=keep_unknown_html_tags
        )


def read_speech_file(
    path: str | os.PathLike[str],
    *,
    video: str | os.PathLike[str] | None = None,
    source: SpeechSource = "sidecar",
) -> Transcript:
    """Speech from a file: SRT, WebVTT, ASS/SSA (any format pysubs2 reads), or a videovision
    transcript JSON (kept as it is, times already on the video timeline).

    Args:
        path: the file.
        video: the video it belongs to: subtitle times (counted from the container's start, as
            players show them) are moved to seconds from its first frame. None: no shift.
        source: the transcript's source for subtitle files.

    Returns:
        The transcript.

    Raises:
        ConfigError: the file is missing, or neither a subtitle file nor a transcript.
        VideoOpenError: ``video`` cannot be opened.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"speech file {file}: no such file")
    try:
        head = file.read_bytes()[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as err:
        raise ConfigError(f"speech file {file}: cannot be read ({err.strerror or err})") from err
    if file.suffix.lower() == TRANSCRIPT_FILE_EXTENSION or head.startswith(b"{"):
        try:
            return Transcript.loads(file.read_bytes())
        except ConfigError as err:
            raise ConfigError(f"speech file {file.name}: {err}") from err
    tags = _sidecar_language(Path(video), file) if video is not None and file.name.startswith(Path(video).stem + ".") else ()
    language = next((t for t in tags if _known_language(t)), None)
    if not head:  # an empty file: no speech
        return Transcript(segments=(), source=source, language=language, track=file.name)
    shift = _file_shift(video) if video is not None else 0.0
    try:
        subs = _load_subs(file)
    except (pysubs2.exceptions.Pysubs2Error, ValueError) as err:
        raise ConfigError(
            f"speech file {file.name} is not a subtitle file pysubs2 can read ({type(err).__name__}): "
            "use SRT, WebVTT, ASS/SSA, or a videovision transcript JSON"
        ) from err
    speakers = _vtt_voices(file, len(subs)) if subs.format == "vtt" else None
    segments = []
    for i, event in enumerate(subs):
        if event.is_comment or event.is_drawing:
            continue
        speaker = event.name or (speakers[i] if speakers else None)
        segment = place_on_timeline(event.start / 1000, event.end / 1000, event.plaintext, shift=shift, speaker=speaker)
        if segment is not None:
            segments.append(segment)
    return Transcript(segments=tuple(segments), source=source, language=language, track=file.name)


def _vtt_voices(file: Path, count: int) -> list[str | None] | None:
    """Each cue's WebVTT voice (pysubs2 drops voice spans: read again keeping unknown tags)."""
    raw = _load_subs(file, keep_unknown_html_tags=True)
    if len(raw) != count:
        return None
    return [_webvtt_voice(event.text) for event in raw]


def _file_shift(video: str | os.PathLike[str]) -> float:
    """Seconds to add to a subtitle file's times: container start minus the first frame's time."""
    with open_input(video) as container:
        return container_start(container) - timeline_origin(container)


def read_subtitles(
    video: str | os.PathLike[str],
    *,
    language: str | None = None,
    origin: float | None = None,
) -> Transcript | None:
    """Subtitles for a video: an embedded text track if there is one, else a sidecar file.

    Args:
        video: the video.
        language: preferred language (track language tag or sidecar name tag).
        origin: container time of the first video frame (``VideoInfo.start_time``); read when None.

    Returns:
        The transcript (``source`` "subtitles" or "sidecar"), or None when there are neither.

    Raises:
        VideoOpenError: the video cannot be opened.
        ConfigError: the sidecar file cannot be parsed.
    """
    embedded = read_embedded_subtitles(video, language=language, origin=origin)
    if embedded is not None and embedded.segments:
        return embedded
    sidecar = find_sidecar(video, language=language)
    if sidecar is not None:
        return read_speech_file(sidecar, video=video)
    return embedded

