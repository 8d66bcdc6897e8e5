"""The episode contract: how an env is configured, what a step and a whole episode return, and
what an infrastructure failure looks like. Every driver (the rollout engine, the veRL agent loop,
the TRL env, the quality gate, ``clawgym run``) speaks these types; ``info`` keeps its keys for
plain gymnasium users.

- :class:`~clawgym_env.tasks.ref.TaskRef` (re-exported here): the one serializable "which task".
- :class:`EnvConfig`: everything :class:`~clawgym_env.env.ClawGymEnv` takes besides the task, frozen
  and serializable (JSON round trip), with the sandbox backend as a typed union. A trainer ships it
  to workers and uses it as a cache key.
- :class:`StepResult`: one env step (an assistant turn, or :meth:`ClawGymEnv.finish`), typed.
- :class:`EpisodeResult`: one whole episode as :func:`clawgym_env.rollout.driver.run_episode`
  returns it (the trajectory record is this plus run bookkeeping).
- :class:`InfraError`: the one shape of "not the agent's fault: drop the sample" (``kind``,
  ``where``, ``message``); ``str()`` of it is what ``info["infra_error"]`` and records hold.

Environment variables stay as defaults under the config: ``CLAWGYM_DOCKER_IMAGE``,
``CLAWGYM_DOCKER_CPUS`` and ``CLAWGYM_DOCKER_POOL`` fill :class:`DockerBackend` fields left as None;
a value set in the config wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clawgym_env.sandbox.base import SandboxConfig
from clawgym_env.sandbox.docker_api import default_cpus, default_image, default_pool_size
from clawgym_env.tasks.ref import TaskRef
from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION, OpenClawVersion
from clawgym_env.verify.code import DEFAULT_TIMEOUT_S

# ---------------------------------------------------------------------------------------- backends


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BwrapBackend(_Frozen):
    """bubblewrap on this host (the default): a per-sandbox uid, namespaces, seccomp, cgroup."""

    kind: Literal["bwrap"] = "bwrap"

    def sandbox_options(self) -> dict[str, Any]:
        return {}


class LocalBackend(_Frozen):
    """No isolation at all (debugging only): commands run as the caller, in a host folder."""

    kind: Literal["local"] = "local"

    def sandbox_options(self) -> dict[str, Any]:
        return {}


class DockerBackend(_Frozen):
    """A docker container per sandbox. Fields left None take ``$CLAWGYM_DOCKER_*``, then defaults."""

    kind: Literal["docker"] = "docker"
    image: str | None = None
    """Image to run; None: ``$CLAWGYM_DOCKER_IMAGE``, else ``clawgym/sandbox:bookworm``."""
    cpus: float | None = Field(default=None, gt=0)
    """CPU quota per container; None: ``$CLAWGYM_DOCKER_CPUS``, else none."""
    pool_size: int | None = Field(default=None, ge=0)
    """Containers kept started in the process-wide pool; None: ``$CLAWGYM_DOCKER_POOL``, else 0 (no pool)."""
    lifetime_s: float | None = Field(default=None, gt=0)
    """Hard lifetime of each container (the reaper enforces it); None: the backend's default."""
    recycle: bool = True
    """Reuse the container between episodes (kill + wipe); False: a new one each episode."""

    def resolved(self) -> DockerBackend:
        """The settings the docker backend will use: fields left None filled the way it fills them
        (``sandbox.docker_api``: the environment variables, then the defaults)."""
        return self.model_copy(update={
            "image": self.image or default_image(),
            "cpus": self.cpus if self.cpus is not None else default_cpus(),
            "pool_size": self.pool_size if self.pool_size is not None else default_pool_size(),
        })

    def sandbox_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`clawgym_env.sandbox.make_sandbox` (None fields left out, so
        the backend's own environment-variable defaults apply)."""
        return self.model_dump(exclude={"kind"}, exclude_none=True)


BackendConfig = Annotated[BwrapBackend | DockerBackend | LocalBackend, Field(discriminator="kind")]
BACKEND_CLASSES: dict[str, type[BwrapBackend | DockerBackend | LocalBackend]] = {
    "bwrap": BwrapBackend, "docker": DockerBackend, "local": LocalBackend,
}


def backend_config(value: str | Mapping[str, Any] | BwrapBackend | DockerBackend | LocalBackend) -> Any:
    """A backend config from its name (``"docker"``), a dict with ``kind`` or a config object."""
    if isinstance(value, (BwrapBackend, DockerBackend, LocalBackend)):
        return value
    if isinstance(value, str):
        kind, fields = value, {}
    elif isinstance(value, Mapping):
        fields = dict(value)
        kind = fields.pop("kind", "bwrap")
    else:
        raise TypeError(f"a backend is a name, a dict or a backend config, not {type(value).__name__}")
    cls = BACKEND_CLASSES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown sandbox backend {kind!r}; choose one of {', '.join(BACKEND_CLASSES)}")
    return cls(**fields)


# ---------------------------------------------------------------------------------------- env config


class EnvConfig(_Frozen):
    """Everything :class:`~clawgym_env.env.ClawGymEnv` takes besides the task. Frozen and JSON
    serializable (:meth:`to_json` / :meth:`from_json`); ``ClawGymEnv(task, config=...)``, or the same
    fields as keyword arguments (:meth:`from_kwargs`). Field meanings: see ``ClawGymEnv``."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    backend: BackendConfig = Field(default_factory=BwrapBackend)
    profile: Literal["coding", "rl", "openclaw"] = "coding"
    openclaw_version: OpenClawVersion = DEFAULT_OPENCLAW_VERSION
    system_prompt_style: Literal["openclaw", "compact"] = "openclaw"
    max_steps: int = Field(default=64, ge=1)
    seed_bootstrap: bool = False
    network: bool | None = None
    score_on_truncation: bool = True
    verifier_timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    exec_timeout_s: float = Field(default=1800.0, gt=0)
    context_window_tokens: int = Field(default=65536, ge=1)
    max_tool_calls_per_step: int | None = Field(default=None, ge=1)
    tool_images: bool = False
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    prestart_next: bool = True
    judge: dict[str, Any] | None = None
    """The rubric judge's ``JudgeConfig`` fields (``base_url``, ``model``, ...), or None."""

    @field_validator("backend", mode="before")
    @classmethod
    def _backend(cls, value: Any) -> Any:
        return backend_config(value)

    @field_validator("judge", mode="before")
    @classmethod
    def _judge(cls, value: Any) -> Any:
        if value is None or isinstance(value, Mapping):
            return None if value is None else dict(value)
        import dataclasses

        if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a JudgeConfig
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        raise TypeError(f"judge must be a JudgeConfig or a dict of its fields, not {type(value).__name__}")

    @field_validator("sandbox", mode="before")
    @classmethod
    def _sandbox(cls, value: Any) -> Any:
        if value is None:
            return SandboxConfig()
        if isinstance(value, Mapping):
            from clawgym_env.sandbox.base import SandboxLimits

            fields = dict(value)
            if isinstance(fields.get("limits"), Mapping):
                fields["limits"] = SandboxLimits(**fields["limits"])
            if "extra_ro_binds" in fields:
                fields["extra_ro_binds"] = tuple(tuple(pair) for pair in fields["extra_ro_binds"])
            return SandboxConfig(**fields)
        return value

    @classmethod
    def from_kwargs(cls, config: EnvConfig | None = None, /, **kwargs: Any) -> EnvConfig:
        """``config`` (or the defaults) with ``ClawGymEnv`` keyword arguments over it;
        ``sandbox_config=`` is accepted for ``sandbox=``. Unknown names raise TypeError."""
        if "sandbox_config" in kwargs:
            kwargs["sandbox"] = kwargs.pop("sandbox_config")
        unknown = set(kwargs) - set(cls.model_fields)
        if unknown:
            raise TypeError(f"unknown ClawGymEnv option(s) {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(cls.model_fields))}")
        if "sandbox" in kwargs and kwargs["sandbox"] is None:
            kwargs["sandbox"] = SandboxConfig()
        if config is None:
            return cls(**kwargs)
        return cls(**{**config.fields(), **kwargs})

    def fields(self) -> dict[str, Any]:
        """The fields as objects (shallow), for ``from_kwargs`` and ``replace``."""
        return {name: getattr(self, name) for name in type(self).model_fields}

    def replace(self, **changes: Any) -> EnvConfig:
        """A copy with ``changes`` applied (validated, unlike ``model_copy``)."""
        return EnvConfig.from_kwargs(self, **changes)

    @property
    def backend_name(self) -> str:
        return self.backend.kind

    def to_json(self) -> str:
        """Stable JSON: the same config always gives the same text (a cache key). The judge's API key
        is left out: it stays in the process (``$OPENAI_API_KEY`` or the config you pass)."""
        data = self.model_dump(mode="json")
        if data.get("judge"):
            data["judge"].pop("api_key", None)
        import json

        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        import json

        return cls(**json.loads(text))


# ---------------------------------------------------------------------------------------- results

InfraKind = Literal["sandbox", "verifier", "judge", "unscored", "env", "agent", "task", "config"]
"""What failed: the agent's sandbox; the verifier's run; the rubric judge; a task no configured
scorer can score; the env itself (a bug, a closed env); the agent or model backend; loading the
task; the driver's settings."""


class InfraError(_Frozen):
    """Infrastructure failed, not the agent: the episode's reward means nothing; drop the sample."""

    kind: InfraKind
    where: str
    """The episode stage: ``task_load``, ``reset``, ``step``, ``finish``, ``agent``, ``close``."""
    message: str
    """The full text (what ``info["infra_error"]`` and trajectory records hold)."""

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_exception(cls, where: str, exc: BaseException, kind: InfraKind | None = None) -> InfraError:
        """``"<where>: <Type> (<exc.kind>): <exc>"``, the text the rollout engine has always recorded."""
        sub = getattr(exc, "kind", None)
        text = f"{where}: {type(exc).__name__}" + (f" ({sub})" if sub else "") + f": {exc}"
        if kind is None:
            from clawgym_env.sandbox.base import SandboxError

            kind = "sandbox" if isinstance(exc, SandboxError) else ("agent" if where == "agent" else "env")
        return cls(kind=kind, where=where, message=text)


class ToolResult(_Frozen):
    """One tool call the env ran in a step."""

    tool_call_id: str
    name: str
    ok: bool
    error_kind: str | None = None
    duration_s: float = 0.0
    content: str = ""
    images: tuple[dict[str, str], ...] = ()
    """Image parts the tool returned (``read`` of an image): ``{"mime_type", "data"}`` (base64)."""

    def info(self) -> dict[str, Any]:
        """The ``info["tool_results"]`` entry (no timing, no text: equal episodes, equal infos)."""
        return {"tool_call_id": self.tool_call_id, "name": self.name, "ok": self.ok, "error_kind": self.error_kind}


class StepResult(BaseModel):
    """What one env step did: the gymnasium 5-tuple's parts, typed, plus what a driver needs that
    ``info`` leaves out (tool timings, the verifier's wall time)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    observation: str
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any]
    tool_results: list[ToolResult] = Field(default_factory=list)
    infra_error: InfraError | None = None
    verifier_s: float | None = None
    scored: bool = False
    """The verifier ran (the episode ended and was scored)."""
    end_reason: str | None = None
    """Why the episode ended, when it did: ``agent_done`` (a turn without tool calls), ``max_steps``,
    ``disk_quota``, ``infra_error`` or the reason given to :meth:`ClawGymEnv.finish`."""

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    def as_gym(self) -> tuple[str, float, bool, bool, dict[str, Any]]:
        return self.observation, self.reward, self.terminated, self.truncated, self.info


BudgetName = Literal["steps", "wall_s", "tokens", "context_length"]


class Budgets(_Frozen):
    """Per-episode limits; None = unlimited. Hitting one truncates the episode and records which.

    ``max_steps`` is the env's own ``max_steps`` (assistant turns). ``wall_s`` bounds the episode
    from the end of ``reset`` (agent turns and tool calls; not task loading, sandbox start or the
    final verification); an agent turn in flight at the deadline is cancelled, a tool call in flight
    runs to its own timeout first. ``total_tokens`` is the sum over turns of the backend's
    ``total_tokens`` (prompt + completion): once reached, no further turn is requested.
    """

    max_steps: int | None = None
    wall_s: float | None = None
    total_tokens: int | None = None


class ToolCallRecord(BaseModel):
    """One tool call the env executed, with what it answered."""

    model_config = ConfigDict(extra="allow")

    turn: int
    """Index of the assistant turn that made the call (0-based)."""
    id: str
    name: str
    arguments: str
    """The arguments as the assistant message carries them (a JSON string, possibly malformed)."""
    result: str
    """The tool result text the model saw next."""
    ok: bool | None = None
    error_kind: str | None = None
    """Why the call failed (``unknown_tool``, ``bad_arguments``, ``validation``, ``tool_error``); None when ok."""
    duration_s: float | None = None


class TurnRecord(BaseModel):
    """One assistant turn: what it cost and how long agent and env took."""

    model_config = ConfigDict(extra="allow")

    index: int
    usage: dict[str, int] = Field(default_factory=dict)
    """Token counts as the backend reported them (``prompt_tokens``, ``completion_tokens``, ...)."""
    agent_s: float = 0.0
    """Wall time of ``agent.act`` (model latency)."""
    env_s: float = 0.0
    """Wall time of ``env.step`` (tool calls; the verifier too on the last turn)."""
    tool_calls: int = 0
    model: str | None = None
    raw: Any = None
    """``AgentTurn.raw``: backend extras (finish reason, token ids, retries), kept as given."""


class EpisodeResult(BaseModel):
    """One whole episode: the conversation, every tool call, the score and what ended it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    task_id: str
    category: str = ""
    messages: list[dict[str, Any]] = Field(default_factory=list)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    turns: list[TurnRecord] = Field(default_factory=list)
    final_message: str | None = None
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    budget_hit: BudgetName | None = None
    scored: bool = False
    verifier: dict[str, Any] | None = None
    subscores: dict[str, Any] | None = None
    code_score: float | None = None
    rubric: dict[str, Any] | None = None
    unscored: bool = False
    infra_error: InfraError | None = None
    error: dict[str, Any] | None = None
    """Details of an infra error raised as an exception: ``where``, ``type``, ``kind``, ``traceback``."""
    usage: dict[str, int] = Field(default_factory=dict)
    tokens: int = 0
    """Sum of the turns' ``total_tokens`` (what the token budget counts)."""
    timings: dict[str, float | None] = Field(default_factory=dict)
    model: str | None = None
    agent_config: dict[str, Any] = Field(default_factory=dict)
    env_config: dict[str, Any] = Field(default_factory=dict)
    final_info: dict[str, Any] | None = None
    """The env's ``info`` of the step that ended the episode (None when none did)."""

    @property
    def steps(self) -> int:
        return len(self.turns)

    @property
    def usable(self) -> bool:
        """A reward a learner can use: scored, no infra error, not a judge-only task left unjudged."""
        return self.scored and self.infra_error is None and not self.unscored


__all__ = [
    "BACKEND_CLASSES", "BackendConfig", "BudgetName", "Budgets", "BwrapBackend", "DockerBackend", "EnvConfig",
    "EpisodeResult", "InfraError", "InfraKind", "LocalBackend", "StepResult", "TaskRef", "ToolCallRecord",
    "ToolResult", "TurnRecord", "backend_config",
]
