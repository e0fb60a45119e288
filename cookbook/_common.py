"""Shared command-line bits for the cookbook scripts."""

from __future__ import annotations

import argparse
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "demo.mp4"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("video", nargs="?", default=str(SAMPLE), help="video file (default: the bundled sample)")
    p.add_argument("--model", default="gpt-4o-mini")
    p.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    p.add_argument("--max-frames", type=int, default=24)
    p.add_argument("--dry-run", action="store_true", help="print the plan and send nothing")
    return p


def task_config(args, prompt):
    import videovision as vv

    limits = vv.load_provider("local" if args.base_url and "api.openai.com" not in args.base_url else "openai")
    return vv.TaskConfig(
        sampling=vv.SamplingConfig(strategy="hybrid"),
        pack=vv.PackConfig(model=args.model, detail="low", limits=limits, budget=vv.Budget(max_frames=args.max_frames)),
        prompt=prompt,
    )


def client(args):
    import videovision as vv

    overrides = {"base_url": args.base_url} if args.base_url else {}
    return vv.OpenAIChatClient(vv.ClientConfig.from_env(**overrides))
