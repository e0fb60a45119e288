"""hear: timed speech for a video, from subtitles or from its audio (docs/speech.md).

    video ──read_subtitles──────▶ Transcript(source="subtitles" | "sidecar")   embedded track, else talk.srt ...
          ──read_speech_file────▶ Transcript                                    an SRT / WebVTT / transcript JSON given
          ──transcribe_media────▶ TranscriptionResult(Transcript(source="transcription"), failures)
                                   (iter_audio_chunks: mono 16 kHz MP3/Opus chunks cut in quiet stretches,
                                    Transcriber: POST /v1/audio/transcriptions, chunks concurrently)
    frames + Transcript ──speech_by_frame / fit_speech──▶ lines next to the frames, within a token budget
    plan / dry-run ──estimate_speech──▶ SpeechEstimate(tokens, requests, cost)

Every time is seconds from the video's first frame. Nothing here prints; logging goes to
``logging.getLogger("videovision.speech")``.
"""

from .audio import (
    DEFAULT_AUDIO_FORMAT,
    DEFAULT_CHUNK_SECONDS,
    MAX_UPLOAD_BYTES,
    AudioChunk,
    AudioFormat,
    AudioInfo,
    audio_digest,
    iter_audio_chunks,
    probe_audio,
)
from .estimate import SpeechEstimate, estimate_speech
from .fusion import FrameSpeech, SpeechBudget, SpeechLine, fit_speech, render_line, segments_between, speech_by_frame
from .keys import chunk_cache_key, dump_segments, load_segments, transcript_cache_key
from .subtitles import (
    SubtitleTrack,
    find_sidecar,
    list_subtitle_tracks,
    read_embedded_subtitles,
    read_speech_file,
    read_subtitles,
)
from .transcribe import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TRANSCRIBE_MODEL,
    ChunkFailure,
    ResponseFormat,
    SegmentStore,
    TranscribeOptions,
    Transcriber,
    TranscriptionResult,
    transcribe_media,
)
from .transcript import SCHEMA_VERSION, Segment, SpeechSource, Transcript

__all__ = [
    "DEFAULT_AUDIO_FORMAT",
    "DEFAULT_CHUNK_SECONDS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TRANSCRIBE_MODEL",
    "MAX_UPLOAD_BYTES",
    "SCHEMA_VERSION",
    "AudioChunk",
    "AudioFormat",
    "AudioInfo",
    "ChunkFailure",
    "FrameSpeech",
    "ResponseFormat",
    "Segment",
    "SegmentStore",
    "SpeechBudget",
    "SpeechEstimate",
    "SpeechLine",
    "SpeechSource",
    "SubtitleTrack",
    "TranscribeOptions",
    "Transcriber",
    "Transcript",
    "TranscriptionResult",
    "audio_digest",
    "chunk_cache_key",
    "dump_segments",
    "estimate_speech",
    "find_sidecar",
    "fit_speech",
    "iter_audio_chunks",
    "list_subtitle_tracks",
    "load_segments",
    "probe_audio",
    "read_embedded_subtitles",
    "read_speech_file",
    "read_subtitles",
    "render_line",
    "segments_between",
    "speech_by_frame",
    "transcribe_media",
    "transcript_cache_key",
]
