"""Reused colour converters (issue 24): every conversion gives the pixels of a fresh one.

``VideoSource`` keeps one libswscale converter per call site instead of PyAV's fresh one per
``frame.reformat()`` / ``frame.to_ndarray(format=...)``. These tests compare each site, frame by
frame, with the fresh conversion it replaces, on clips with rotation, SAR and VFR, with sizes
alternating between calls (a reused converter must set itself up again), and on frames tagged
full range / BT.709 and 10-bit.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from videovision import open_video
from videovision.source import VideoSource


def planes(frame: av.VideoFrame) -> list[bytes]:
    """The visible bytes of every plane of an 8-bit planar frame (line padding cut off)."""
    return [np.frombuffer(p, dtype=np.uint8).reshape(-1, p.line_size)[: p.height, : p.width].tobytes()
            for p in frame.planes]


def fresh_image(source: VideoSource, frame: av.VideoFrame, max_side: int | None, sar: Fraction) -> np.ndarray:
    """``VideoSource.to_image`` as it was: a fresh converter per call."""
    rotation = source._frame_rotation(frame)
    w, h = source._conversion_size(frame, rotation, max_side, sar)
    if (w, h) == (frame.width, frame.height):
        image = frame.to_ndarray(format="rgb24")
    else:
        image = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA").to_ndarray()
    return np.ascontiguousarray(np.rot90(image, k=-rotation // 90)) if rotation else image


def fresh_small(frame: av.VideoFrame, width: int) -> np.ndarray:
    height = max(2, round(frame.height * width / max(1, frame.width)))
    return frame.reformat(width=width, height=height, format="bgr24", interpolation="FAST_BILINEAR").to_ndarray()


def decoded(path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return list(container.decode(stream))


GEOMETRIES = {
    "plain": {"size": (320, 180)},
    "rotated_sar_vfr": {"size": (320, 176), "rotation": -90, "sar": (16, 11), "vfr_pattern": "phone"},
    "rotated180_sar": {"size": (256, 144), "rotation": 180, "sar": (4, 3)},
}


@pytest.mark.parametrize("name", sorted(GEOMETRIES))
def test_reused_converters_give_the_pixels_of_fresh_ones(clips, name):
    path, _ = clips(f"conv_{name}", duration=1.2, cuts=[0.6], detail=0.6, **GEOMETRIES[name])
    reference = {int(f.pts): f for f in decoded(path)}
    with open_video(path) as source:
        sar = source.sample_aspect_ratio
        count = 0
        for i, raw in enumerate(source.iter_raw(max_side=144)):
            original = reference[int(raw.frame.pts)]
            rotation = source._frame_rotation(original)
            w, h = source._conversion_size(original, rotation, 144, sar)
            if raw.display_ready:  # shrunk at decode time, as a fresh reformat would have
                expected = original.reformat(width=w, height=h, interpolation="AREA")
                assert planes(raw.frame) == planes(expected)
                frame_sar = Fraction(1)
            else:
                frame_sar = sar
            # the packer's picture, at sizes alternating from frame to frame
            for side in (144, 96 if i % 2 else 120):
                assert np.array_equal(source.to_image(raw, side), fresh_image(source, raw.frame, side, frame_sar))
            # the detectors' pictures: the scaler path of small_bgr and PySceneDetect's full frame
            width = raw.frame.width * 2 // 3
            assert np.array_equal(source.small_bgr(raw.frame, width), fresh_small(raw.frame, width))
            assert np.array_equal(source.bgr(raw.frame), raw.frame.to_ndarray(format="bgr24"))
            assert np.array_equal(source.bgr(original), original.to_ndarray(format="bgr24"))
            count += 1
        assert count == len(reference)
        # exact frames (interval sampling, refinement), full size and shrunk
        times = [float(t) for t in source.frame_times[::7]]
        for side in (None, 100):
            for frame in source.frames_at(times, max_side=side):
                original = reference[int(source.frame_pts[frame.index])]
                assert np.array_equal(frame.image, fresh_image(source, original, side, sar))


def test_tagged_and_high_bit_depth_frames_convert_as_before(clips):
    path, _ = clips("conv_tags", duration=0.2, cuts=[], size=(160, 90))
    rng = np.random.default_rng(3)
    with open_video(path) as source:
        frames = []
        for fmt, space, colour_range in (("yuv420p", "ITU709", "JPEG"), ("yuvj420p", None, "JPEG"),
                                         ("yuv420p", "ITU601", "MPEG"), ("yuv420p10le", "ITU709", "MPEG"),
                                         ("yuv444p", None, None)):
            base = av.VideoFrame.from_ndarray(rng.integers(0, 256, (90, 160, 3), dtype=np.uint8), format="rgb24")
            frame = base.reformat(format=fmt, dst_colorspace=space, dst_color_range=colour_range)
            frames.append(frame)
        for frame in frames * 2:  # formats alternating: each converter sets itself up again
            sar = source.sample_aspect_ratio
            for side in (None, 100):
                assert np.array_equal(source.to_image(frame, side), fresh_image(source, frame, side, sar))
            assert np.array_equal(source.small_bgr(frame, 100), fresh_small(frame, 100))
            assert np.array_equal(source.bgr(frame), frame.to_ndarray(format="bgr24"))
