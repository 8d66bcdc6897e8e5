"""Our system prompt against the real OpenClaw ``buildAgentSystemPrompt``, per OpenClaw version.

The real side is openclaw@2026.3.24 / @2026.4.1 from npm under Node 22 (tests/openclaw_real/install.sh, run by
.ci/run), through the harness's ``prompt`` op; tests/openclaw_real/prompt_diff.py maps our arguments to
OpenClaw's parameters and holds the grid (profiles coding/rl/openclaw, with and without workspace files, full
and minimal modes, skills, extra system prompts, runtime and channel values, bootstrap truncation and budgets).
Every case must be byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openclaw_real.cases import VERSIONS
from openclaw_real.diff import missing_install, summary
from openclaw_real.prompt_diff import CASES, js_request, run_version

from clawgym_env.tools import build_system_prompt


@pytest.mark.parametrize("version", VERSIONS)
def test_system_prompt_is_byte_identical_to_real_openclaw(version: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    why = missing_install(version)
    if why:
        pytest.fail(f"the real OpenClaw is not installed: {why}")
    outcomes = run_version(version, CASES, tmp_path)
    with capsys.disabled():  # the figure belongs in the CI log
        print(f"\nopenclaw {version} prompt: {summary(outcomes)}")
    differing = [o.describe() for o in outcomes if not o.equal]
    assert not differing, "\n".join(differing)
    # the grid really tells the versions apart (the approval guidance, the ACP line) and covers both modes
    rl = next(o for o in outcomes if o.case == "grid.rl.seeded.full")
    assert ("Never execute /approve through exec" in rl.ours) == (version == "2026.4.1")
    assert "## Memory Recall" in rl.ours and "# Project Context" in rl.ours
    assert "## Silent Replies" not in next(o for o in outcomes if o.case == "grid.rl.seeded.minimal").ours


def test_js_request_maps_our_arguments() -> None:
    req = js_request(["read", "exec"], workspace="/w", bootstrap_files={"AGENTS.md": "a", "BOOTSTRAP.md": "b"},
                     timezone="", heartbeat=False, runtime={"repo": "/r", "thinking": "low"}, prompt_mode="minimal",
                     openclaw_version="2026.4.1")
    params = req["params"]
    assert params["workspaceDir"] == "/w" and params["promptMode"] == "minimal"
    assert "userTimezone" not in params and "heartbeatPrompt" not in params
    assert params["runtimeInfo"]["repoRoot"] == "/r" and params["defaultThinkLevel"] == "low"
    assert params["workspaceNotes"] == ["Reminder: commit your changes in this workspace after edits."]
    files = req["bootstrap"]["files"]
    assert [f["name"] for f in files][-1] == "BOOTSTRAP.md" and len(files) == 7
    assert [f["missing"] for f in files] == [False, True, True, True, True, True, False]
    with pytest.raises(ValueError):
        js_request(["read"], message_channels=("telegram",))
    assert build_system_prompt(["read"], openclaw_version="2026.4.1") != build_system_prompt(["read"])
