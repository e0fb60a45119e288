"""Prompt-cache benchmark (issue 11): input tokens a 5-turn chat and a second ``ask`` re-use.

    python bench/bench_chat.py [VIDEO] [--turns 5] [--model gpt-4o-mini]

Against the loopback server, which bills prompt caching as OpenAI documents it (a prefix of
1,024+ tokens sent before is reported as ``cached_tokens``, in steps of 128; tests/fakeserver.py).
Measured in this run, same frames, same questions:

  baseline   the wave-1 layout: the question before the frames (each turn a fresh request)
  chat       ``Conversation``: frames first, follow-ups appended
  ask        two ``ask`` runs with different questions (frames first, question last)

It prints, per turn, the prompt and cached tokens, and the input cost at the model's list and
cached prices. What a real provider caches also depends on its cache's lifetime (minutes);
the layout is what this measures: how much of each request *can* be served from a cache.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

QUESTIONS = ("What is this video about?", "Who speaks first?", "What is on the second slide?",
             "When does the speaker change?", "How does it end?")


def main() -> int:
    from fakeserver import FakeOpenAIServer

    from videovision import ClientConfig, OpenAIChatClient, PackConfig, TaskConfig, make_plan
    from videovision.chat import Conversation
    from videovision.models import estimate_cost
    from videovision.prompts import PromptOptions
    from videovision.types import Usage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", default=str(ROOT / "samples" / "talk.mp4"))
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args()
    questions = (QUESTIONS * (1 + args.turns // len(QUESTIONS)))[: args.turns]

    def totals(bodies_usage: list[Usage]) -> tuple[int, int, float]:
        prompt = sum(u.prompt_tokens for u in bodies_usage)
        cached = sum(u.cached_tokens for u in bodies_usage)
        cost = sum(estimate_cost(spec, u.prompt_tokens, 0, u.cached_tokens) or 0.0 for u in bodies_usage)
        return prompt, cached, cost

    key = "sk-bench"
    plan = make_plan(args.video, TaskConfig(pack=PackConfig(model=args.model)))
    spec = plan.spec
    print(f"video {args.video}: {len(plan.sent_times)} frames, {plan.image_tokens:,} image tokens, "
          f"{len(plan.speech.segments)} spoken lines; model {args.model}; {len(questions)} turns")

    rows: dict[str, list[Usage]] = {}
    # baseline: the question first, then the frames (how requests were laid out before)
    server = FakeOpenAIServer(api_key=key)
    server.start()
    with OpenAIChatClient(ClientConfig(api_key=key, base_url=server.base_url, max_retries=0)) as client:
        usages = []
        for q in questions:
            body = make_plan(args.video, TaskConfig(pack=PackConfig(model=args.model), prompt=PromptOptions(
                task="ask", questions=(q,)))).requests[0].body
            assert body is not None
            content = body["messages"][1]["content"]
            body["messages"][1]["content"] = [content[-1], *content[:-1]]  # task first: the old layout
            usages.append(client.complete(body).usage)
        rows["baseline (question first)"] = usages
    server.stop()

    server = FakeOpenAIServer(api_key=key)
    server.start()
    with OpenAIChatClient(ClientConfig(api_key=key, base_url=server.base_url, max_retries=0)) as client:
        conversation = Conversation(plan, client)
        rows["chat (frames first, follow-ups)"] = [conversation.ask(q).usage for q in questions]
        usages = []
        for q in questions:
            body = make_plan(args.video, TaskConfig(pack=PackConfig(model=args.model), prompt=PromptOptions(
                task="ask", questions=(q,)))).requests[0].body
            assert body is not None
            usages.append(client.complete(body).usage)
        rows["ask x N after it (question last)"] = usages
    server.stop()

    base_cost = totals(rows["baseline (question first)"])[2]
    print(f"\n{'layout':<40} {'prompt tokens':>14} {'cached':>9} {'share':>6} {'input cost':>11} {'vs baseline':>11}")
    for name, usages in rows.items():
        prompt, cached, cost = totals(usages)
        per_turn = " ".join(f"{u.cached_tokens:,}" for u in usages)
        print(f"{name:<40} {prompt:>14,} {cached:>9,} {cached / prompt:>6.0%} ${cost:>10.4f} {cost / base_cost:>10.2f}x"
              f"   cached per turn: {per_turn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
