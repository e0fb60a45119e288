"""The plan as a table (``videovision plan``, ``--dry-run``): the frames to send, totals, requests and
what was dropped."""

from __future__ import annotations

from ..timecode import format_time


def plan_table(plan) -> str:
    """A human-readable plan: the frames to send, totals, requests and what was dropped."""
    v = plan.video
    lines = [
        f"video    {v.path}  {format_time(v.duration, precision=1)}  "
        + (f"{v.width}x{v.height}  {v.fps:.2f} fps" if v.width else "audio only (speech-only requests)")
        + (f"  rotation {v.rotation}" if v.rotation else "")
        + ("  (truncated)" if v.truncated else ""),
        f"model    {plan.model}" + ("" if plan.model_known else "  (unknown model: conservative token estimate)")
        + ("  (OpenAI documents no image rule for it: conservative token estimate, checked against the "
           "reported image_tokens)" if plan.model_known and plan.spec.image_rule == "undocumented" else "")
        + f"  detail {plan.detail}  api {plan.api}",
        "",
        f"{'#':>4}  {'time':>10}  {'scene':>5}  {'size':>9}  {'tokens':>6}  {'KB':>6}",
    ]
    for n, image in enumerate(plan.images, 1):
        when = format_time(image.time, precision=1)
        if image.times and len(image.times) > 1:
            when += f" +{len(image.times) - 1}"
        scene = "" if image.scene is None else str(image.scene)
        lines.append(f"{n:>4}  {when:>10}  {scene:>5}  {image.width:>4}x{image.height:<4}  {image.tokens:>6}  "
                     f"{len(image.data) / 1024:6.1f}")
    frames = len(plan.sent_times)
    lines += [
        "",
        f"images       {len(plan.images)}" + (f" ({frames} frames in grids)" if frames != len(plan.images) else ""),
        f"image tokens {plan.image_tokens}",
        f"text tokens  {plan.text_tokens}" + ("" if plan.text_tokens_exact else " (estimate)"),
    ]
    cost_in, cost = plan.estimated_input_cost_usd, plan.estimated_cost_usd
    if cost is None:
        lines.append("cost         unknown (no price for this model; --models-file can set one)")
    else:
        lines.append(f"cost         ~${cost_in:.4f} input, ~${cost:.4f} with output at its limit (estimate); "
                     f"half through the OpenAI Batch API (batch --batch-api)"
                     + (f"; prices: {plan.spec.price_source}" if plan.spec.price_source else ""))
    lines.append(f"requests     {len(plan.requests)}" + (
        "  (" + ", ".join(f"{r.kind} {format_time(r.time_range[0], precision=0)}-{format_time(r.time_range[1], precision=0)}: "
                           f"{len(r.images)} images" if r.kind != "reduce" else "reduce" for r in plan.requests) + ")"
        if len(plan.requests) > 1 else ""))
    rf = plan.refine_estimate
    if rf is not None:
        price = "unknown cost" if rf.cost_usd is None else f"up to ~${rf.cost_usd:.4f}"
        lines.append(f"refine       up to {rf.requests} more requests of {rf.frames} frames (a close look at each "
                     f"cited moment): {rf.image_tokens + rf.text_tokens} input tokens, {price} (worst case)")
    sp = plan.speech
    if sp.pending is not None:
        cost = "unknown cost" if sp.pending.cost is None else f"~${sp.pending.cost:.4f}"
        lines.append(f"speech       to transcribe: {sp.pending.audio_seconds / 60:.1f} min of audio, {cost}, "
                     f"~{sp.tokens} tokens (estimate; nothing is uploaded by plan or --dry-run)")
    elif sp.source:
        dropped = f", {sp.dropped} thinned out to fit --max-speech-tokens" if sp.dropped else ""
        lines.append(f"speech       {len(sp.segments)} lines from {sp.source}, {sp.tokens} tokens{dropped}")
    elif sp.note:
        lines.append(f"speech       none ({sp.note})")
    if plan.screen_text is not None:
        lines.append(f"screen text  {plan.screen_text.summary_line()}")
        lines += [f"             {note}" for note in plan.screen_text.notes]
    sel = plan.selection
    if sel.preset:
        lines.append(f"scenes       {len(plan.scenes)} ({sel.preset}: {sel.preset_reason})" if sel.preset_reason
                     else f"scenes       {len(plan.scenes)} ({sel.preset})")
    if sel.repeats:
        lines.append(f"repeats      {len(sel.repeats)} unchanged pictures sent as a short text note, not an image")
    if plan.duplicates_dropped:
        lines.append(f"duplicates   {plan.duplicates_dropped} frames dropped by --dedup (same picture as a kept one)")
    if plan.dropped:
        lines.append(f"dropped      {len(plan.dropped)} frames:")
        for d in plan.dropped[:50]:
            lines.append(f"  {format_time(d.time, precision=1):>10}  {d.reason}")
        if len(plan.dropped) > 50:
            lines.append(f"  ... and {len(plan.dropped) - 50} more")
    return "\n".join(lines) + "\n"
