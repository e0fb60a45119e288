"""Cookbook step 1: extract frames — with exact timestamps, one per scene plus fill.

The cookbook decodes and JPEG-encodes every frame, then keeps every 50th. Here only the frames
kept are converted, each with its presentation timestamp.
"""

from _common import parser

import videovision as vv

args = parser(__doc__).parse_args()
with vv.open_video(args.video) as video:
    info = video.info
    print(f"{info.path}: {info.duration:.1f} s, {info.width}x{info.height}, {info.fps:.2f} fps, rotation {info.rotation}")
    stream = vv.sample(video, vv.SamplingConfig(strategy="hybrid", max_gap=5.0))
    for frame in stream:
        print(f"  {frame.time:7.3f} s  frame {frame.index:5d}  scene {frame.scene}  {frame.width}x{frame.height}")
    print(f"{len(stream.scenes)} scenes")
