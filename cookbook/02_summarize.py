"""Cookbook step 2: describe the video — one request, frames labelled with their times."""

from _common import client, parser, task_config

import videovision as vv
from videovision.render import plan_table, summary_text

p = parser(__doc__)
p.add_argument("--style", choices=["brief", "detailed", "bullet"], default="brief")
args = p.parse_args()
plan = vv.make_plan(args.video, task_config(args, vv.PromptOptions(task="summarize", style=args.style)))
if args.dry_run:
    print(plan_table(plan))
else:
    result = vv.run_plan(plan, client(args), cache=vv.open_cache())
    print(summary_text(result.summary))
    print(f"{result.usage.prompt_tokens} prompt tokens (plan said {plan.image_tokens + plan.text_tokens})")
