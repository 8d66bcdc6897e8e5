"""Batch evaluation: a suite, an agent, the rollout engine, and the reports (``clawgym eval``).

One output folder per run: ``records.jsonl`` (a record per episode, appended as episodes end),
``run.json`` (the settings), ``results.json``, ``report.md`` and ``report.html``. Running again
with the same folder resumes: episodes already recorded are not redone, and the reports are
rebuilt from every record of the selected episodes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

from clawgym_env.episode import Budgets
from clawgym_env.rollout.engine import RolloutEngine, RunStats, plan_episodes
from clawgym_env.rollout.records import TrajectoryRecord, latest_by_key, now_iso, read_records
from clawgym_env.tasks import Task, TaskSource, open_source
from clawgym_env.tools.versions import DEFAULT_OPENCLAW_VERSION

AGENTS = ("oracle", "openai", "hf", "replay", "scripted")
RESUME_KEYS = ("suite", "agent", "model", "base_url", "temperature", "max_tokens", "max_steps", "episode_timeout_s",
               "max_episode_tokens", "run_seed", "profile", "openclaw_version", "backend", "judge_model")
"""Settings that change what an episode means: a resumed run that differs in one gets a warning."""


@dataclass
class EvalConfig:
    """Everything ``clawgym eval`` takes; see ``clawgym eval --help`` for each option."""

    out: str
    suite: str = "builtin"
    agent: str = "oracle"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    temperature: float | None = None
    max_tokens: int | None = None
    agent_options: dict[str, Any] = field(default_factory=dict)
    agent_config: str | None = None
    """The ``--agent-config`` file the agent settings came from (provenance only: already merged in)."""
    actions: list[Any] | None = None
    """Scripted agent: the actions every episode plays before its final reply (None: none, a no-op)."""
    replay: str | None = None
    """Replay agent: a JSONL of trajectories (e.g. an earlier run's records.jsonl), matched by task_id."""
    concurrency: int = 8
    repeats: int = 1
    limit: int = 0
    sample: int = 0
    categories: list[str] = field(default_factory=list)
    max_steps: int | None = None
    episode_timeout_s: float | None = None
    max_episode_tokens: int | None = None
    run_seed: int = 0
    backend: str = "bwrap"
    docker: dict[str, Any] = field(default_factory=dict)
    """The backend config (``EnvConfig.backend``) when it carries more than its kind: docker image,
    cpus, pool_size. Empty: ``backend`` alone."""
    profile: str = "coding"
    openclaw_version: str = DEFAULT_OPENCLAW_VERSION
    network: bool | None = None
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_api_key: str | None = field(default=None, repr=False)
    retry_infra_errors: bool = False
    score_truncated: bool = True
    wandb: bool = False
    wandb_project: str = "clawgym"
    wandb_name: str | None = None
    progress: bool = True
    fsync: bool = True
    ray: str | None = None
    """Run the sandboxes on Ray env workers: a cluster address ("auto", "ray://host:10001") or "local"."""
    ray_workers: int = 0
    """Ray env workers (0: one per node of the cluster)."""

    def public(self) -> dict[str, Any]:
        """The settings without secrets or bulky values (for run.json and wandb)."""
        data = asdict(self)
        data.pop("api_key", None)
        data.pop("judge_api_key", None)
        data["actions"] = None if self.actions is None else len(self.actions)
        return data


# ---------------------------------------------------------------------------------------- suites
def open_suite(spec: str) -> TaskSource:
    """``builtin`` (the 13,500-task built-in suite), a ClawGym task folder (or a folder of them), or
    a PinchBench checkout: :func:`clawgym_env.tasks.open_source` (kept under its old name)."""
    return open_source(spec)


def task_category(source: TaskSource, task_id: str) -> str:
    """``metadata.category``; without loading the task where the source can say (``source.category``)."""
    category = getattr(source, "category", None)
    if callable(category):
        return str(category(task_id))
    return str(source.load(task_id).metadata.get("category") or "")


def select_tasks(source: TaskSource, *, categories: list[str] | None = None, sample: int = 0,
                 limit: int = 0) -> list[str]:
    """Filter on category (case-insensitive), then ``sample`` ids spread evenly, then the first ``limit``."""
    ids = source.ids()
    if categories:
        wanted = {c.strip().lower() for c in categories if c.strip()}
        ids = [t for t in ids if task_category(source, t).lower() in wanted]
    if sample:
        step = max(1, len(ids) // sample)
        ids = ids[::step][:sample]
    return ids[:limit] if limit else ids


# ---------------------------------------------------------------------------------------- agents
def agent_factory(config: EvalConfig) -> Callable[[Task], Any]:
    """The per-episode agent for ``config.agent``: stateful agents get a fresh instance per episode,
    model agents one shared instance (they keep no state between turns)."""
    from clawgym_env.agents import make_agent

    name = config.agent
    opts = dict(config.agent_options)
    if name == "oracle":
        return lambda task: make_agent("oracle", **opts)
    if name == "scripted":
        actions = list(config.actions or [])
        return lambda task: make_agent("scripted", actions=actions, **opts)
    if name == "replay":
        if not config.replay:
            raise ValueError("--agent replay needs --replay FILE (a trajectory JSONL, e.g. an earlier records.jsonl)")
        recordings = _recordings(config.replay)

        def replay(task: Task) -> Any:
            if task.task_id not in recordings:
                raise KeyError(f"{config.replay} has no trajectory for task {task.task_id!r}")
            return make_agent("replay", messages=recordings[task.task_id], **opts)

        return replay
    if name == "openai":
        if not config.base_url or not config.model:
            raise ValueError("--agent openai needs --base-url and --model")
        opts.setdefault("api_key", config.api_key)
        if config.temperature is not None:
            opts["temperature"] = config.temperature
        if config.max_tokens is not None:
            opts["max_tokens"] = config.max_tokens
        shared = make_agent("openai", base_url=config.base_url, model=config.model, **opts)
        return lambda task: shared
    if name == "hf":
        if not config.model:
            raise ValueError("--agent hf needs --model (a local path or hub id)")
        if config.temperature is not None:
            opts["temperature"] = config.temperature
        if config.max_tokens is not None:
            opts["max_new_tokens"] = config.max_tokens
        shared = make_agent("hf", model_or_path=config.model, **opts)
        return lambda task: shared
    raise ValueError(f"unknown agent {name!r}; choose one of: {', '.join(AGENTS)}")


def _recordings(path: str) -> dict[str, dict[str, Any]]:
    """The first trajectory of each task in a JSONL file (lines need ``task_id`` and ``messages``)."""
    out: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("task_id") and data.get("messages"):
                out.setdefault(str(data["task_id"]), {"messages": data["messages"]})
    return out


# ---------------------------------------------------------------------------------------- the run
def env_kwargs(config: EvalConfig) -> dict[str, Any]:
    kw: dict[str, Any] = {"backend": {**config.docker, "kind": config.backend}, "profile": config.profile,
                          "openclaw_version": config.openclaw_version}
    if config.network is not None:
        kw["network"] = config.network
    if config.judge_base_url or config.judge_model:
        if not (config.judge_base_url and config.judge_model):
            raise ValueError("a judge needs both --judge-base-url and --judge-model")
        from clawgym_env.verify.rubric import JudgeConfig

        kw["judge"] = JudgeConfig(base_url=config.judge_base_url, model=config.judge_model,
                                  api_key=config.judge_api_key)
    return kw


def _check_resume(out: Path, config: EvalConfig) -> list[str]:
    """Differences from the settings an earlier run in ``out`` used (it is resumed either way)."""
    path = out / "run.json"
    if not path.exists():
        return []
    try:
        before = json.loads(path.read_text()).get("config", {})
    except ValueError:
        return []
    now = config.public()
    return [f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in RESUME_KEYS if before.get(k) != now.get(k)]


class _Progress:
    """A rich progress bar with the running mean score and infra-error count."""

    def __init__(self, total: int, enabled: bool):
        self.enabled = enabled and total > 0
        self.scores: list[float] = []
        self.infra = 0
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("mean {task.fields[mean]}"),
                                TextColumn("infra {task.fields[infra]}"), TimeElapsedColumn(), TimeRemainingColumn())
            self.handle = self.bar.add_task("episodes", total=total, mean="–", infra=0)

    def __enter__(self) -> Self:
        if self.enabled:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()

    def update(self, record: TrajectoryRecord) -> None:
        if record.infra_error is not None:
            self.infra += 1
        elif not record.unscored:
            self.scores.append(record.reward)
        if self.enabled:
            mean = f"{sum(self.scores) / len(self.scores):.3f}" if self.scores else "–"
            self.bar.update(self.handle, advance=1, mean=mean, infra=self.infra)


def run_eval(config: EvalConfig, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run (or resume) an evaluation; write the records and reports; return the results dict."""
    from clawgym_env import __version__
    from clawgym_env.bench.metrics import infra_error_rows, per_task_rows, summarize
    from clawgym_env.bench.report import write_reports

    say = log or (lambda msg: print(msg, file=sys.stderr))
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    records_path = out / "records.jsonl"
    for diff in _check_resume(out, config):
        say(f"clawgym eval: resuming {out} with a changed setting ({diff})")

    source = open_suite(config.suite)
    ids = select_tasks(source, categories=config.categories, sample=config.sample, limit=config.limit)
    if not ids:
        raise ValueError(f"no task of {config.suite} matches the selection")
    factory = agent_factory(config)
    budgets = Budgets(max_steps=config.max_steps, wall_s=config.episode_timeout_s,
                      total_tokens=config.max_episode_tokens)
    (out / "run.json").write_text(json.dumps({"config": config.public(), "tasks": len(ids),
                                              "clawgym_version": __version__, "updated_at": now_iso()}, indent=2))

    wandb_logger = None
    if config.wandb:
        from clawgym_env.bench.wandb_log import WandbLogger

        wandb_logger = WandbLogger(project=config.wandb_project, name=config.wandb_name or out.name,
                                   config={**config.public(), "tasks": len(ids)}, dir=str(out))

    specs = plan_episodes(ids, config.repeats, config.run_seed)
    progress = _Progress(total=0, enabled=False)

    def on_record(record: TrajectoryRecord) -> None:
        progress.update(record)
        if wandb_logger is not None:
            wandb_logger.log_episode(record)

    pool = _ray_pool(config, budgets, say) if config.ray else None
    engine = RolloutEngine(source, factory, env_kwargs=env_kwargs(config), concurrency=config.concurrency,
                           budgets=budgets, run_seed=config.run_seed, records_path=records_path,
                           retry_infra_errors=config.retry_infra_errors, score_truncated=config.score_truncated,
                           on_record=on_record, fsync=config.fsync, keep_records=False,
                           make_env=pool.env_maker(source) if pool is not None else None)
    done = engine.done_keys()
    todo = sum(1 for s in specs if s.key not in done)
    if todo < len(specs):
        say(f"clawgym eval: resuming: {len(specs) - todo} of {len(specs)} episodes already recorded in {records_path}")
    progress = _Progress(total=todo, enabled=config.progress)

    def report(stats: RunStats, interrupted: bool = False) -> dict[str, Any]:
        planned = {s.key for s in specs}
        records = [r for k, r in latest_by_key(read_records(records_path, slim=True)).items() if k in planned]
        summary = summarize(records)
        run_info = {
            "suite": config.suite, "source": getattr(source, "name", config.suite),
            "agent": _agent_info(config, records), "repeats": config.repeats, "concurrency": config.concurrency,
            "run_seed": config.run_seed, "budgets": budgets.model_dump(), "selection": {
                "limit": config.limit, "sample": config.sample, "categories": config.categories, "tasks": len(ids)},
            "episodes_planned": stats.planned, "episodes_run": stats.finished, "episodes_resumed": stats.skipped,
            "wall_s": stats.wall_s, "episodes_per_s": stats.episodes_per_s, "finished_at": now_iso(),
            "clawgym_version": __version__, "records": str(records_path),
        }
        if interrupted:
            run_info["interrupted"] = True
        results: dict[str, Any] = {"run": run_info, "summary": summary, "tasks": per_task_rows(records),
                   "infra_errors": infra_error_rows(records)}
        ran = [r for r in records if r.infra_error is None]
        scored = [r for r in ran if not r.unscored]
        per_task: dict[str, list[float]] = {}
        for r in scored:
            per_task.setdefault(r.task_id, []).append(r.reward)
        threshold = summary["correct_threshold"]
        plot_data = {"scores": [r.reward for r in scored], "turns": [float(r.steps) for r in ran],
                     "tokens": [float(r.total_tokens) for r in ran if r.usage],
                     "turn_scores": [[r.steps, r.reward] for r in scored],
                     "passk_counts": [[len(v), sum(x > threshold for x in v)] for v in per_task.values()]}
        write_reports(out, results, plot_data)
        return results

    async def run_and_report() -> dict[str, Any]:
        """The reports are written on the loop, before ``asyncio.run`` joins its worker threads (a
        model's generation thread may still be ending): a Ctrl-C during that join loses nothing."""
        started = time.perf_counter()
        try:
            stats = await engine.run(ids, config.repeats)
        except asyncio.CancelledError:  # Ctrl-C: the episodes recorded so far still get their report
            planned = {s.key for s in specs}
            recorded = len(set(latest_by_key(read_records(records_path, slim=True))) & planned)
            resumed = len(specs) - todo
            report(RunStats(planned=len(specs), skipped=resumed, finished=recorded - resumed,
                            wall_s=time.perf_counter() - started), interrupted=True)
            raise
        return report(stats)

    try:
        with progress:
            results = asyncio.run(run_and_report())
        if wandb_logger is not None:
            wandb_logger.log_summary(results["summary"], results["tasks"])
        return results
    finally:
        if pool is not None:
            pool.shutdown()
        if wandb_logger is not None:
            wandb_logger.finish()


def _ray_pool(config: EvalConfig, budgets: Budgets, say: Callable[[str], None]) -> Any:
    """The Ray env pool of ``--ray``: envs built on the workers with the engine's env settings."""
    from clawgym_env.rollout.ray_pool import RayEnvPool

    kw = {"prestart_next": False, **env_kwargs(config)}
    if budgets.max_steps is not None:
        kw["max_steps"] = budgets.max_steps
    address = None if config.ray == "local" else config.ray
    workers = config.ray_workers
    started = False
    if workers <= 0:
        import ray

        if not ray.is_initialized():
            ray.init(address=address or "local", ignore_reinit_error=True, log_to_driver=False)
            started = True
        workers = max(1, sum(1 for n in ray.nodes() if n.get("Alive")))
    pool = RayEnvPool(address, num_workers=workers, env_kwargs=kw)
    pool._owns_ray = pool._owns_ray or started  # shut down the Ray this run started
    say(f"clawgym eval: sandboxes on {workers} Ray env worker(s) ({config.ray})")
    return pool


def _agent_info(config: EvalConfig, records: list[TrajectoryRecord]) -> dict[str, Any]:
    """The agent's recorded config (from a record: what actually ran), else the CLI settings."""
    for r in records:
        if r.agent:
            return r.agent
    return {"agent": config.agent, "model": config.model}


def format_summary(results: dict[str, Any]) -> str:
    """The headline figures as a few plain lines for the terminal."""
    from clawgym_env.bench.metrics import category_label
    from clawgym_env.bench.report import headline_rows

    s = results["summary"]
    lines = [f"{k}: {v}" for k, v in headline_rows(s)]
    for cat, v in s["per_category"].items():
        lines.append(f"  {category_label(cat)}: {v['mean_score']:.3f} mean, {100 * v['correct_rate']:.1f} % correct "
                     f"({v['episodes']} episodes)")
    lines += infra_error_lines(results.get("infra_errors") or [], total=s.get("infra_errors") or 0)
    run = results["run"]
    lines.append(f"ran {run['episodes_run']} episodes ({run['episodes_resumed']} resumed) in {run['wall_s']:.1f} s "
                 f"({run['episodes_per_s']:.2f} episodes/s)")
    return "\n".join(lines)


def infra_error_lines(errors: list[dict[str, Any]], *, total: int = 0, width: int = 160) -> list[str]:
    """The infra errors' reasons for the terminal: each distinct first line once, with how many
    episodes hit it and one of them (the full texts are in report.md and results.json)."""
    if not errors:
        return []
    reasons: dict[str, list[str]] = {}
    for e in errors:
        first = (str(e["infra_error"]).strip().splitlines() or [""])[0]
        reasons.setdefault(first[:width] + ("…" if len(first) > width else ""), []).append(e["episode_id"])
    total = max(total, len(errors))
    shown = "" if total == len(errors) else f"; the first {len(errors)} of them"
    lines = [f"infra errors: {total} episodes, left out of the means{shown} (full texts in report.md):"]
    for reason, episodes in reasons.items():
        lines.append(f"  {len(episodes)} x {reason}  (e.g. {episodes[0]})")
    return lines


__all__ = ["AGENTS", "EvalConfig", "agent_factory", "env_kwargs", "format_summary", "infra_error_lines", "open_suite",
           "run_eval", "select_tasks", "task_category"]
