"""A conversation about one video: the frames (and speech) once, then questions and follow-ups.

Every turn sends the same prefix (system prompt, frames, speech) followed by the turns so far,
byte for byte as before, so a provider with prompt caching (OpenAI: automatic past 1,024 tokens)
bills the repeated frames at its cached rate; :attr:`ChatTurn.usage` shows how many were. Each
answer's cited times are checked against the frames sent, like ``ask``'s. No refine pass: a
conversation answers in one request per question.
"""

from __future__ import annotations

from dataclasses import dataclass

from .asking import Asker, RunProgressCallback
from .client import ChatClient
from .errors import ConfigError, ContextLengthError
from .parsing import citations
from .plan import Plan
from .prompts import make_chat_request
from .store import Cache, new_run_id
from .types import Answer, Usage


@dataclass(frozen=True)
class ChatTurn:
    """One question and its checked answer."""

    answer: Answer
    usage: Usage
    """This turn's tokens; ``usage.cached_tokens`` were served from the provider's prompt cache."""
    cost_usd: float | None
    """At list prices, cached tokens at the cached rate; 0 when the reply came from our cache."""
    from_cache: bool
    """The same conversation was had before: the reply came from videovision's cache (not paid again)."""


class Conversation:
    """Questions about one planned video (see :func:`videovision.pipeline.make_plan`).

    Args:
        plan: a plan whose frames fit one request.
        client: the chat endpoint.
        cache: replies are cached and logged here (a replayed conversation costs nothing).
        progress: request progress callback.

    Raises:
        ConfigError: the plan needs several requests (a long video split into chunks).
    """

    def __init__(self, plan: Plan, client: ChatClient | None, *, cache: Cache | None = None,
                 progress: RunProgressCallback | None = None):
        first = plan.requests[0].request if len(plan.requests) == 1 else None
        if first is None:
            raise ConfigError(f"chat needs the frames in one request, and this plan splits them into "
                              f"{len(plan.requests)}: lower --max-frames or raise --frames-per-request")
        self.plan = plan
        self.first = first
        self.image_tokens = plan.requests[0].image_tokens
        self.asker = Asker(client, cache, plan, new_run_id(), progress=progress, task="chat")
        self.check = plan.time_check()
        self.turns: list[tuple[str, str]] = []

    @property
    def usage(self) -> Usage:
        """Tokens of every turn so far."""
        return self.asker.usage

    @property
    def cost_usd(self) -> float:
        return self.asker.cost

    @property
    def warnings(self) -> list[str]:
        return self.asker.warnings

    def markdown(self) -> str:
        """The conversation so far as Markdown: a heading per question, the answer under it."""
        lines = [f"# Chat about {self.plan.video.path}", ""]
        for question, answer in self.turns:
            lines += [f"## {' '.join(question.split())}", "", answer.strip(), ""]
        return "\n".join(lines)

    def request(self, question: str) -> dict:
        """The exact body the next :meth:`ask` sends (in the plan's wire)."""
        if not question.strip():
            raise ConfigError("a question is empty")
        return self.plan.wire.encode(make_chat_request(self.first, self.turns, question.strip(),
                                                       self.plan.prompt.language))

    def ask(self, question: str) -> ChatTurn:
        """Ask the next question; the answer joins the conversation.

        Raises:
            ContextLengthError: the conversation no longer fits the model's context window.
            RequestError (and subclasses), UsageMismatchError (``strict``), CacheError.
        """
        body = self.request(question)
        window = self.plan.spec.context_window or self.plan.config.pack.limits.context_tokens
        if window:
            needed = self.plan.wire.count(body, self.plan.spec).total + self.plan.prompt.output_tokens(self.plan.spec)
            if needed > window:
                raise ContextLengthError(f"the conversation no longer fits {self.plan.model}'s context window "
                                         f"({needed:,} > {window:,} tokens): start a new chat")
        self.asker.expect(1)
        before_hits, before_cost = self.asker.cache_hits, self.asker.cost
        result = self.asker.ask(body, image_tokens=self.image_tokens)
        self.turns.append((question.strip(), result.text))
        moments, rejected = citations(result.text, self.check)
        answer = Answer(question=question.strip(), text=result.text.strip(), moments=tuple(moments),
                        rejected=tuple(rejected))
        from_cache = self.asker.cache_hits > before_hits
        return ChatTurn(answer=answer, usage=result.usage, cost_usd=self.asker.cost - before_cost,
                        from_cache=from_cache)
