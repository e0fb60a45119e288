"""Ask questions; every moment the model cites is checked against the frames it was shown."""

from _common import client, parser, task_config

import videovision as vv
from videovision.render import answers_text, plan_table

p = parser(__doc__)
p.add_argument("questions", nargs="*", default=["When does the picture change colour?", "What is shown at the end?"])
args = p.parse_args()
plan = vv.make_plan(args.video, task_config(args, vv.PromptOptions(task="ask", questions=tuple(args.questions))))
if args.dry_run:
    print(plan_table(plan))
else:
    result = vv.run_plan(plan, client(args), cache=vv.open_cache())
    print(answers_text(result.answers))
