"""Submitting: requests as JSONL input files within OpenAI's limits, uploaded, one batch each, each
recorded in the job file before anything is sent; :func:`reconcile` settles a submission a stopped
run left without a batch id (:mod:`videovision.batchapi`)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..client import wire_request
from ..endpoint import ClientConfig
from ..errormap import ErrorMapper
from ..errors import ConfigError
from ..store import Cache
from ..wires import wire_of_body
from .jobs import (
    CHAT_URL,
    COMPLETION_WINDOW,
    JOBS_DIRNAME,
    MAX_FILE_BYTES,
    MAX_FILE_LINES,
    SUBMISSION_KEY,
    BatchApiError,
    BatchJob,
    _connect,
    _mapped,
    _replace_job,
    _update_jobs,
    load_jobs,
    pending_ids,
)


def input_line(custom_id: str, body: dict) -> bytes:
    """One JSONL line of a batch input file (newline included): ``body`` is a wire's exact body, its
    ``url`` that wire's (:func:`line_url`)."""
    if not isinstance(custom_id, str) or not custom_id:
        raise ConfigError("a Batch API request needs a non-empty custom_id")
    url = line_url(body)
    line = {"custom_id": custom_id, "method": "POST", "url": url, "body": body}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def line_url(body: dict) -> str:
    """The Batch API ``url`` of a wire's body: ``/v1`` + its wire's path."""
    return "/v1" + wire_of_body(body).path


def split_lines(lines: Iterable[tuple[str, bytes]], *, max_bytes: int = MAX_FILE_BYTES,
                max_lines: int = MAX_FILE_LINES) -> Iterator[list[tuple[str, bytes]]]:
    """Group (custom_id, line) pairs into files of at most ``max_lines`` lines and ``max_bytes`` bytes.

    Raises:
        BatchApiError: one line alone is larger than ``max_bytes``.
    """
    if max_bytes <= 0 or max_lines <= 0:
        raise ConfigError("Batch API file limits must be > 0")
    group: list[tuple[str, bytes]] = []
    size = 0
    for custom_id, line in lines:
        if len(line) > max_bytes:
            raise BatchApiError(f"request {custom_id} is {len(line):,} bytes: more than a batch input file may hold "
                                f"({max_bytes:,})")
        if group and (len(group) >= max_lines or size + len(line) > max_bytes):
            yield group
            group, size = [], 0
        group.append((custom_id, line))
        size += len(line)
    if group:
        yield group


def submit(requests: Sequence[tuple[str, dict]], client_config: ClientConfig, store: Cache, *,
           max_bytes: int = MAX_FILE_BYTES, max_lines: int = MAX_FILE_LINES,
           sdk: Any | None = None) -> list[BatchJob]:
    """Send requests as OpenAI batches: as many input files as the limits need, one batch each.

    Requests whose custom_id is already in a batch not yet collected are left out (a second run
    before the first batch ended does not pay twice).

    Args:
        requests: (custom_id, body) pairs; body exactly as the chat endpoint would get it.
        client_config: the endpoint and key.
        store: the cache (the jobs and the input copies live in its directory).
        max_bytes, max_lines: per input file (OpenAI's limits by default).
        sdk: an ``openai.OpenAI`` to use instead of one built from ``client_config``.

    Returns:
        The batches created (also remembered in the cache), in order.

    Raises:
        ConfigError: a custom_id repeats or is empty.
        BatchApiError: a request is larger than one input file may be.
        RequestError: the files or batches API refused (mapped as the chat client maps errors).
    """
    ids = [c for c, _ in requests]
    if len(set(ids)) != len(ids):
        raise ConfigError("Batch API custom_ids must be unique within a submission")
    client, mapper, _ = _connect(client_config, sdk)
    if any(not j.batch_id for j in load_jobs(store)):
        reconcile(store, client, mapper)
    known = pending_ids(store)
    todo = [(c, b) for c, b in requests if c not in known]
    if not todo:
        return []
    model = str(todo[0][1].get("model", "")) if isinstance(todo[0][1], dict) else ""
    exact = [(c, wire_request(b, client_config.api)[1]) for c, b in todo]
    by_url: dict[str, list[tuple[str, bytes]]] = {}  # one batch serves one endpoint
    for c, b in exact:
        by_url.setdefault(line_url(b), []).append((c, input_line(c, b)))
    folder = store.directory / JOBS_DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[BatchJob] = []
    groups = [(url, group) for url, lines in by_url.items()
              for group in split_lines(lines, max_bytes=max_bytes, max_lines=max_lines)]
    for url, group in groups:
        token = uuid.uuid4().hex
        path = folder / f"input-{token}.jsonl"
        path.write_bytes(b"".join(line for _, line in group))
        job = BatchJob(batch_id="", input_file_id="", endpoint=client_config.endpoint,
                       custom_ids=tuple(c for c, _ in group), input_path=str(path), created_at=time.time(),
                       submission=token, url=url)
        _update_jobs(store, lambda old, job=job: [*old, job])  # type: ignore[misc]  # before anything is sent
        try:
            with open(path, "rb") as f:
                uploaded = client.files.create(file=(path.name, f, "application/jsonl"), purpose="batch")
            job = _replace_job(store, job, input_file_id=uploaded.id)
            batch = _create_batch(client, uploaded.id, token, url)
        except Exception as err:
            if _refused(err):  # the server answered no: nothing was created, forget the submission
                _update_jobs(store, lambda old, t=token: [j for j in old if j.submission != t])  # type: ignore[misc]
                path.unlink(missing_ok=True)
            raise _mapped(mapper, err, model) from err
        jobs.append(_replace_job(store, job, batch_id=batch.id))
    return jobs


def _create_batch(client: Any, input_file_id: str, token: str, url: str = CHAT_URL) -> Any:
    return client.batches.create(input_file_id=input_file_id, endpoint=url, completion_window=COMPLETION_WINDOW,
                                 metadata={SUBMISSION_KEY: token})


def _refused(err: BaseException) -> bool:
    """The server answered with an error status (so it created nothing), as opposed to a request
    whose outcome is unknown (a timeout, a cut connection, an interrupt)."""
    import openai

    return isinstance(err, openai.APIStatusError)


def reconcile(store: Cache, client: Any, mapper: ErrorMapper) -> list[BatchJob]:
    """Settle the submissions recorded without a batch id (a run stopped mid-submission).

    A batch carrying the submission's name in its metadata is adopted; an input file uploaded under
    its name gets its batch created now; a submission the server never saw is forgotten (its
    requests go into the next submission). Returns the jobs as they now stand.

    Raises:
        RequestError: the files or batches API refused.
    """
    unsettled = {j.submission: j for j in load_jobs(store) if not j.batch_id and j.submission}
    if not unsettled:
        return load_jobs(store)
    try:
        for batch in client.batches.list(limit=100):
            token = (getattr(batch, "metadata", None) or {}).get(SUBMISSION_KEY)
            job = unsettled.pop(token, None) if token else None
            if job is not None:
                _replace_job(store, job, batch_id=batch.id, input_file_id=str(batch.input_file_id))
            if not unsettled:
                break
        for job in list(unsettled.values()):
            file_id = job.input_file_id or _uploaded(client, Path(job.input_path).name)
            if file_id:
                batch = _create_batch(client, file_id, job.submission, job.url)
                _replace_job(store, job, batch_id=batch.id, input_file_id=file_id)
            else:
                _update_jobs(store, lambda old, t=job.submission: [j for j in old if j.submission != t])  # type: ignore[misc]
                Path(job.input_path).unlink(missing_ok=True)
    except Exception as err:
        raise _mapped(mapper, err, "") from err
    return load_jobs(store)


def _uploaded(client: Any, filename: str) -> str:
    """The id of the batch input file uploaded as ``filename`` ("" when there is none)."""
    for f in client.files.list(purpose="batch"):
        if getattr(f, "filename", None) == filename:
            return str(f.id)
    return ""
