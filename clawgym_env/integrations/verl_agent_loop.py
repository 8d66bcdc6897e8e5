"""``ClawAgentLoop``: veRL 0.9.1's ``claw_agent`` agent loop over a ClawGym env.

One :class:`~clawgym_env.env.ClawGymEnv` (one sandbox) per trajectory, built from the row's
``extra_info.task_ref`` (see :mod:`clawgym_env.integrations.verl_data`). Per trajectory:

1. ``await env.areset()``; the prompt is the env's messages (OpenClaw system prompt + the request)
   and tool schemas, rendered by veRL's Continuous Token (CT) builder for the model family.
2. Loop: ``server_manager.generate`` (token in, token out; ``max_tokens`` = min(per-turn cap,
   what is left of ``rollout.response_length``)) → the generated ids are appended as they are
   (mask 1, their logprobs) → their text goes to ``await env.astep(text)``: the env parses the
   tool calls (the same parser as everywhere else in ClawGym), runs them in the sandbox and returns
   the tool messages → those are appended as CT renders them (mask 0, logprob 0.0).
   History is never re-tokenized: what the model generated is exactly what it is trained on.
3. The episode ends when the env ends it (a turn without tool calls, or ``max_turns`` reached: the
   env's own truncation) or when the token budget is spent (then ``env.finish`` scores it, as the
   rollout engine does, and it is marked truncated). Ended episodes are scored by the task's
   verifier (truncated ones too, unless ``score_on_truncation=False``), and that reward is
   ``reward_score``, so veRL needs no reward function.

The loop is an adapter over :func:`clawgym_env.rollout.driver.run_episode`, the same episode loop
the rollout engine runs: the policy is an agent (:class:`_TokenAgent`) whose turns come from veRL's
token server and which keeps the token stream; budgets, scoring, crash isolation and the typed
result are the driver's.

Why CT rather than hand-rolled ``apply_chat_template`` prefix deltas: CT is veRL's own multi-turn
tokenizer for this (``ToolAgentLoop`` uses it), picked by the model's ``model_type`` (qwen2/qwen3 →
the Qwen builder), and it handles the boundary a delta gets wrong: Qwen templates put ``\\n``
after ``<|im_end|>`` but generation stops at ``<|im_end|>``; CT inserts that newline with mask 0.
The test checks that prompt + response decode to exactly the chat template's rendering of the
env's final messages.

Infrastructure failures (the env reports ``infra_error``, the sandbox dies, an env call raises, or
a task cannot be scored) are **not** scored 0:

- ``on_infra_error="drop"`` (what ``auto`` picks under veRL's default V1 trainer,
  ``trainer.use_v1=True``): ``run`` returns ``[]``. ``AgentLoopWorkerTQ._agent_loop_postprocess``
  then stores nothing for the trajectory, and GRPO's group statistics are computed over the
  group's remaining trajectories (``compute_advantage_for_multi_trajectories``: "sessions whose
  AgentLoop returns None simply do not appear").
- ``on_infra_error="mask"`` (``auto`` under the legacy trainer, which needs one output per sample):
  an output whose ``response_mask`` is all zeros (no policy-gradient, KL or entropy term; veRL's
  loss aggregation excludes fully masked sequences), ``reward_score`` 0.0 and
  ``reward_extra_info["infra_error"] = 1``. Its 0.0 still enters its GRPO group's mean/std there.

Knobs (constructor kwargs, which ``rl/agent_loop.yaml`` entries pass; else a top-level ``clawgym``
section of the trainer config, e.g. ``+clawgym.max_turns=32``; else the defaults):
``max_turns`` (default ``rollout.multi_turn.max_assistant_turns``, else 64), ``max_tokens_per_turn``
(8192), ``max_env_concurrency`` (32 env calls at once per worker process: reset, step and close run
on threads, never on the event loop), ``score_on_truncation`` (True), ``on_infra_error``
(auto|drop|mask), ``env_kwargs`` (passed to ``ClawGymEnv``: ``profile``, ``backend``,
``max_tool_calls_per_step``, ``exec_timeout_s``, ``verifier_timeout_s``, ``sandbox_config``, ...).

The env is always closed (:func:`~clawgym_env.rollout.driver.env_session`): normally on a thread, and
synchronously when the trajectory is cancelled (a cancelled task may not get another thread hop),
which kills its sandbox.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any, TypeVar
from uuid import uuid4

from omegaconf import DictConfig, OmegaConf
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput, register
from verl.workers.rollout.replica import TokenOutput

from clawgym_env.agents.base import AgentTurn
from clawgym_env.env import ClawGymEnv
from clawgym_env.episode import EnvConfig, EpisodeResult
from clawgym_env.integrations.verl_data import AGENT_NAME, task_from_row
from clawgym_env.rollout.driver import BudgetExhausted, env_session, run_episode
from clawgym_env.tasks import Task

logger = logging.getLogger(__name__)
logger.setLevel(os.getenv("VERL_LOGGING_LEVEL", "WARN"))

T = TypeVar("T")

REWARD_EXTRA_KEYS = ("verifier_reward", "infra_error", "turns", "truncated")
"""``reward_extra_info`` keys, the same on every sample (veRL takes the key set from the first)."""


@dataclass(frozen=True)
class ClawLoopSettings:
    """The loop's knobs; see the module docstring."""

    max_turns: int = 64
    max_tokens_per_turn: int = 8192
    max_env_concurrency: int = 32
    score_on_truncation: bool = True
    on_infra_error: str = "auto"
    env_kwargs: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


def resolve_settings(config: DictConfig, overrides: dict[str, Any]) -> ClawLoopSettings:
    """Constructor kwargs over the config's ``clawgym`` section over the defaults."""
    section = _plain(config.get("clawgym") or {}) or {}
    known = {f.name for f in fields(ClawLoopSettings)}
    unknown = (set(section) | {k for k, v in overrides.items() if v is not None}) - known
    if unknown:
        raise ValueError(f"unknown claw_agent settings {sorted(unknown)}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    turns = OmegaConf.select(config, "actor_rollout_ref.rollout.multi_turn.max_assistant_turns", default=None)
    if turns:
        values["max_turns"] = int(turns)
    values.update(section)
    values.update({k: _plain(v) for k, v in overrides.items() if v is not None})
    settings = ClawLoopSettings(**values)
    if settings.on_infra_error not in ("auto", "drop", "mask"):
        raise ValueError(f"on_infra_error must be auto, drop or mask, not {settings.on_infra_error!r}")
    if min(settings.max_turns, settings.max_tokens_per_turn, settings.max_env_concurrency) < 1:
        raise ValueError(f"max_turns, max_tokens_per_turn and max_env_concurrency must be >= 1: {settings}")
    return settings


_ENV_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())


def env_slots(limit: int) -> asyncio.Semaphore:
    """The per-process cap on concurrent env calls (one semaphore per event loop; the first
    loop instance on a loop sizes it)."""
    loop = asyncio.get_running_loop()
    sem = _ENV_SLOTS.get(loop)
    if sem is None:
        sem = _ENV_SLOTS[loop] = asyncio.Semaphore(limit)
    return sem


class PromptTooLongError(ValueError):
    """A task's initial prompt does not fit ``rollout.prompt_length``: a data error, raised (veRL would
    cut the system prompt off the left)."""


@dataclass
class _TokenStream:
    """One trajectory's token stream: what the model generated (mask 1) and the env's messages as
    CT renders them (mask 0), never re-tokenized."""

    request_id: str
    prompt_ids: list[int] = field(default_factory=list)
    runtime_ids: list[int] = field(default_factory=list)  # prompt + response so far
    mask: list[int] = field(default_factory=list)
    logprobs: list[float] | None = None
    turns: int = 0  # assistant turns generated
    context_turns: int = 0  # tool-result groups appended
    seen: int = 0  # messages the policy had seen at its last turn
    last_ids: list[int] = field(default_factory=list)
    generate_s: float = 0.0
    num_preempted: int | None = None
    min_global_steps: Any = None
    max_global_steps: Any = None

    @property
    def response_ids(self) -> list[int]:
        return self.runtime_ids[len(self.prompt_ids):]


class _TokenAgent:
    """The policy as a ClawGym agent for :func:`run_episode`: each turn extends the token stream with
    the env's new messages (mask 0), then generates (mask 1) within what is left of the response
    budget; the generated text is the env's action. A spent budget raises
    :class:`BudgetExhausted`, which the driver turns into a scored truncation."""

    name = "verl"

    def __init__(self, loop: ClawAgentLoop, stream: _TokenStream, sampling_params: dict[str, Any], task_id: str):
        self.loop = loop
        self.stream = stream
        self.sampling_params = sampling_params
        self.task_id = task_id

    def begin_episode(self, task: Task) -> None:
        pass

    def config(self) -> dict[str, Any]:
        return {"agent": self.name}

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        loop, st = self.loop, self.stream
        if not st.prompt_ids:
            st.prompt_ids = await loop._in_thread(
                lambda: loop.continuous_token_builder.build_initial_tokens(messages, tools=tools))
            if len(st.prompt_ids) > loop.prompt_length:
                raise PromptTooLongError(
                    f"task {self.task_id}: the initial prompt is {len(st.prompt_ids)} tokens, more than "
                    f"rollout.prompt_length={loop.prompt_length}; raise data.max_prompt_length")
            st.runtime_ids = list(st.prompt_ids)
        else:
            if (not st.last_ids or st.last_ids[-1] not in loop.end_ids) and len(st.mask) < loop.response_length:
                loop._append_context(st, [loop.turn_end_id])  # close the cut-off turn
            if not await loop._merge_context(st, messages[: st.seen + 1], messages, tools):
                raise BudgetExhausted("tokens")  # the tool results do not fit
        st.seen = len(messages)
        remaining = loop.response_length - len(st.mask)
        if remaining <= 0:
            raise BudgetExhausted("tokens")
        ids = await loop._generate(st, self.sampling_params, min(loop.settings.max_tokens_per_turn, remaining))
        st.turns += 1
        st.last_ids = ids
        text_ids = ids
        while text_ids and text_ids[-1] in loop.end_ids:
            text_ids = text_ids[:-1]
        return AgentTurn(message=loop.tokenizer.decode(text_ids, skip_special_tokens=False))


@register(AGENT_NAME)
class ClawAgentLoop(AgentLoopBase):
    """A ClawGym episode as a veRL agent loop; see the module docstring."""

    def __init__(self, *args: Any, max_turns: int | None = None, max_tokens_per_turn: int | None = None,
                 max_env_concurrency: int | None = None, score_on_truncation: bool | None = None,
                 on_infra_error: str | None = None, env_kwargs: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)  # takes veRL's tools=ToolListWrap(...) in **kwargs: unused
        self.settings = resolve_settings(self.config, {
            "max_turns": max_turns, "max_tokens_per_turn": max_tokens_per_turn,
            "max_env_concurrency": max_env_concurrency, "score_on_truncation": score_on_truncation,
            "on_infra_error": on_infra_error, "env_kwargs": env_kwargs,
        })
        self.env_config = EnvConfig.from_kwargs(**{
            "prestart_next": False, **self.settings.env_kwargs, "max_steps": self.settings.max_turns,
            "score_on_truncation": self.settings.score_on_truncation})
        mode = self.settings.on_infra_error
        if mode == "auto":
            mode = "drop" if self.config.get("trainer", {}).get("use_v1", False) else "mask"
        self.on_infra_error = mode
        self.prompt_length = int(self.rollout_config.prompt_length)
        self.response_length = int(self.rollout_config.response_length)
        im_end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        im_end = im_end if isinstance(im_end, int) and im_end != self.tokenizer.unk_token_id else None
        eos = self.tokenizer.eos_token_id
        self.end_ids = {t for t in (im_end, eos) if t is not None}
        self.turn_end_id = im_end if im_end is not None else eos
        """Appended (mask 0) after a turn that did not end with an end-of-turn token (the per-turn
        cap cut it off), so the next context starts on a closed turn, as the chat template renders it."""

    # ------------------------------------------------------------------ helpers
    def _make_env(self, task: Task) -> ClawGymEnv:
        return ClawGymEnv(task, config=self.env_config)

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def _request_id(self, priority: int) -> str:
        return f"det-{priority}" if self.rollout_config.get("full_determinism") else uuid4().hex

    # ------------------------------------------------------------------ run
    async def run(self, sampling_params: dict[str, Any],
                  **kwargs: Any) -> AgentLoopOutput | list[AgentLoopOutput]:
        stream = _TokenStream(request_id=self._request_id(int(kwargs.get("priority") or 0)))
        if sampling_params.get("logprobs"):
            stream.logprobs = []
        # a bad row is a data error, not infrastructure: it raises
        task = await self._in_thread(task_from_row, kwargs.get("extra_info"))
        slots = env_slots(self.settings.max_env_concurrency)
        result: EpisodeResult | None = None
        infra_error: str | None = None
        t = time.perf_counter()
        try:
            async with env_session(partial(self._make_env, task), env_slots=slots,
                                   on_close_error=_log_close_error) as env:
                build_s = time.perf_counter() - t
                agent = _TokenAgent(self, stream, sampling_params, task.task_id)
                result = await run_episode(env, agent, score_truncated=self.settings.score_on_truncation,
                                           env_slots=slots, propagate=(PromptTooLongError,))
                infra_error = _infra_error(result)
        except (PromptTooLongError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 -- any env failure is infrastructure, not a score
            build_s = time.perf_counter() - t
            infra_error = f"env construction failed: {exc!r}"
        return await self._output(stream, task.task_id, result, infra_error, build_s, kwargs)

    async def _generate(self, ep: _TokenStream, sampling_params: dict[str, Any], cap: int) -> list[int]:
        """One model turn (at most ``cap`` tokens) appended to the stream (mask 1); returns its ids."""
        params = {**sampling_params, "max_tokens": cap}
        t = time.perf_counter()
        out: TokenOutput = await self.server_manager.generate(
            request_id=ep.request_id, prompt_ids=list(ep.runtime_ids), sampling_params=params)
        ep.generate_s += time.perf_counter() - t
        ids = list(out.token_ids[:cap])
        if out.num_preempted is not None:
            ep.num_preempted = (ep.num_preempted or 0) + out.num_preempted
        extra = out.extra_fields or {}
        if ep.min_global_steps is None:
            ep.min_global_steps = extra.get("min_global_steps", extra.get("global_steps"))
        if extra.get("max_global_steps", extra.get("global_steps")) is not None:
            ep.max_global_steps = extra.get("max_global_steps", extra.get("global_steps"))
        assistant_logprobs = None
        if ep.logprobs is not None:
            if out.log_probs is None or len(out.log_probs) < len(ids):
                raise ValueError("the rollout server returned no logprobs for every token, though "
                                 "rollout.calculate_log_probs asked for them")
            assistant_logprobs = list(out.log_probs[: len(ids)])
        merge, ep.mask, logprobs = await self.ct_merge_assistant_token(
            ep.runtime_ids, ids, ep.mask, ep.logprobs, assistant_logprobs=assistant_logprobs)
        ep.runtime_ids = merge.token_ids
        if ep.logprobs is not None:
            ep.logprobs = logprobs
        return ids

    def _append_context(self, ep: _TokenStream, ids: list[int]) -> None:
        ep.runtime_ids = ep.runtime_ids + ids
        ep.mask = ep.mask + [0] * len(ids)
        if ep.logprobs is not None:
            ep.logprobs = ep.logprobs + [0.0] * len(ids)

    async def _merge_context(self, ep: _TokenStream, previous: list[dict[str, Any]],
                             messages: list[dict[str, Any]],
                             tools: list[dict[str, Any]]) -> bool:
        """Append the env's new (tool) messages as CT renders them (mask 0); False if they overflow
        the response budget (then nothing is appended)."""
        merge, mask, logprobs = await self.ct_merge_context_msg(
            previous, messages, ep.runtime_ids, ep.mask, ep.logprobs, tools=tools)
        if len(mask) > self.response_length:
            return False
        ep.runtime_ids, ep.mask = merge.token_ids, mask
        if ep.logprobs is not None:
            ep.logprobs = logprobs
        ep.context_turns += 1
        return True

    # ------------------------------------------------------------------ output
    async def _output(self, ep: _TokenStream, task_id: str, result: EpisodeResult | None, infra_error: str | None,
                      build_s: float, kwargs: dict[str, Any]) -> AgentLoopOutput | list[AgentLoopOutput]:
        masked = infra_error is not None
        if masked and self.on_infra_error == "drop":
            logger.warning("dropping the trajectory of task %s (infrastructure failure, not scored): %s",
                           task_id, infra_error)
            return []
        if masked:
            logger.warning("masking out the trajectory of task %s (infrastructure failure, not scored): %s",
                           task_id, infra_error)
        prompt_ids = ep.prompt_ids
        if not prompt_ids:  # failed before the env gave its messages: render the row's prompt
            raw = kwargs.get("raw_prompt")
            raw = list(raw) if raw is not None and len(raw) else [{"role": "user", "content": ""}]
            prompt_ids = self._cap_text_prompt_length(
                await self._in_thread(lambda: self.continuous_token_builder.build_initial_tokens(raw)))
        response_ids = ep.response_ids[: self.response_length]
        mask = ep.mask[: self.response_length]
        logprobs = ep.logprobs[: self.response_length] if ep.logprobs is not None else None
        if masked:
            if not response_ids:
                response_ids = [self.turn_end_id]
            mask = [0] * len(response_ids)
            logprobs = [0.0] * len(response_ids) if logprobs is not None else None
        reward = 0.0 if masked or result is None else result.reward
        timings = result.timings if result is not None else {}
        env_s = build_s + float(timings.get("reset") or 0.0) + float(timings.get("env") or 0.0)
        global_steps = kwargs.get("global_steps")
        return AgentLoopOutput(
            prompt_ids=prompt_ids,
            response_ids=response_ids,
            response_mask=mask,
            response_logprobs=logprobs,
            reward_score=reward,
            num_turns=1 + ep.turns + ep.context_turns,
            metrics=AgentLoopMetrics(generate_sequences=ep.generate_s, tool_calls=env_s,
                                     compute_score=float(timings.get("verifier") or 0.0),
                                     num_preempted=ep.num_preempted if ep.num_preempted is not None else -1),
            extra_fields={
                "reward_extra_info": {"verifier_reward": reward, "infra_error": int(masked),
                                      "turns": ep.turns,
                                      "truncated": int(result is not None and result.budget_hit is not None)},
                "turn_scores": [],
                "tool_rewards": [],
                "min_global_steps": ep.min_global_steps if ep.min_global_steps is not None else global_steps,
                "max_global_steps": ep.max_global_steps if ep.max_global_steps is not None else global_steps,
                "claw_task_id": task_id,
                "claw_error": infra_error or "",
            },
        )


def _log_close_error(exc: BaseException) -> None:
    logger.warning("closing the ClawGym env failed: %r", exc)  # a failing close must not lose the trajectory


def _infra_error(result: EpisodeResult) -> str | None:
    """Why the episode's reward cannot train the policy: an infrastructure failure, or a task the
    code verifier cannot score without a rubric judge."""
    if result.infra_error is not None:
        return str(result.infra_error)
    if result.unscored:
        return "the task cannot be scored without a rubric judge (env judge=...)"
    return None


__all__ = ["REWARD_EXTRA_KEYS", "ClawAgentLoop", "ClawLoopSettings", "PromptTooLongError", "env_slots",
           "resolve_settings"]
