"""Chapters, snapped to scene cuts, exported for YouTube and as WebVTT."""

from _common import client, parser, task_config

import videovision as vv
from videovision.render import plan_table, webvtt_chapters, youtube_chapters

args = parser(__doc__).parse_args()
plan = vv.make_plan(args.video, task_config(args, vv.PromptOptions(task="chapters")))
if args.dry_run:
    print(plan_table(plan))
else:
    result = vv.run_plan(plan, client(args), cache=vv.open_cache())
    print(youtube_chapters(result.chapters))
    print(webvtt_chapters(result.chapters))
