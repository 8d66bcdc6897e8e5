"""ClawGym tasks as a TRL ``environment_factory``: GRPO over real sandboxes with the verifier as reward.

    from trl import GRPOConfig, GRPOTrainer
    from clawgym_env.integrations.trl_env import ClawGymTRLEnv, make_dataset

    trainer = GRPOTrainer(model, args=GRPOConfig(...), train_dataset=make_dataset(64),
                          environment_factory=ClawGymTRLEnv)     # reward_funcs optional: get_reward() is one

How TRL (1.16) drives this class (``trl/trainer/grpo_trainer.py``):

* It builds instances with no arguments (use ``functools.partial(ClawGymTRLEnv, backend=...)`` to configure
  them), pools them (one per rollout in a batch, reused across batches) and calls ``reset(**row)`` with the
  whole dataset row before each rollout.
* Every public *function* of the class except ``reset`` and ``get_reward`` is a tool; its schema comes from
  the docstring and type hints (``transformers.utils.get_json_schema``). So the public functions here are
  exactly OpenClaw's coding tools ``read``, ``write``, ``edit``, ``exec``, ``process``; ``close`` is wrapped so
  TRL does not see it (see ``_NotATool``).
* A tool call ``{"name": "read", "arguments": {...}}`` parsed from the model's text becomes
  ``env.read(**arguments)``; the returned string is the tool message the model sees next (TRL masks those
  tokens out of the loss with ``tool_mask``). Each call is one real ``ClawGymEnv.step`` with a tool-call dict,
  so the text is exactly what the env (OpenClaw's tool surface) answers, errors included.
* When the rollout ends (no tool call, ``max_tool_calling_iterations`` or ``max_completion_length`` reached)
  TRL calls ``get_reward()``: that ends the episode with ``ClawGymEnv.finish`` (no assistant turn is added), so
  the task's verifier runs and its reward is returned (logged as ``rewards/ClawGymTRLEnv/mean``).

TRL inverts control (it calls the tools, one at a time, and asks for the reward at the end), so this class
drives a :class:`~clawgym_env.rollout.driver.Episode` step by step, the state
:func:`~clawgym_env.rollout.driver.run_episode` keeps for every other driver: the same typed steps, infra
errors and results.

Prompt split (see :func:`make_dataset`): the dataset's ``prompt`` holds OpenClaw's system prompt and an
empty user message; ``reset`` returns the task's user request, which TRL appends to that user message. So
the model sees what OpenClaw would show (system prompt + the request as the user turn), the env stays the
single source of the task text, and a row can name any task (built-in id, registered id, task folder).

Tool schemas. The docstrings are generated from our OpenClaw schemas (``clawgym_env.tools.schemas``) and the
signatures use OpenClaw's parameter names, aliases included (``file_path``, ``oldText``/``old_string``, ...), in
the same order, with the same required set. ``get_json_schema`` cannot express everything, so TRL's schemas
differ from ``tool_schemas("coding")`` in these ways only (``tests/test_trl_env.py`` pins them):

* the order of the tools: TRL lists a class's tools alphabetically (``inspect.getmembers``): edit, exec,
  process, read, write; OpenClaw's order is read, write, edit, exec, process;
* key order inside the JSON (``type`` before ``description`` in each property, ``properties`` before
  ``required``): the same objects, rendered as different text;
* ``required`` is omitted when empty (``read``, ``edit``) instead of ``[]``;
* ``exec.env`` is ``{"type": "object", "additionalProperties": {"type": "string"}}`` with a description
  (OpenClaw: ``patternProperties {"^(.*)$": string}``, no description);
* ``process.timeout`` loses ``"minimum": 0``.

Optional parameters default to a private sentinel (not ``None``) so that the schema has no ``nullable`` and
an explicit JSON ``null`` from the model is forwarded to the env as OpenClaw would receive it. Arguments a
schema does not list are forwarded too (OpenClaw ignores unknown properties; a plain Python signature would
raise ``TypeError``).

Differences from the env's own rollouts. TRL runs every tool call of a turn; each is its own env step, so
``max_tool_calls_per_step`` does not apply and the transcript given to the verifier has one assistant message
per call. ``get_reward`` takes no arguments, so the verifier's payload has ``final_message`` = ``""`` (the
built-in verifiers do not read it; of the 2,200 released train tasks one does, and it reads ``user_query``).

Infrastructure errors (the sandbox dies or cannot start, the verifier cannot run) and tasks the code
verifier cannot score (judge-only rubrics without a judge) are not zeros: the tool calls answer
``[clawgym infra error] ...``, a warning is logged, and ``get_reward`` returns ``infra_error_reward``
(default NaN). TRL 1.16 treats NaN like ``None``: the rollout is "unscorable", left out of its group's
baseline and of the logged reward means, and its advantage is set to 0, i.e. the sample is dropped from
learning as the README asks. Pass ``infra_error_reward=0.0`` for the ClawGym authors' behaviour (reward 0 so
groups stay full).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Self

from clawgym_env.episode import EnvConfig, StepResult
from clawgym_env.rollout.driver import Episode
from clawgym_env.tasks import Task
from clawgym_env.tools.schemas import CODING_TOOL_NAMES, schema_for
from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION, check_openclaw_version

__all__ = ["TOOL_NAMES", "ClawGymTRLEnv", "ClawGymTRLEnv41", "make_dataset", "resolve_task", "trl_env_class",
           "trl_tool_schemas"]

logger = logging.getLogger(__name__)

TOOL_NAMES: tuple[str, ...] = CODING_TOOL_NAMES
"""The tools the class exposes: OpenClaw's ``coding`` profile (read, write, edit, exec, process)."""

INFRA_PREFIX = "[clawgym infra error]"

# get_json_schema needs a description for every parameter; OpenClaw's schema has none for these.
_EXTRA_DESCRIPTIONS = {("exec", "env"): "Environment variables to set for the command (name to value)"}


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()
"""Default of every optional tool parameter, meaning "the model did not pass it": ``None`` is a value the model
may send (JSON null), and annotating ``X | None`` would add ``"nullable": true`` to the schema."""


def _openclaw_tool(fn: Callable[..., str], version: str = DEFAULT_OPENCLAW_VERSION) -> Callable[..., str]:
    """Give a tool method OpenClaw's description and parameter docs (Google style, for ``get_json_schema``),
    check its signature against that OpenClaw version's schema, and hide its ``**extra`` from the schema."""
    name = fn.__name__
    spec = schema_for(name, version)["function"]
    props: dict[str, Any] = spec["parameters"]["properties"]
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    named = [p for p in params if p.name != "self"]
    required = [p.name for p in named if p.default is inspect.Parameter.empty]
    if [p.name for p in named] != list(props) or set(required) != set(spec["parameters"].get("required", [])):
        raise RuntimeError(f"ClawGymTRLEnv.{name}{sig} does not match OpenClaw's {name} schema "
                           f"(properties {list(props)}, required {spec['parameters'].get('required')})")
    lines = [spec["description"], "", "Args:"]
    for pname, pspec in props.items():
        desc = pspec.get("description") or _EXTRA_DESCRIPTIONS[(name, pname)]
        lines.append(f"    {pname}: {' '.join(desc.split())}")
    fn.__doc__ = "\n".join(lines)
    fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    fn.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k in {p.name for p in named}}
    return fn


class _NotATool:
    """A method TRL must not offer the model: TRL takes every ``inspect.isfunction`` member of the class as a
    tool, and this descriptor is not a function on the class (it binds like one on instances)."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        return self if obj is None else self.fn.__get__(obj, objtype)


# ---------------------------------------------------------------------------------------------- task lookup
@functools.lru_cache(maxsize=4096)
def _resolve(spec: str) -> tuple[Task, tuple[tuple[str, Any], ...]]:
    import clawgym_env  # noqa: F401  (registers the built-in suite)
    from clawgym_env.registration import resolve_task_spec

    task, defaults = resolve_task_spec(spec)
    return task, tuple(sorted(defaults.items()))


def resolve_task(spec: str | os.PathLike[str]) -> tuple[Task, dict[str, Any]]:
    """The Task a dataset row names, and the env defaults its registration carries.

    ``spec``: a registered gym id (``ClawGym/task-0042``, or ``ClawGym/task_0009`` after ``register_suite``),
    ``builtin:task-0042``, ``SUITE_DIR:TASK_ID`` or a task folder path. Raises for unknown tasks (a bad
    dataset is not an infrastructure error)."""
    task, defaults = _resolve(os.fspath(spec))
    return task, dict(defaults)


# ---------------------------------------------------------------------------------------------- the env
class ClawGymTRLEnv:
    """One ClawGym episode per TRL rollout; the public methods are OpenClaw's coding tools.

    Args:
        task_column: the dataset column naming the task (see :func:`resolve_task` for the forms).
        infra_error_reward: what ``get_reward`` returns after an infrastructure error or for a task the
            code verifier cannot score. NaN (default): TRL drops the sample from learning; 0.0: the
            ClawGym authors' choice.
        episode_log: a JSONL file to append one record per scored episode to (task, reward, infra error,
            tool calls, subscores, timings); None = no log.
        **env_kwargs: ``ClawGymEnv`` options (``backend``, ``max_steps``, ``exec_timeout_s``,
            ``verifier_timeout_s``, ``sandbox_config``, ``judge``, ...), over the task's registered
            defaults. ``profile`` is always ``coding`` and ``openclaw_version`` the class's (2026.3.24 here;
            :class:`ClawGymTRLEnv41` for 2026.4.1); ``max_steps`` (tool calls + the final step)
            defaults to 1024 because TRL bounds the episode (``max_tool_calling_iterations``,
            ``max_completion_length``); ``prestart_next`` defaults to False because a pooled instance
            usually gets a different task next.
    """

    openclaw_version: str = DEFAULT_OPENCLAW_VERSION
    """Whose schemas the tool methods carry (their signatures are checked against them at import)."""

    def __init__(self, *, task_column: str = "task_id", infra_error_reward: float = math.nan,
                 episode_log: str | os.PathLike[str] | None = None, **env_kwargs: Any):
        if env_kwargs.get("profile", "coding") != "coding":
            raise ValueError("ClawGymTRLEnv exposes the coding tools only (profile='coding')")
        if env_kwargs.get("openclaw_version", self.openclaw_version) != self.openclaw_version:
            raise ValueError(f"{type(self).__name__}'s tool methods carry OpenClaw {self.openclaw_version}'s schemas; "
                             f"for {env_kwargs['openclaw_version']} use trl_env_class({env_kwargs['openclaw_version']!r})")
        self.task_column = task_column
        self.infra_error_reward = float(infra_error_reward)
        self.episode_log = Path(episode_log) if episode_log is not None else None
        self.env_kwargs: dict[str, Any] = {"max_steps": 1024, "prestart_next": False, **env_kwargs,
                                           "profile": "coding", "openclaw_version": self.openclaw_version}
        EnvConfig.from_kwargs(**self.env_kwargs)  # bad options fail here, not at the first reset
        self._env: Any = None  # ClawGymEnv
        self._env_key: tuple[Any, ...] | None = None
        self._episode: Episode | None = None
        self._spec: str | None = None
        self._final: float | None = None  # what get_reward returned
        self._started = 0.0
        self.infra_error: str | None = None
        """Why the current episode cannot be scored (None when it can)."""
        self.last_info: dict[str, Any] | None = None
        """The env's final ``info`` of the last scored episode (verifier result, subscores, messages)."""
        self.episodes = 0
        """Episodes scored by this instance."""

    # ------------------------------------------------------------------ TRL's hooks
    def reset(self, **row: Any) -> str:
        """Start the episode for ``row[task_column]``; returns the task's user request (TRL appends it to the
        prompt's last user message). The previous episode's env is reused for the same task and settings
        (unless it hit an infrastructure error), else closed."""
        spec = row.get(self.task_column)
        if spec is None:
            raise KeyError(f"the dataset row has no {self.task_column!r} column (columns: {sorted(row)})")
        task, defaults = resolve_task(spec)
        config = EnvConfig.from_kwargs(**{**defaults, **self.env_kwargs})
        if self.infra_error is not None:  # the last episode broke its env: start from a fresh one
            self._close_env()
        self._spec = os.fspath(spec)
        self._final = None
        self.infra_error = None
        self.last_info = None
        self._started = time.monotonic()
        key = (task.task_id, task.source, config.to_json())
        try:
            if self._env is None or self._env_key != key:
                self._close_env()
                from clawgym_env.env import ClawGymEnv

                self._env = ClawGymEnv(task, config=config)
                self._env_key = key
            self._episode = Episode(task.task_id, self._env)
            return self._episode.reset()
        except Exception as exc:  # noqa: BLE001 - the sandbox failed to start: an infra error, not a crash
            self._episode = None
            self._infra(f"reset failed: {type(exc).__name__}: {exc}")
            self._close_env()
            return task.user_query

    def get_reward(self) -> float:
        """End the episode (``ClawGymEnv.finish``: no assistant turn is added), run the task's verifier and
        return its reward; ``infra_error_reward`` if the episode hit an infrastructure error. Idempotent."""
        if self._final is not None:
            return self._final
        episode = self._episode
        if episode is None or self._env is None:
            self._infra(self.infra_error or "get_reward() without a reset()")
        elif episode.final is None and self.infra_error is None:
            self._run(lambda: episode.finish("get_reward"))
        reward = self.infra_error_reward if self.infra_error is not None or episode is None else episode.reward
        self._final = reward
        self.episodes += 1
        self._log_episode(reward)
        return reward

    # ------------------------------------------------------------------ the tools (OpenClaw's coding profile)
    # Docstrings come from OpenClaw's schemas (see _openclaw_tool); parameter names, order and the required
    # set are OpenClaw's, aliases included. No return annotation: get_json_schema would add a "return" key.
    @_openclaw_tool
    def read(self, path: str = _UNSET, offset: float = _UNSET, limit: float = _UNSET, file_path: str = _UNSET,
             filePath: str = _UNSET, file: str = _UNSET, **extra: Any):
        return self._call("read", locals())

    @_openclaw_tool
    def write(self, *, path: str = _UNSET, content: str, file_path: str = _UNSET, filePath: str = _UNSET,
              file: str = _UNSET, **extra: Any):
        return self._call("write", locals())

    @_openclaw_tool
    def edit(self, path: str = _UNSET, oldText: str = _UNSET, newText: str = _UNSET, file_path: str = _UNSET,
             filePath: str = _UNSET, file: str = _UNSET, old_string: str = _UNSET, old_text: str = _UNSET,
             oldString: str = _UNSET, new_string: str = _UNSET, new_text: str = _UNSET, newString: str = _UNSET,
             **extra: Any):
        return self._call("edit", locals())

    @_openclaw_tool
    def exec(self, command: str, workdir: str = _UNSET, env: dict[str, str] = _UNSET, yieldMs: float = _UNSET,
             background: bool = _UNSET, timeout: float = _UNSET, pty: bool = _UNSET, elevated: bool = _UNSET,
             host: str = _UNSET, security: str = _UNSET, ask: str = _UNSET, node: str = _UNSET,
             **extra: Any):
        return self._call("exec", locals())

    @_openclaw_tool
    def process(self, action: str, sessionId: str = _UNSET, data: str = _UNSET, keys: list[str] = _UNSET,
                hex: list[str] = _UNSET, literal: str = _UNSET, text: str = _UNSET, bracketed: bool = _UNSET,
                eof: bool = _UNSET, offset: float = _UNSET, limit: float = _UNSET, timeout: float = _UNSET,
                **extra: Any):
        return self._call("process", locals())

    # ------------------------------------------------------------------ lifecycle (hidden from TRL)
    @_NotATool
    def close(self) -> None:
        """Close the episode's env and sandbox. Safe to call twice; ``reset`` reopens."""
        self._close_env()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._close_env()
        except Exception as exc:  # noqa: BLE001 - e.g. at interpreter shutdown
            logger.debug("closing a ClawGymTRLEnv in __del__ failed: %s", exc)

    @property
    def env(self) -> Any:
        """The live ``ClawGymEnv`` (for tests and tooling; the model never gets it)."""
        return self._env

    @property
    def task_id(self) -> str | None:
        """The current row's task spec."""
        return self._spec

    # ------------------------------------------------------------------ internals
    def _call(self, name: str, local_vars: Mapping[str, Any]) -> str:
        arguments = {k: v for k, v in local_vars.items() if k not in ("self", "extra") and v is not _UNSET}
        arguments.update(local_vars.get("extra") or {})
        if self.infra_error is not None:
            return f"{INFRA_PREFIX} {self.infra_error}"
        episode = self._episode
        if self._env is None or episode is None:
            return "Error: no episode is running (reset() was not called)."
        if episode.final is not None:
            return "Error: the episode is over; tool calls no longer run."
        return self._run(lambda: episode.step({"name": name, "arguments": arguments}))

    def _run(self, step: Callable[[], StepResult]) -> str:
        """One env step of the episode (a tool call, or the finish); the tool text, or the infra error's."""
        try:
            result = step()
        except Exception as exc:  # noqa: BLE001 - env bugs and dead sandboxes end the episode as infra errors
            self._infra(f"step failed: {type(exc).__name__}: {exc}")
            return f"{INFRA_PREFIX} {self.infra_error}"
        if result.infra_error is not None:
            self._infra(str(result.infra_error))
            return f"{INFRA_PREFIX} {self.infra_error}"
        if result.done:
            self.last_info = result.info
            if result.info.get("unscored"):
                self._infra("the task's rubric needs a judge and none is configured (unscored)")
            elif not result.scored:  # truncated without scoring (score_on_truncation=False)
                self._infra("the episode was truncated without scoring")
        return result.observation

    def _infra(self, message: str) -> None:
        if self.infra_error is None:
            self.infra_error = message
            logger.warning("ClawGym infra error (task %s): %s", self._spec, message)

    def _close_env(self) -> None:
        env, self._env, self._env_key, self._episode = self._env, None, None, None
        if env is not None:
            env.close()

    def _log_episode(self, reward: float) -> None:
        if self.episode_log is None:
            return
        info = self.last_info or {}
        record = {
            "task": self._spec, "reward": None if math.isnan(reward) else reward, "infra_error": self.infra_error,
            "tool_calls": len(self._episode.tool_calls) if self._episode is not None else 0,
            "steps": info.get("step"), "subscores": info.get("subscores"),
            "verifier_reason": (info.get("verifier") or {}).get("reason"),
            "duration_s": round(time.monotonic() - self._started, 3),
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with _LOG_LOCK:
            self.episode_log.parent.mkdir(parents=True, exist_ok=True)
            with self.episode_log.open("a", encoding="utf-8") as fh:
                fh.write(line)


_LOG_LOCK = threading.Lock()


class ClawGymTRLEnv41(ClawGymTRLEnv):
    """:class:`ClawGymTRLEnv` with OpenClaw 2026.4.1's tools (ClawGym-RL's image): ``edit`` takes ``edits[]``
    (the legacy top-level ``oldText``/``newText`` fail validation, as in 4.1), ``exec`` has 4.1's texts."""

    openclaw_version = "2026.4.1"

    @functools.partial(_openclaw_tool, version="2026.4.1")
    def edit(self, *, path: str = _UNSET, edits: list[dict[str, str]], file_path: str = _UNSET,
             filePath: str = _UNSET, file: str = _UNSET, **extra: Any):
        return self._call("edit", locals())

    @functools.partial(_openclaw_tool, version="2026.4.1")
    def exec(self, command: str, workdir: str = _UNSET, env: dict[str, str] = _UNSET, yieldMs: float = _UNSET,
             background: bool = _UNSET, timeout: float = _UNSET, pty: bool = _UNSET, elevated: bool = _UNSET,
             host: str = _UNSET, security: str = _UNSET, ask: str = _UNSET, node: str = _UNSET,
             **extra: Any):
        return self._call("exec", locals())


def trl_env_class(openclaw_version: str = DEFAULT_OPENCLAW_VERSION) -> type[ClawGymTRLEnv]:
    """The TRL environment class whose tool methods carry that OpenClaw version's schemas."""
    return {"2026.3.24": ClawGymTRLEnv, "2026.4.1": ClawGymTRLEnv41}[check_openclaw_version(openclaw_version)]


def trl_tool_schemas(env: ClawGymTRLEnv | None = None) -> list[dict[str, Any]]:
    """The tool schemas TRL renders for this class: its public functions as TRL finds them, through
    ``transformers.utils.get_json_schema`` (what ``apply_chat_template(tools=[callables])`` calls)."""
    from transformers.utils import get_json_schema

    env = env if env is not None else ClawGymTRLEnv()
    return [get_json_schema(getattr(env, name))
            for name, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
            if name not in ("reset", "get_reward") and not name.startswith("_")]


# ---------------------------------------------------------------------------------------------- the dataset
def _system_prompt(task: Task, style: str = "openclaw") -> str:
    from clawgym_env.env import ClawGymEnv

    env = ClawGymEnv(task, profile="coding", system_prompt_style=style)  # builds no sandbox until reset
    try:
        return env.system_prompt
    finally:
        env.close()


def make_dataset(ids: int | str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, task_column: str = "task_id",
                 system_prompt: str | None = None, system_prompt_style: str = "openclaw", start: int = 0) -> Any:
    """A ``datasets.Dataset`` for ``GRPOTrainer(..., environment_factory=ClawGymTRLEnv)``.

    Args:
        ids: task specs (``ClawGym/task-0042``, ``builtin:task-0042``, ``SUITE_DIR:TASK_ID``, a task folder;
            one or a list), or a count N for the built-in tasks ``start`` .. ``start + N - 1``.
        task_column: the column holding the spec (``ClawGymTRLEnv(task_column=...)`` must agree).
        system_prompt: the system message; default OpenClaw's system prompt for the coding tools (what
            ``ClawGymEnv.system_prompt`` is for every task).
        system_prompt_style: without ``system_prompt``: ``"openclaw"`` (OpenClaw's prompt, ~5.3K SmolLM2
            tokens) or ``"compact"`` (the same tools and rules in ~260 tokens, for small-context models; pass
            the same ``system_prompt_style`` to ``ClawGymTRLEnv`` so the env's transcript agrees).
        start: the first built-in index when ``ids`` is a count.

    Returns:
        Columns ``prompt`` (conversational: ``[{"role": "system", ...}, {"role": "user", "content": ""}]``;
        ``reset`` returns the task's request, which TRL appends to the user message) and ``task_column``.
        Every task is resolved here, so a bad id fails now rather than mid-training.
    """
    from datasets import Dataset

    if isinstance(ids, (str, os.PathLike)):
        ids = [ids]
    if isinstance(ids, int):
        specs = [f"ClawGym/task-{i:04d}" for i in range(start, start + ids)]
    else:
        specs = [os.fspath(s) for s in ids]
    if not specs:
        raise ValueError("make_dataset needs at least one task")
    tasks = [resolve_task(s)[0] for s in specs]
    system = system_prompt if system_prompt is not None else _system_prompt(tasks[0], system_prompt_style)
    rows = [{"prompt": [{"role": "system", "content": system}, {"role": "user", "content": ""}], task_column: s}
            for s in specs]
    return Dataset.from_list(rows)
