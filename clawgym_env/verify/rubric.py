"""The rubric judge: an OpenAI-compatible LLM endpoint that scores an episode against a rubric.

Each rule (PinchBench criterion, ClawGym rubric rule) is scored on the 5-level scale the ClawGym
and PinchBench rubrics use (0, 0.25, 0.5, 0.75, 1); the rubric score is the plain mean over rules,
as both projects compute it (specs/clawgym-reference.md §E3, §F3).

The prompt follows PinchBench's judge: the task prompt, the expected behaviour, a transcript summary
(``Tool: name(args)``, ``Result: <200 chars>``, ``User:`` and ``Assistant:`` lines), small text
files of the workspace, then the rubric, and a request for JSON only. Replies are parsed leniently
the way PinchBench parses them -- whole text as JSON, a fenced block, balanced-brace objects (those
with ``scores`` first), then a ``total: x`` phrase -- and normalised from ``scores``,
``criteria_scores``, ``criterion_scores``, ``rule_scores`` or a bare ``score``/``total``.

A judge that cannot be reached or never gives a usable answer yields ``scored=False`` with the
reason, never a made-up score. The ``openai`` package is imported only when a judge is used
(``pip install clawgym[openai]``), so ``import clawgym_env`` stays light.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clawgym_env.sandbox.base import TextFileRules
from clawgym_env.sandbox.hostws import text_files

BANDS = (0.0, 0.25, 0.5, 0.75, 1.0)

JUDGE_FILES = TextFileRules()
"""The workspace files the judge sees (PinchBench's rules: see ``TextFileRules``)."""
MAX_FILE_CHARS = JUDGE_FILES.max_file_chars
"""Per workspace file shown to the judge (PinchBench: 3 KB)."""
MAX_FILES_CHARS = JUDGE_FILES.max_total_chars
MAX_FILES = JUDGE_FILES.max_files


@dataclass(frozen=True)
class JudgeConfig:
    """Where the judge model lives. Any OpenAI-compatible chat-completions endpoint works (OpenAI,
    OpenRouter, a local vLLM server, ...).

    ``api_key`` None means ``$OPENAI_API_KEY``, else ``"EMPTY"`` (what vLLM accepts).
    ``max_retries`` covers transport failures (connection errors, timeouts, 408/409/429/5xx) and
    replies that hold no usable score; ``retry_backoff_s`` doubles per attempt (a server's
    ``Retry-After`` wins, capped at ``max_backoff_s``).
    """

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 180.0
    max_retries: int = 2
    retry_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    temperature: float | None = 0.0
    """None: not sent (some reasoning models accept only their default)."""
    max_tokens: int | None = None
    extra_body: Mapping[str, Any] | None = None
    """Extra request fields, e.g. ``{"chat_template_kwargs": {"enable_thinking": False}}`` for vLLM."""

    def resolved_api_key(self) -> str:
        return self.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"


@dataclass(frozen=True)
class Rubric:
    """What the judge grades against."""

    task_prompt: str
    text: str
    """The rubric as the judge reads it (PinchBench's LLM Judge Rubric, or rendered ClawGym rules)."""
    criteria: tuple[str, ...] = ()
    """Rule names the judge should score (used in the prompt and to report missing ones)."""
    expected_behavior: str = ""
    priority_files: tuple[str, ...] = ()
    """Workspace files the rubric is about (ClawGym rules' ``file_path``): shown first."""


@dataclass
class JudgeResult:
    """One judge verdict. ``score`` is None unless ``scored``."""

    scored: bool
    score: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    """Per-rule scores, snapped to the 5 bands."""
    raw_scores: dict[str, float] = field(default_factory=dict)
    total: float | None = None
    """The judge's own total, as given (informational: the score is the mean of ``scores``)."""
    missing: list[str] = field(default_factory=list)
    notes: str = ""
    error: str | None = None
    attempts: int = 0
    model: str = ""
    raw_text: str = ""

    def to_info(self) -> dict[str, Any]:
        return {
            "scored": self.scored, "score": self.score, "scores": dict(self.scores), "raw_scores": dict(self.raw_scores),
            "judge_total": self.total, "missing": list(self.missing), "notes": self.notes, "error": self.error,
            "attempts": self.attempts, "model": self.model, "raw_text": self.raw_text[:2000],
        }


# ----------------------------------------------------------------------------- prompt building
def _text_of(block: Any) -> str:
    if isinstance(block, dict) and isinstance(block.get("text"), str):
        return block["text"]
    return str(block)


def summarize_transcript(events: Iterable[dict[str, Any]]) -> str:
    """OpenClaw session events -> PinchBench's judge summary, one line per event.

    Tool arguments longer than 200 characters are cut, results are cut to 200 characters and
    assistant text to 2000. (PinchBench previews ``str()`` of the first result block, so its 200
    characters include the ``{'type': 'text', ...`` wrapper; we preview the text itself.)
    """
    lines: list[str] = []
    for event in events:
        if not isinstance(event, dict) or event.get("type") != "message":
            continue
        msg = event.get("message") or {}
        role = msg.get("role")
        content = msg.get("content") or []
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if role == "assistant":
            for item in content:
                if not isinstance(item, dict):
                    continue
                if item.get("type") == "toolCall":
                    args = item.get("arguments") or {}
                    if isinstance(args, dict):
                        args = {k: (v[:200] + "...[truncated]" if isinstance(v, str) and len(v) > 200 else v)
                                for k, v in args.items()}
                    lines.append(f"Tool: {item.get('name')}({json.dumps(args, ensure_ascii=False)})")
                elif item.get("type") == "text" and str(item.get("text", "")).strip():
                    lines.append(f"Assistant: {str(item['text']).strip()[:2000]}")
        elif role == "toolResult" and content:
            lines.append(f"Result: {_text_of(content[0])[:200]}")
        elif role == "user" and content:
            lines.append(f"User: {_text_of(content[0])}")
    return "\n".join(lines)


def workspace_text_files(root: Path, *, first: Iterable[str] = (), max_file_chars: int = MAX_FILE_CHARS,
                         max_total_chars: int = MAX_FILES_CHARS, max_files: int = MAX_FILES) -> list[tuple[str, str]]:
    """(relative path, text) of the small text files an agent left in the host folder ``root``, for
    the judge (the env asks its sandbox instead: ``Sandbox.read_outputs(rules=JUDGE_FILES)``).

    Like PinchBench: hidden entries, OpenClaw bootstrap files and tool folders are skipped, and
    each file is cut to 3,000 characters. Also skipped: ``reward/`` (the verifier's own files).
    Links are never followed (an agent could point one at a host file); call this only after the
    agent's processes are gone, as the env does.
    """
    rules = replace(JUDGE_FILES, max_file_chars=max_file_chars, max_total_chars=max_total_chars, max_files=max_files)
    return text_files(Path(root), first=first, rules=rules)


SYSTEM_PROMPT = "You are a strict grader. You answer with a single JSON object and nothing else."


def build_judge_prompt(rubric: Rubric, transcript_summary: str, files: list[tuple[str, str]]) -> str:
    """The judge's user message (PinchBench's structure and instructions, in our words)."""
    parts = [
        "Grade the work of an AI agent on the task below. Your reply must be one JSON object and nothing else.\n",
        (
            "Rules:\n"
            "- Do not call tools, create files or run commands; do not write prose outside the JSON.\n"
            "- Be strict. Keep 1.0 for genuinely excellent work; an average acceptable completion scores about "
            "0.6-0.7. Take points off for unnecessary steps, verbose output and inefficient tool use.\n"
            "- Score every criterion with exactly one of 0, 0.25, 0.5, 0.75 or 1.\n"
        ),
        f"## Task\n{rubric.task_prompt}\n",
    ]
    if rubric.expected_behavior.strip():
        parts.append(f"## Expected Behavior\n{rubric.expected_behavior}\n")
    parts.append(f"## Agent Transcript (summarized)\n{transcript_summary or '(the agent did nothing)'}\n")
    if files:
        shown = "\n\n".join(f"### File: {rel}\n{text}" for rel, text in files)
        parts.append(f"## Workspace Files Created by Agent\n{shown}\n")
    parts.append(f"## Grading Rubric\n{rubric.text}\n")
    if rubric.criteria:
        names = ", ".join(json.dumps(c, ensure_ascii=False) for c in rubric.criteria)
        parts.append(f"Use these criterion names as the keys of \"scores\": {names}.\n")
    parts.append(
        'The "total" field is the arithmetic mean of the criterion scores (between 0 and 1), not their sum.\n'
        "Reply with exactly this JSON shape (no markdown, no code fences, no other text):\n"
        '{"scores": {"criterion_name": 0.0}, "total": 0.0, "notes": "brief justification"}'
    )
    return "\n".join(parts)


# ----------------------------------------------------------------------------- reply parsing
def _balanced_objects(text: str) -> list[str]:
    """Every top-level ``{...}`` span of ``text``, braces balanced (strings are not special-cased,
    as in PinchBench; a candidate that does not parse is simply skipped)."""
    found: list[str] = []
    depth = 0
    start = -1
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                found.append(text[start:i + 1])
    return found


def _loads_dict(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


_FENCED = re.compile(r"```(?:json|JSON)?\s*(.*?)\s*```", re.DOTALL)
_TOTAL_PROSE = re.compile(r"(?:total|overall|final)\s*(?:score)?[:\s]*(0(?:\.\d+)?|1(?:\.0+)?)\b", re.IGNORECASE)


def parse_judge_text(text: str) -> dict[str, Any]:
    """The judge's reply as a dict ({} if nothing usable): whole JSON, fenced JSON, balanced-brace
    objects (ones with ``scores`` preferred, the last first), then a ``total: x`` phrase."""
    text = (text or "").strip()
    if not text:
        return {}
    whole = _loads_dict(text)
    if whole is not None:
        return whole
    for block in _FENCED.findall(text):
        parsed = _loads_dict(block)
        if parsed is not None:
            return parsed
    candidates = [c for c in (_loads_dict(s) for s in reversed(_balanced_objects(text))) if c is not None]
    for parsed in candidates:
        if "scores" in parsed:
            return parsed
    if candidates:
        return candidates[0]
    match = _TOTAL_PROSE.search(text)
    if match:
        return {"scores": {}, "total": float(match.group(1)), "notes": "score taken from prose"}
    return {}


def _coerce(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            return None
    elif isinstance(value, dict):
        for key in ("score", "value", "weighted_score"):
            if key in value:
                return _coerce(value[key])
        return None
    else:
        return None
    return out if math.isfinite(out) else None


def _named_scores(parsed: dict[str, Any]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for key in ("scores", "criteria_scores", "criterion_scores", "rule_scores"):
        group = parsed.get(key)
        if isinstance(group, dict):
            items: Iterable[tuple[Any, Any]] = group.items()
        elif isinstance(group, list):
            items = []
            for i, item in enumerate(group, start=1):
                name = (item.get("name") or item.get("criterion") or item.get("rule") or item.get("label")
                        if isinstance(item, dict) else None) or f"criterion_{i}"
                items.append((name, item))
        else:
            continue
        for name, value in items:
            coerced = _coerce(value)
            if coerced is not None:
                scores[str(name)] = coerced
    return scores


def _total(parsed: dict[str, Any]) -> float | None:
    for key in ("total", "score", "overall_score", "total_score", "rubric_score", "completionScore", "overall"):
        if key in parsed:
            value = _coerce(parsed[key])
            if value is not None:
                return value
    return None


def snap(value: float) -> float:
    """The nearest of the 5 bands (after clamping to [0, 1]); a tie goes to the higher band."""
    value = min(1.0, max(0.0, value))
    return min(BANDS, key=lambda band: (abs(band - value), -band))


@dataclass
class ParsedVerdict:
    score: float | None
    scores: dict[str, float]
    raw_scores: dict[str, float]
    total: float | None
    notes: str
    problem: str | None


def interpret(parsed: dict[str, Any]) -> ParsedVerdict:
    """Per-rule scores snapped to the bands, score = their mean; with no per-rule scores, a total
    in [0, 1] is taken as it is (it is already a mean). Anything else: no score."""
    raw = _named_scores(parsed)
    total = _total(parsed)
    notes = str(parsed.get("notes") or parsed.get("justification") or parsed.get("reasoning") or "")
    if raw:
        snapped = {k: snap(v) for k, v in raw.items()}
        return ParsedVerdict(sum(snapped.values()) / len(snapped), snapped, raw, total, notes, None)
    if total is not None and 0.0 <= total <= 1.0:
        return ParsedVerdict(total, {}, {}, total, notes, None)
    if total is not None:
        return ParsedVerdict(None, {}, {}, total, notes, f"judge total {total} is outside [0, 1] and no per-rule scores")
    return ParsedVerdict(None, {}, {}, None, notes, "no score in the judge's reply")


# ----------------------------------------------------------------------------- the client
_RETRY_STATUS = {408, 409, 429}


def _openai_module() -> Any:
    try:
        import openai
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("the rubric judge needs the openai package: pip install 'clawgym[openai]'") from exc
    return openai


class RubricJudge:
    """Scores episodes with an OpenAI-compatible chat model (one client, reused)."""

    def __init__(self, config: JudgeConfig):
        self.config = config
        self._client: Any = None

    def _openai(self) -> Any:
        if self._client is None:
            cfg = self.config  # retries are ours (they also cover unusable replies), not the client's
            self._client = _openai_module().OpenAI(base_url=cfg.base_url, api_key=cfg.resolved_api_key(),
                                                   timeout=cfg.timeout_s, max_retries=0)
        return self._client

    def complete(self, prompt: str) -> str:
        """One chat completion; raises the openai exceptions as they come."""
        cfg = self.config
        kwargs: dict[str, Any] = {"model": cfg.model, "messages": [
            {"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]}
        if cfg.temperature is not None:
            kwargs["temperature"] = cfg.temperature
        if cfg.max_tokens is not None:
            kwargs["max_tokens"] = cfg.max_tokens
        if cfg.extra_body:
            kwargs["extra_body"] = dict(cfg.extra_body)
        response = self._openai().chat.completions.create(**kwargs)
        if not response.choices:
            return ""
        return response.choices[0].message.content or ""

    def _retry_delay(self, attempt: int, exc: Exception | None) -> float:
        cfg = self.config
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        for key, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            try:
                return min(cfg.max_backoff_s, max(0.0, float(headers[key]) * scale))
            except (KeyError, TypeError, ValueError):
                continue
        return min(cfg.max_backoff_s, cfg.retry_backoff_s * (2 ** attempt))

    def judge_prompt(self, prompt: str, rubric: Rubric) -> JudgeResult:
        """Send ``prompt``; retry transport failures and unusable replies; never invent a score."""
        openai = _openai_module()
        attempts = 1 + max(0, self.config.max_retries)
        error = "judge not called"
        text = ""
        for attempt in range(attempts):
            failure: Exception | None = None
            try:
                text = self.complete(prompt)
            except openai.APIStatusError as exc:
                error = f"judge endpoint answered HTTP {exc.status_code}: {str(exc)[:300]}"
                if exc.status_code not in _RETRY_STATUS and exc.status_code < 500:
                    return JudgeResult(False, error=error, attempts=attempt + 1, model=self.config.model)
                failure = exc
            except openai.APIError as exc:  # connection errors, timeouts, malformed responses
                error = f"judge endpoint failed: {type(exc).__name__}: {exc}"
                failure = exc
            else:
                verdict = interpret(parse_judge_text(text))
                if verdict.score is not None:
                    missing = [c for c in rubric.criteria if c not in verdict.scores]
                    return JudgeResult(True, score=verdict.score, scores=verdict.scores, raw_scores=verdict.raw_scores,
                                       total=verdict.total, missing=missing if verdict.scores else [],
                                       notes=verdict.notes, attempts=attempt + 1, model=self.config.model,
                                       raw_text=text)
                error = f"unusable judge reply ({verdict.problem}): {text[:300]!r}"
            if attempt + 1 < attempts:
                time.sleep(self._retry_delay(attempt, failure) if failure is not None else 0.0)
        return JudgeResult(False, error=error, attempts=attempts, model=self.config.model, raw_text=text)

    def grade(self, rubric: Rubric, transcript: list[dict[str, Any]],
              files: list[tuple[str, str]] | None = None) -> JudgeResult:
        """Score one episode: ``transcript`` in OpenClaw session form, ``files`` from
        :func:`workspace_text_files`."""
        prompt = build_judge_prompt(rubric, summarize_transcript(transcript), files or [])
        return self.judge_prompt(prompt, rubric)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None


__all__ = [
    "BANDS", "JudgeConfig", "JudgeResult", "Rubric", "RubricJudge", "build_judge_prompt", "interpret",
    "parse_judge_text", "snap", "summarize_transcript", "workspace_text_files",
]
