"""Agent config files (``clawgym eval --agent-config agents/NAME.yaml``): one YAML per model recipe.

A file names the agent kind, the model, where it is served, the API key's variable, the sampling
settings and the episode budget, so a recipe (the authors' Qwen3 sampling on a vLLM server, say) is
written once and not retyped as a dozen flags. Flags given on the command line win over the file.

:func:`load_agent_config` parses and checks a file; :meth:`AgentConfig.resolve` merges the flags in
and checks what only the machine can tell (an unset variable, a missing path);
:func:`resolve_agent_config` does both and reports every problem of both at once, one line each,
in an :class:`AgentConfigError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from clawgym_env.agents import AgentOptionError, check_agent_options

__all__ = ["AgentConfig", "AgentConfigError", "ResolvedAgent", "Sampling", "load_agent_config", "resolve_agent_config"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class AgentConfigError(AgentOptionError):
    """A config file that cannot run: every problem, one per line."""

    def __init__(self, path: str | os.PathLike[str], problems: list[str]):
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"agent config {self.path}: {len(problems)} problem(s):\n{lines}")


class Sampling(BaseModel):
    """Sampling settings sent with every request. ``temperature``, ``top_p`` and ``max_tokens`` are
    OpenAI parameters; ``top_k``, ``min_p`` and ``repetition_penalty`` are vLLM/SGLang extras (sent
    in the request body; the ``hf`` agent takes none of them)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, gt=0)
    top_k: int | None = None
    min_p: float | None = Field(default=None, ge=0, le=1)
    repetition_penalty: float | None = Field(default=None, gt=0)
    presence_penalty: float | None = None


class AgentConfig(BaseModel):
    """One agent recipe. Relative paths (``launcher``, a ``chat_template`` file, a local ``model``
    folder) are relative to the file; ``base_url`` may use ``${VAR}`` and ``${VAR:-default}``."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    agent: Literal["openai", "hf"]
    model: str = Field(min_length=1)
    """openai: the served model name (vLLM's --served-model-name); hf: a local folder or a hub id."""
    base_url: str | None = None
    """openai: the API root, e.g. ``http://127.0.0.1:8000/v1``."""
    api_key_env: str | None = None
    """openai: the variable holding the API key; it must be set. None: the key "EMPTY" (local servers)."""
    sampling: Sampling = Field(default_factory=Sampling)
    chat_template: str | None = None
    """hf: a TRL template name (``qwen2_5``) or a ``.jinja`` file. An OpenAI-compatible server applies
    its own: give the file to the launcher (``vllm serve --chat-template``)."""
    chat_template_kwargs: dict[str, Any] | None = None
    """Extra chat-template variables (``{"enable_thinking": false}`` for Qwen3's hybrid models)."""
    context_length: int | None = Field(default=None, gt=0)
    """The model's context window: the launcher's ``--max-model-len`` (openai), the HF agent's limit (hf)."""
    max_steps: int | None = Field(default=None, gt=0)
    """Assistant turns per episode (``--max-steps``)."""
    launcher: str | None = None
    """The script that serves the model (openai recipes for local servers)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """More agent constructor options (``--agent-option``): ``timeout_s``, ``max_retries``, ``device``, ..."""

    _source: Path | None = PrivateAttr(default=None)
    """The file this config came from, resolved (set by :func:`load_agent_config`)."""
    _label: str = PrivateAttr(default="(inline)")
    """That file as the user named it, for messages."""

    @property
    def source(self) -> Path | None:
        return self._source

    def _path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() or self._source is None else self._source.parent / p

    def resolve(self, *, agent: str | None = None, model: str | None = None, base_url: str | None = None,
                api_key: str | None = None, temperature: float | None = None, max_tokens: int | None = None,
                max_steps: int | None = None, chat_template: str | None = None,
                options: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> ResolvedAgent:
        """The settings a run uses: the file's, with every non-None argument (a command-line flag)
        in their place; raises :class:`AgentConfigError` listing every problem left."""
        env = os.environ if environ is None else environ
        problems: list[str] = []
        kind = agent or self.agent
        if kind != self.agent:
            problems.append(f"agent: the file is for --agent {self.agent}, not {kind}")
        s = self.sampling
        opts: dict[str, Any] = {}
        url = base_url
        key = api_key
        if kind == "openai":
            before = len(problems)
            if url is None and self.base_url is not None:
                url = _expand(self.base_url, env, problems, "base_url")
            if not url and len(problems) == before:
                problems.append("base_url: missing (give it in the file or --base-url); a local vLLM server "
                                "is http://127.0.0.1:8000/v1")
            if key is None and self.api_key_env:
                key = env.get(self.api_key_env) or None
                if key is None:
                    problems.append(f"api_key_env: ${self.api_key_env} is not set (export it, or give --api-key)")
            if s.top_p is not None:
                opts["top_p"] = s.top_p
            extra = {k: v for k, v in (("top_k", s.top_k), ("min_p", s.min_p),
                                       ("repetition_penalty", s.repetition_penalty),
                                       ("presence_penalty", s.presence_penalty),
                                       ("chat_template_kwargs", self.chat_template_kwargs)) if v is not None}
            if extra:
                opts["extra_body"] = extra
            if self.chat_template and chat_template is None:
                problems.append("chat_template: an OpenAI-compatible server applies its own template; give "
                                "the file to the launcher (vllm serve --chat-template FILE) instead")
        else:  # hf
            if self.base_url is not None and base_url is None:
                problems.append("base_url: the hf agent runs the model in this process; it takes no base_url")
            if self.api_key_env:
                problems.append("api_key_env: the hf agent runs the model in this process; it takes no API key")
            for name in ("top_k", "min_p", "repetition_penalty", "presence_penalty"):
                if getattr(s, name) is not None:
                    problems.append(f"sampling.{name}: the hf agent samples with temperature and top_p only")
            if s.top_p is not None:
                opts["top_p"] = s.top_p
            if self.chat_template_kwargs is not None:
                opts["chat_template_kwargs"] = self.chat_template_kwargs
            if self.context_length is not None:
                opts["context_length"] = self.context_length
        template = chat_template if chat_template is not None else self.chat_template
        if template is not None and kind == "hf" and _looks_like_path(template):
            path = self._path(template) if chat_template is None else Path(template).expanduser()
            if not path.is_file():
                problems.append(f"chat_template: no such file: {path}")
            template = str(path)
        name = model or self.model
        if kind == "hf" and model is None and _looks_like_path(name):
            path = self._path(name)
            if not path.exists():
                problems.append(f"model: no such folder: {path} (a local model folder, or a hub id like "
                                "Qwen/Qwen3-4B-Instruct-2507)")
            name = str(path)
        if self.launcher is not None and not self._path(self.launcher).is_file():
            problems.append(f"launcher: no such file: {self._path(self.launcher)}")
        opts.update(self.options)
        opts.update(options or {})
        try:
            check_agent_options(kind, opts)
        except AgentOptionError as exc:
            problems.append(f"options: {str(exc).removeprefix('--agent-option ')}")
        if problems:
            raise AgentConfigError(self._label, problems)
        return ResolvedAgent(agent=kind, model=name, base_url=url if kind == "openai" else None,
                             api_key=key, temperature=temperature if temperature is not None else s.temperature,
                             max_tokens=max_tokens if max_tokens is not None else s.max_tokens,
                             max_steps=max_steps or self.max_steps, chat_template=template, options=opts)


class ResolvedAgent(BaseModel):
    """What ``clawgym eval`` runs after a config file and the flags are merged."""

    agent: str
    model: str
    base_url: str | None = None
    api_key: str | None = Field(default=None, repr=False)
    temperature: float | None = None
    max_tokens: int | None = None
    max_steps: int | None = None
    chat_template: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The settings, the API key masked (for printing)."""
        data = self.model_dump()
        data["api_key"] = None if self.api_key is None else "***"
        return data


def load_agent_config(path: str | os.PathLike[str]) -> AgentConfig:
    """Parse and check ``path``; an :class:`AgentConfigError` names each unknown key, missing key
    and bad value (``sampling.temprature: unknown key``), all at once."""
    data = _read(path)
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as exc:
        raise AgentConfigError(path, [_describe(e) for e in exc.errors()]) from None
    return _placed(config, path)


def resolve_agent_config(path: str | os.PathLike[str], **flags: Any) -> ResolvedAgent:
    """:func:`load_agent_config`, then :meth:`AgentConfig.resolve` with ``flags``; a file with
    schema errors still gets the machine's checks on its other keys, so one run names every problem."""
    data = _read(path)
    try:
        config = AgentConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
        if "agent" not in bad:  # the rest can still be checked against this machine
            rest = {k: v for k, v in data.items() if k not in bad}
            rest.setdefault("model", "(missing)")
            try:
                _placed(AgentConfig.model_validate(rest), path).resolve(**flags)
            except AgentConfigError as more:
                problems += [x for x in more.problems if x not in problems]
            except ValidationError:
                pass
        raise AgentConfigError(path, problems) from None
    return _placed(config, path).resolve(**flags)


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise AgentConfigError(path, [f"no such file (the recipes are in agents/: {_recipes_hint()})"])
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AgentConfigError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise AgentConfigError(path, ["the file must hold a mapping (agent: ..., model: ..., ...)"])
    return data


def _placed(config: AgentConfig, path: str | os.PathLike[str]) -> AgentConfig:
    config._source = Path(path).resolve()
    config._label = str(path)
    return config


def _describe(error: Any) -> str:
    """One pydantic error as ``where: what``, in the words of a config file."""
    where = ".".join(str(x) for x in error["loc"]) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = AgentConfig if len(error["loc"]) == 1 else Sampling if error["loc"][0] == "sampling" else None
        known = f" (known keys: {', '.join(parent.model_fields)})" if parent else ""
        return f"{where}: unknown key{known}"
    if kind == "missing":
        what = {"agent": "openai (an OpenAI-compatible server) or hf (a local transformers model)",
                "model": "the served model name (openai) or a model folder / hub id (hf)"}.get(where, "")
        return f"{where}: missing" + (f": {what}" if what else "")
    return f"{where}: {error['msg']} (got {error.get('input')!r})"


def _expand(value: str, env: Mapping[str, str], problems: list[str], where: str) -> str:
    """``${VAR}`` and ``${VAR:-default}`` in ``value``; an unset variable without a default is a problem."""
    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if env.get(name):
            return env[name]
        if default is None:
            problems.append(f"{where}: ${{{name}}} is not set (export it, or give --{where.replace('_', '-')})")
            return ""
        return default

    return _VAR.sub(sub, value)


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or value.endswith(".jinja")


def _recipes_hint() -> str:
    here = Path(__file__).resolve().parents[2] / "agents"
    names = sorted(p.name for p in here.glob("*.yaml")) if here.is_dir() else []
    return ", ".join(names) or "none found"
