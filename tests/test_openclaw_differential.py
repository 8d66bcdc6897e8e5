"""Our tools against the real OpenClaw tools, side by side, per OpenClaw version.

The real side is openclaw@2026.3.24 / @2026.4.1 from npm under Node 22 (tests/openclaw_real/install.sh,
run by .ci/run), driven by tests/openclaw_real/harness.mjs through OpenClaw's own tool factory and
pi-agent-core's dispatch. Every case of tests/openclaw_real/cases_*.py runs on both sides in the same
workspace folder; texts are compared after masking pids, session slugs, approval ids and timings, and
the workspace trees after the calls are compared too. The acceptance bar is 99% byte-identical per
version, and every remaining difference must be one listed (with why) in a cases module's KNOWN_DIFFERENCES.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openclaw_real.cases import VERSIONS, all_cases, known_differences
from openclaw_real.diff import RealOpenClaw, missing_install, run_version, summary

from clawgym_env.tools import tool_schemas


def _require(version: str) -> None:
    why = missing_install(version)
    if why:
        pytest.fail(f"the real OpenClaw is not installed: {why}")


@pytest.mark.parametrize("version", VERSIONS)
def test_rl_profile_schemas_are_the_real_ones(version: str, tmp_path: Path) -> None:
    _require(version)
    real = RealOpenClaw(version, tmp_path / "home")
    try:
        reply = real.request({"op": "init", "workspace": str(tmp_path)}, 60)
    finally:
        real.close()
    ours = [s["function"] for s in tool_schemas("rl", version)]
    assert reply["tools"] == [s["name"] for s in ours]
    assert reply["schemas"] == ours


@pytest.mark.parametrize("version", VERSIONS)
def test_tool_results_are_byte_identical_to_real_openclaw(version: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    _require(version)
    outcomes = run_version(version, all_cases(), tmp_path)
    with capsys.disabled():  # the figure belongs in the CI log
        print(f"\nopenclaw {version}: {summary(outcomes)}")
    broken = [o.describe() for o in outcomes if o.error]
    assert not broken, "\n".join(broken)
    differing = {o.case: o for o in outcomes if not o.equal}
    known = known_differences()
    unexplained = [o.describe() for case, o in differing.items() if (version, case) not in known]
    assert not unexplained, "differences not in KNOWN_DIFFERENCES:\n" + "\n".join(unexplained)
    stale = [case for (v, case) in known if v == version and case not in differing]
    assert not stale, f"listed as differing but now identical (remove from KNOWN_DIFFERENCES): {stale}"
    equal = len(outcomes) - len(differing)
    assert equal / len(outcomes) >= 0.99, summary(outcomes)
