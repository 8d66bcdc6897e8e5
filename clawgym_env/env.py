"""ClawGymEnv: one ClawGym task as a ``gymnasium.Env`` over a real sandbox.

An episode: ``reset`` restores the task's initial workspace in a sandbox and returns the user
request; each ``step`` takes one assistant turn (tool calls), runs them through OpenClaw-compatible
tools inside the sandbox and returns their results as the next observation. An assistant turn with
no tool call ends the episode (OpenClaw's rule) and the task's code verifier gives the reward.

The agent only sees tools: nothing it can call reaches reset/step, the verifier files or the host.
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future
from typing import Any

import gymnasium as gym
from gymnasium.spaces import Text
from pydantic import ValidationError

from clawgym_env.episode import EnvConfig, InfraError, StepResult, ToolResult
from clawgym_env.paths import WORKSPACE
from clawgym_env.sandbox import SandboxError, ServerSandbox, make_sandbox, starter
from clawgym_env.sandbox.quota import WorkspaceUsage, disk_quota_error
from clawgym_env.tasks import Task, TaskSource, open_source
from clawgym_env.tasks.files import InputData
from clawgym_env.tools import (
    ToolBox,
    ToolContext,
    bootstrap_files,
    build_compact_system_prompt,
    build_system_prompt,
    parse_action,
)
from clawgym_env.tools.jsjson import well_formed
from clawgym_env.transcript import to_openclaw_session
from clawgym_env.verify.code import VerifierResult, run_code_verifier
from clawgym_env.verify.hybrid import combine, rubric_plan
from clawgym_env.verify.rubric import JUDGE_FILES, JudgeConfig, RubricJudge
from clawgym_env.workers import Lane, run_detached

MAX_TEXT = 4_000_000
_PRINTABLE = "".join(chr(c) for c in range(32, 127)) + "\n\t"


class TextSpace(Text):
    """Any Python string up to ``max_length`` characters (gymnasium's Text limits the charset).

    Subclassing Text keeps gymnasium's vector utilities (batch_space, concatenate) working.
    """

    def __init__(self, max_length: int = MAX_TEXT, seed: int | None = None):
        super().__init__(max_length=max_length, min_length=0, charset=_PRINTABLE, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A short random printable string (as an action: a plain reply that ends the episode)."""
        length = int(self.np_random.integers(0, 64))
        chars = self.np_random.choice(list(_PRINTABLE), size=length)
        return "".join(chars)

    def __repr__(self) -> str:
        return f"TextSpace(max_length={self.max_length})"


class ClawGymEnv(gym.Env[str, Any]):
    """A ClawGym task as a Gymnasium environment.

    ``ClawGymEnv(task, config=EnvConfig(...))``, or the config's fields as keyword arguments
    (``ClawGymEnv(task, backend="docker", max_steps=32)``; keywords override ``config``). The fields
    (:class:`~clawgym_env.episode.EnvConfig`):

        backend: sandbox backend: ``"bwrap"`` (default), ``"docker"``, ``"local"`` (unsafe, debugging),
            or a backend config (``DockerBackend(image=..., cpus=..., pool_size=...)``).
        profile: tool profile: ``"coding"`` (read, write, edit, exec, process: the minimal set),
            ``"rl"`` (the 15 tools OpenClaw's own coding profile offers under ClawGym-RL's config;
            the ones needing a gateway or the network answer as OpenClaw does without them) or
            ``"openclaw"`` (the 19-tool schema of the ClawGym SFT data).
        openclaw_version: ``"2026.3.24"`` (default; the SFT data's version: ``edit`` takes
            ``oldText``/``newText``) or ``"2026.4.1"`` (ClawGym-RL's image: ``edit`` takes ``edits[]``).
            The schemas, validation, texts, semantics and system prompt of that version (``clawgym_env.tools.versions``).
        system_prompt_style: ``"openclaw"`` (default: OpenClaw's own prompt, ~19.5K characters with its
            workspace files) or ``"compact"`` (the same tools and rules in ~1K characters, for
            small-context models; a departure from OpenClaw, see ``build_compact_system_prompt``).
        max_steps: assistant turns before the episode is truncated.
        seed_bootstrap: write OpenClaw's bootstrap files (AGENTS.md, SOUL.md, ...) into the
            workspace. Off by default: some ClawGym verifiers penalise unexpected top-level
            entries and the authors' no-op scores were measured without them. The system prompt
            carries their text either way.
        network: allow the sandbox to reach the network; None = the task's ``metadata.network``.
        score_on_truncation: run the verifier when ``max_steps`` truncates the episode.
        verifier_timeout_s: the verifier's wall limit (contract: 120 s).
        exec_timeout_s: default exec timeout when the model gives none.
        context_window_tokens: the context size tool output limits are computed from.
        max_tool_calls_per_step: keep only the first N calls of a turn (ClawGym RL keeps 1); None = all.
        tool_images: send the images tools return (``read`` of a PNG, ...) to the model as OpenClaw does for a
            model that accepts images: after the step's tool messages, a user message "Attached image(s) from
            tool result:" with ``image_url`` parts. Off (default): text only, as for a text-only model; the
            images are in ``StepResult.tool_results`` either way.
        sandbox (or ``sandbox_config``): a ``SandboxConfig`` (limits, root filesystem, extra env).
        prestart_next: start the next episode's sandbox as soon as an episode is scored, so ``reset``
            only restores files. Turn off when each env runs a single episode (it would be wasted).
        judge: an OpenAI-compatible endpoint (``JudgeConfig`` or its fields as a dict) that scores
            the rubric of tasks that have one (PinchBench llm_judge/hybrid, ClawGym rules). None:
            such tasks report their code score and ``info["rubric"]["scored"] = False``; judge-only
            tasks score 0.0 with ``info["unscored"] = True``. See ``clawgym_env.verify.hybrid``.

    Besides gymnasium's ``step``, :meth:`turn` returns the same step as a typed
    :class:`~clawgym_env.episode.StepResult`, and :meth:`finish` ends and scores an episode without
    an assistant turn (a driver's budget ran out).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        task: Task | None = None,
        *,
        source: str | TaskSource | None = None,
        task_id: str | None = None,
        config: EnvConfig | None = None,
        render_mode: str | None = None,
        **options: Any,
    ):
        if task is None:
            if source is None or task_id is None:
                raise ValueError("give a task, or a source and a task_id")
            task = open_source(source).load(task_id)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode {render_mode!r} is not supported; use 'ansi'")
        if isinstance(options.get("max_steps"), int) and options["max_steps"] < 1:
            raise ValueError("max_steps must be at least 1")
        try:
            config = EnvConfig.from_kwargs(config, **options)
        except ValidationError as exc:
            raise ValueError(f"invalid ClawGymEnv options: {exc}") from None
        self.task = task
        self.config = config
        self.backend = config.backend.kind
        self.profile = config.profile
        self.openclaw_version = config.openclaw_version
        self.max_steps = config.max_steps
        self.seed_bootstrap = config.seed_bootstrap
        self.score_on_truncation = config.score_on_truncation
        self.verifier_timeout_s = config.verifier_timeout_s
        self.exec_timeout_s = config.exec_timeout_s
        self.context_window_tokens = config.context_window_tokens
        self.max_tool_calls_per_step = config.max_tool_calls_per_step
        self.tool_images = config.tool_images
        self.render_mode = render_mode
        self.prestart_next = config.prestart_next
        self._lock = threading.RLock()  # reset/step/close from different threads (async API, cancellation)
        net = task.needs_network if config.network is None else config.network
        self.sandbox_config = dataclasses.replace(config.sandbox, network=net)
        self.observation_space = TextSpace()
        self.action_space = TextSpace()
        self.judge_config = JudgeConfig(**config.judge) if config.judge is not None else None
        self._judge = RubricJudge(self.judge_config) if self.judge_config is not None else None
        self._rubric_plan = rubric_plan(task)

        self._bootstrap = bootstrap_files(fresh=True)
        self._initial_files = _initial_workspace(task, self._bootstrap if self.seed_bootstrap else {})
        """What every reset restores: the same entries (and bytes objects) each time."""
        self._sandbox: ServerSandbox | None = None
        self._prestarting: Future[None] | None = None  # the next episode's sandbox, starting in the background
        self._toolbox: ToolBox | None = None
        self._messages: list[dict[str, Any]] = []
        self._steps = 0
        self._calls_so_far = 0
        self._done = True
        self._last_verifier: VerifierResult | None = None
        self._workspace_baseline: WorkspaceUsage | None = None
        """The initial workspace's size: the disk quota bounds what an episode adds to it."""
        self._executor: Lane | None = None
        self.last_timings: dict[str, Any] = {"tools_s": [], "verifier_s": None}
        """Wall times of the last step's tool calls and verifier (kept out of ``info`` so equal
        episodes give equal infos; :meth:`turn`'s StepResult carries them too)."""
        self._closed = False

        # the tool schemas and system prompt do not depend on the sandbox: build them once
        probe = ToolBox(ToolContext(sandbox=None, workspace=WORKSPACE, openclaw_version=self.openclaw_version),  # type: ignore[arg-type]
                        profile=self.profile)
        self.tool_schemas: list[dict[str, Any]] = probe.schemas
        summaries = {s["function"]["name"]: s["function"]["description"] for s in probe.schemas}
        self.system_prompt: str = build_system_prompt(
            probe.names, workspace=WORKSPACE, bootstrap_files=self._bootstrap, tool_summaries=summaries,
            openclaw_version=self.openclaw_version,
        ) if config.system_prompt_style == "openclaw" else build_compact_system_prompt(probe.names, workspace=WORKSPACE)

    # ------------------------------------------------------------------ sandbox lifecycle
    def _ensure_sandbox(self) -> ServerSandbox:
        if self._closed:
            raise RuntimeError("the env is closed")
        if self._sandbox is None:
            options = self.config.backend.sandbox_options()
            if self.backend == "docker" and "image" not in options and self.task.metadata.get("docker_image"):
                options["image"] = self.task.metadata["docker_image"]  # the task's own image (a Harbor Dockerfile)
            self._sandbox = make_sandbox(self.backend, self.sandbox_config, **options)
        return self._sandbox

    def _restore_workspace(self, sandbox: ServerSandbox) -> None:
        """Put the task's initial files back (the sandbox writes them: small ones from memory, big
        ones streamed from the task folder, owned by the sandbox's user)."""
        sandbox.restore(self._initial_files)

    def _prestart_next(self) -> None:
        """Start the next episode's sandbox (and the backend's ready verifier) in the background,
        after the reward is computed: ``reset`` waits for it, ``close`` too."""
        sandbox = self._sandbox
        if not self.prestart_next or sandbox is None:
            return

        def start() -> None:
            sandbox.make_scorable()  # code the verifier ran may have chmod-ed it
            sandbox.prestart()  # warm start for the next reset; the workspace is restored there

        self._prestarting = starter.submit(start)

    def _await_prestart(self) -> bool:
        """Wait for a background ``_prestart_next``; True when it started a sandbox no agent has used
        yet. False (none was started, or it failed) leaves a cold start to ``reset``, which reports
        what fails then."""
        pending, self._prestarting = self._prestarting, None
        if pending is None:
            return False
        try:
            pending.result()
        except Exception:  # noqa: BLE001 - see above
            return False
        return True

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        with self._lock:  # close() from another thread waits for a reset instead of racing its sandbox start
            return self._reset(seed=seed)

    def _reset(self, *, seed: int | None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        sandbox = self._ensure_sandbox()
        if not (self._await_prestart() and sandbox.alive):
            sandbox.stop()
            self._restore_workspace(sandbox)
            sandbox.launch()
        else:
            self._restore_workspace(sandbox)
        if self._workspace_baseline is None:  # the same files every episode: measured once
            self._workspace_baseline = sandbox.workspace_usage()
        ctx = ToolContext(sandbox=sandbox, workspace=sandbox.workspace,
                          context_window_tokens=self.context_window_tokens, exec_timeout_s=self.exec_timeout_s,
                          openclaw_version=self.openclaw_version)
        self._toolbox = ToolBox(ctx, profile=self.profile)
        self._messages = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": self.task.user_query},
        ]
        self._steps = 0
        self._calls_so_far = 0
        self._done = False
        self._last_verifier = None
        return self.task.user_query, self._info()

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Gymnasium's step: :meth:`turn` as the usual 5-tuple."""
        return self.turn(action).as_gym()

    def turn(self, action: Any) -> StepResult:
        """Take one assistant turn: run its tool calls in the sandbox; a turn without tool calls ends
        the episode and the verifier scores it. Returns the step as a typed result."""
        if self._done:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        self.last_timings = {"tools_s": [], "verifier_s": None}
        parsed = parse_action(action, id_offset=self._calls_so_far)
        calls = parsed.tool_calls[: self.max_tool_calls_per_step]  # ClawGym RL keeps only the first
        message = dict(parsed.assistant_message)
        if calls:
            message["tool_calls"] = message["tool_calls"][: len(calls)]
        self._messages.append(message)
        self._steps += 1
        self._calls_so_far += len(parsed.tool_calls)

        if not calls:
            final = well_formed(parsed.content.strip())
            final = "" if final == "NO_REPLY" else final
            return self._finish("", final_message=final, terminated=True, end_reason="agent_done")

        assert self._toolbox is not None
        results: list[ToolResult] = []
        infra_error: InfraError | None = None
        for call, wire in zip(calls, message["tool_calls"]):
            try:
                res = self._toolbox.call_parsed(call)
            except SandboxError as exc:
                infra_error = InfraError(kind="sandbox", where="step",
                                         message=f"sandbox failed during {call.name}: {exc}")
                break
            name = wire["function"]["name"]  # well-formed (parse_action), as the model's own text
            images = tuple({"mime_type": i.mime_type, "data": i.data} for i in res.images)
            results.append(ToolResult(tool_call_id=wire["id"], name=name, ok=res.ok, error_kind=res.error_kind,
                                      duration_s=res.duration_s, content=res.text, images=images))
            self.last_timings["tools_s"].append(res.duration_s)
            self._messages.append({"role": "tool", "tool_call_id": wire["id"], "name": name, "content": res.text})
        attached = [i for r in results for i in r.images] if self.tool_images else []
        if attached:  # pi-ai's openai-completions conversion for a model whose input includes "image"
            self._messages.append({"role": "user", "content": [
                {"type": "text", "text": "Attached image(s) from tool result:"},
                *({"type": "image_url", "image_url": {"url": f"data:{i['mime_type']};base64,{i['data']}"}}
                  for i in attached)]})
        observation = "\n\n".join(r.content for r in results)
        if infra_error is not None:
            self._done = True
            self._stop_sandbox()
            info = self._info(tool_results=results)
            info["infra_error"] = str(infra_error)
            return StepResult(observation=observation, truncated=True, info=info, tool_results=results,
                              infra_error=infra_error, end_reason="infra_error")
        quota_error = (disk_quota_error(self._sandbox, self._workspace_baseline)
                       if self._sandbox is not None else None)
        if quota_error is not None:  # the agent's doing: end the episode, scored as it stands
            self._messages[-1]["content"] += f"\n\n[{quota_error}]"
            observation += f"\n\n[{quota_error}]"
            result = self._finish(observation, final_message="", terminated=True, tool_results=results,
                                  end_reason="disk_quota")
            result.info["disk_quota_exceeded"] = quota_error
            return result
        if self._steps >= self.max_steps:
            if self.score_on_truncation:
                return self._finish(observation, final_message="", terminated=False, tool_results=results,
                                    end_reason="max_steps")
            self._done = True
            self._stop_sandbox()
            return StepResult(observation=observation, truncated=True, info=self._info(tool_results=results),
                              tool_results=results, end_reason="max_steps")
        return StepResult(observation=observation, info=self._info(tool_results=results), tool_results=results)

    def finish(self, reason: str = "finish", *, final_message: str = "") -> StepResult:
        """End the running episode now and score the workspace as it stands, without an assistant
        turn (nothing is added to the conversation). For drivers whose budget ran out (tokens, wall
        time, the model's context) or that end episodes themselves (TRL's ``get_reward``). The result
        is ``truncated`` (the agent did not end the episode); ``reason`` becomes its ``end_reason``
        and ``final_message`` the verifier payload's ``final_message``."""
        if self._done:
            raise RuntimeError("finish() called on a finished episode; call reset() first")
        self.last_timings = {"tools_s": [], "verifier_s": None}
        return self._finish("", final_message=final_message, terminated=False, end_reason=reason)

    def _finish(self, observation: str, *, final_message: str, terminated: bool, end_reason: str,
                tool_results: list[ToolResult] | None = None) -> StepResult:
        """End the episode: verify, then pre-launch the next episode's sandbox."""
        self._done = True
        sandbox = self._sandbox
        assert sandbox is not None
        transcript = to_openclaw_session(self._messages)
        verdict = run_code_verifier(
            sandbox, self.task, final_message=final_message, transcript=transcript, timeout_s=self.verifier_timeout_s,
        )
        self._last_verifier = verdict
        self.last_timings["verifier_s"] = verdict.duration_s
        plan = self._rubric_plan
        judge_files = None
        if plan is not None and self._judge is not None and verdict.infra_error is None:
            # read now: the verifier stopped the agent's sandbox and the next one has not started
            judge_files = sandbox.read_outputs(first=plan.rubric.priority_files, rules=JUDGE_FILES)
        self._prestart_next()
        judged = None  # the judge (a network call) runs while the next sandbox starts
        if judge_files is not None and plan is not None and self._judge is not None:
            judged = self._judge.grade(plan.rubric, transcript, judge_files)
        score = combine(float(verdict.reward), plan, judged, judge_configured=self._judge is not None)
        infra_error = (InfraError(kind="verifier", where="finish", message=verdict.infra_error)
                       if verdict.infra_error else
                       InfraError(kind="judge", where="finish", message=score.infra_error)
                       if score.infra_error else None)
        info = self._info(tool_results=tool_results)
        info["final_message"] = final_message
        info["verifier"] = verdict.to_info()
        info["infra_error"] = str(infra_error) if infra_error is not None else None
        info["subscores"] = verdict.subscores
        info["code_score"] = score.code_score
        info["rubric"] = score.rubric
        info["unscored"] = score.unscored
        return StepResult(observation=observation, reward=float(score.reward), terminated=terminated,
                          truncated=not terminated, info=info, tool_results=list(tool_results or []),
                          infra_error=infra_error, verifier_s=verdict.duration_s, scored=True, end_reason=end_reason)

    def _stop_sandbox(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()

    def _info(self, tool_results: list[ToolResult] | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "task_id": self.task.task_id,
            "step": self._steps,
            "messages": list(self._messages),
            "tools": self.tool_schemas,
            "system_prompt": self.system_prompt,
            "infra_error": None,
        }
        if tool_results is not None:
            info["tool_results"] = [r.info() for r in tool_results]
        return info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        lines = []
        for m in self._messages[1:]:
            role = m["role"]
            if role == "assistant":
                if m.get("content"):
                    lines.append(f"[assistant] {m['content']}")
                for c in m.get("tool_calls") or []:
                    lines.append(f"[call] {c['function']['name']}({c['function']['arguments']})")
            elif role == "tool":
                lines.append(f"[{m.get('name', 'tool')}] {m['content']}")
            else:
                lines.append(f"[{role}] {m['content']}")
        if self._last_verifier is not None:
            v = self._last_verifier
            lines.append(f"[reward] {v.reward:.4f}" + (f" ({v.reason})" if v.reason else "")
                         + (f" INFRA ERROR: {v.infra_error}" if v.infra_error else ""))
        return "\n".join(lines)

    def close(self) -> None:
        """Kill the sandbox and free everything. Safe from any thread, also during a step (which
        then fails with an infra error)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._done = True
            sandbox, self._sandbox = self._sandbox, None
            executor, self._executor = self._executor, None
            pending, self._prestarting = self._prestarting, None
        if pending is not None and not starter.on_starter_thread():
            try:  # a start in flight: let it finish, then close what it started
                pending.result()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        if sandbox is not None:
            sandbox.close()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if self._judge is not None:
            self._judge.close()
        super().close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ async API
    def _pool(self) -> Lane:
        """This env's lane: its calls run one at a time, in order, on a shared worker thread
        (``clawgym_env.workers`` says why not a ThreadPoolExecutor per env)."""
        if self._executor is None:
            self._executor = Lane()
        return self._executor

    async def areset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """``reset`` on a worker thread: sandbox I/O never blocks the event loop."""
        return await self._pool().submit(lambda: self.reset(seed=seed, options=options))

    async def astep(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """``step`` on a worker thread (calls on one env stay ordered)."""
        return await self._pool().submit(self.step, action)

    async def aturn(self, action: Any) -> StepResult:
        """:meth:`turn` on the env's worker thread."""
        return await self._pool().submit(self.turn, action)

    async def afinish(self, reason: str = "finish", *, final_message: str = "") -> StepResult:
        """:meth:`finish` on the env's worker thread."""
        return await self._pool().submit(lambda: self.finish(reason, final_message=final_message))

    async def aclose(self) -> None:
        """``close`` on a worker thread, not queued behind a running ``astep`` (it interrupts it)."""
        await run_detached(self.close)

    @property
    def sandbox(self) -> ServerSandbox | None:
        """The live sandbox (for tests and tooling; agents never get it)."""
        return self._sandbox

    @property
    def last_verifier(self) -> VerifierResult | None:
        return self._last_verifier

    @property
    def elapsed_steps(self) -> int:
        return self._steps


def _initial_workspace(task: Task, bootstrap: dict[str, str]) -> list[tuple[str, InputData, int]]:
    """The task's input files, then the bootstrap files it does not provide itself."""
    files = task.workspace_entries()
    taken = {rel for rel, _, _ in files}
    return files + [(name, text.encode(), 0o644) for name, text in bootstrap.items() if name not in taken]


def make_task_env(source: str | TaskSource, task_id: str, **kwargs: Any) -> ClawGymEnv:
    """Entry point behind every registered gym id."""
    from clawgym_env.registration import cached_source

    return ClawGymEnv(cached_source(source).load(task_id), **kwargs)


__all__ = ["ClawGymEnv", "TextSpace", "make_task_env"]
