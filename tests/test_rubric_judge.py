"""The rubric judge and hybrid scoring, over real HTTP.

TEST DOUBLE: ``ScriptedJudge`` is a real HTTP server on loopback that speaks the OpenAI
chat-completions protocol and plays back scripted replies. It stands in for a judge *model* (which
cannot run here); the client, the HTTP traffic, the env, the sandboxes and the graders are real.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED

from clawgym_env.env import ClawGymEnv
from clawgym_env.synth.checks import REWARD_SH
from clawgym_env.tasks import PinchBenchSource, Task
from clawgym_env.verify.hybrid import combine, rubric_plan
from clawgym_env.verify.rubric import (
    JudgeConfig,
    JudgeResult,
    Rubric,
    RubricJudge,
    interpret,
    parse_judge_text,
    snap,
    summarize_transcript,
    workspace_text_files,
)

PINCH = SHARED / "datasets" / "pinchbench"
DONE = {"role": "assistant", "content": "Done."}


class ScriptedJudge:
    """TEST DOUBLE for a judge model: an OpenAI-compatible HTTP server replaying scripted replies.

    ``replies`` holds, per request, either the assistant text to return, or ``(status, headers)``
    for an HTTP error. Requests (parsed JSON bodies) are kept in ``requests``.
    """

    def __init__(self) -> None:
        self.replies: deque[Any] = deque()
        self.requests: list[dict[str, Any]] = []
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                judge.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                reply = judge.replies.popleft() if judge.replies else "(script exhausted)"
                if isinstance(reply, tuple):
                    status, headers = reply
                    data = json.dumps({"error": {"message": f"scripted {status}", "type": "test"}}).encode()
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                else:
                    status = 200
                    data = json.dumps({
                        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                        "model": body.get("model"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": reply}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }).encode()
                    self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def config(self, **kw: Any) -> JudgeConfig:
        return JudgeConfig(base_url=self.base_url, model="judge-test-double", api_key="test-key",
                           timeout_s=10, retry_backoff_s=0.01, **kw)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def judge() -> Iterator[ScriptedJudge]:
    server = ScriptedJudge()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def pinch() -> PinchBenchSource:
    return PinchBenchSource(PINCH)


RUBRIC = Rubric(task_prompt="Write a poem.", text="### Criterion 1: Quality\n...", criteria=("Quality", "Length"))
GOOD = {"scores": {"Quality": 0.75, "Length": 0.5}, "total": 0.625, "notes": "fine"}


# ----------------------------------------------------------------------------- parsing (pure)
@pytest.mark.parametrize("text,score,scores", [
    (json.dumps(GOOD), 0.625, {"Quality": 0.75, "Length": 0.5}),
    (f"Here is my grade:\n```json\n{json.dumps(GOOD)}\n```\nThanks.", 0.625, {"Quality": 0.75, "Length": 0.5}),
    (f"Thinking... {{not json}} then {json.dumps(GOOD)} and {{\"other\": 1}}", 0.625, {"Quality": 0.75, "Length": 0.5}),
    ('{"criteria_scores": {"Quality": {"score": 0.8}, "Length": "0.3"}}', 0.5, {"Quality": 0.75, "Length": 0.25}),
    ('{"rule_scores": [{"name": "Quality", "score": 1}, {"name": "Length", "score": 0.0}], "rubric_score": 0.5}',
     0.5, {"Quality": 1.0, "Length": 0.0}),
    ('{"score": 0.7, "justification": "ok"}', 0.7, {}),
    ("The work is decent overall.\nTotal: 0.65", 0.65, {}),
    ('{"scores": {"Quality": 7, "Length": -1}}', 0.5, {"Quality": 1.0, "Length": 0.0}),
])
def test_reply_parsing_and_bands(text: str, score: float, scores: dict[str, float]) -> None:
    verdict = interpret(parse_judge_text(text))
    assert verdict.score == pytest.approx(score) and verdict.scores == scores


@pytest.mark.parametrize("text", ["", "I cannot grade this.", "{\"notes\": \"no numbers\"}", '{"total": 4.5}',
                                  "total: 7 out of 10", '{"scores": {"a": "high"}}'])
def test_unusable_replies_give_no_score(text: str) -> None:
    assert interpret(parse_judge_text(text)).score is None


def test_snap_and_summary() -> None:
    assert [snap(x) for x in (-1, 0.1, 0.125, 0.3, 0.6, 0.62, 0.8, 0.9, 2)] == [0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 1, 1]
    events = [
        {"type": "message", "message": {"role": "user", "content": [{"type": "text", "text": "Do it"}]}},
        {"type": "message", "message": {"role": "assistant", "content": [
            {"type": "text", "text": "Reading."},
            {"type": "toolCall", "name": "write", "arguments": {"path": "a.txt", "content": "x" * 300}}]}},
        {"type": "message", "message": {"role": "toolResult", "content": [{"type": "text", "text": "y" * 500}]}},
        {"type": "session", "id": "ignored"},
    ]
    lines = summarize_transcript(events).split("\n")
    assert lines[0] == "User: Do it" and lines[1] == "Assistant: Reading."
    assert lines[2].startswith('Tool: write({"path": "a.txt", "content": "' + "x" * 200 + '...[truncated]"')
    assert lines[3] == "Result: " + "y" * 200 and len(lines) == 4


def test_workspace_files_for_the_judge(tmp_path: Path) -> None:
    secret = tmp_path / "host_secret.txt"
    secret.write_text("HOST SECRET")
    ws = tmp_path / "ws"
    (ws / "reward").mkdir(parents=True)
    (ws / "reward" / "check.py").write_text("verifier")
    (ws / "docs").mkdir()
    (ws / "docs" / "b.md").write_text("B" * 5000)
    (ws / "a.txt").write_text("hello")
    (ws / "AGENTS.md").write_text("bootstrap")
    (ws / ".hidden").write_text("hidden")
    (ws / "img.png").write_bytes(b"\x89PNG\0\0\0")
    (ws / "leak.txt").symlink_to(secret)
    (ws / "leakdir").symlink_to(tmp_path)
    files = dict(workspace_text_files(ws, first=["docs/b.md"]))
    assert list(files) == ["docs/b.md", "a.txt"]
    assert files["a.txt"] == "hello" and files["docs/b.md"] == "B" * 3000


# ----------------------------------------------------------------------------- the client over HTTP
@pytest.mark.parametrize("reply", [
    json.dumps(GOOD),
    f"```json\n{json.dumps(GOOD, indent=2)}\n```",
    f"After careful review:\n{json.dumps(GOOD)}\nEnd.",
])
def test_judge_over_http(judge: ScriptedJudge, reply: str) -> None:
    judge.replies.append(reply)
    result = RubricJudge(judge.config()).grade(RUBRIC, [], [("poem.txt", "roses")])
    assert result.scored and result.score == pytest.approx(0.625) and result.attempts == 1
    request = judge.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "judge-test-double"
    assert request["auth"] == "Bearer test-key" and request["temperature"] == 0.0
    prompt = request["messages"][-1]["content"]
    assert "## Task\nWrite a poem." in prompt and "### File: poem.txt\nroses" in prompt
    assert '"Quality", "Length"' in prompt and "(the agent did nothing)" in prompt


def test_prose_total_and_garbage(judge: ScriptedJudge) -> None:
    judge.replies.extend(["Solid work. Total: 0.75"])
    result = RubricJudge(judge.config()).grade(RUBRIC, [])
    assert result.scored and result.score == 0.75 and result.scores == {}
    judge.replies.extend(["lorem ipsum", "still no score", "{broken json"])
    result = RubricJudge(judge.config(max_retries=2)).grade(RUBRIC, [])
    assert not result.scored and result.score is None and result.attempts == 3
    assert "unusable judge reply" in (result.error or "")


def test_retries_on_500_and_429_but_not_401(judge: ScriptedJudge) -> None:
    judge.replies.extend([(500, {}), (429, {"Retry-After": "0"}), json.dumps(GOOD)])
    result = RubricJudge(judge.config(max_retries=2)).grade(RUBRIC, [])
    assert result.scored and result.attempts == 3 and len(judge.requests) == 3
    judge.replies.extend([(401, {}), json.dumps(GOOD)])
    result = RubricJudge(judge.config(max_retries=2)).grade(RUBRIC, [])
    assert not result.scored and result.attempts == 1 and "HTTP 401" in (result.error or "")
    judge.replies.clear()
    judge.replies.extend([(503, {})] * 2)
    result = RubricJudge(judge.config(max_retries=1)).grade(RUBRIC, [])
    assert not result.scored and result.attempts == 2 and "HTTP 503" in (result.error or "")


def test_unreachable_endpoint() -> None:
    cfg = JudgeConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2, max_retries=1, retry_backoff_s=0.01)
    result = RubricJudge(cfg).grade(RUBRIC, [])
    assert not result.scored and result.attempts == 2 and "judge endpoint failed" in (result.error or "")


# ----------------------------------------------------------------------------- hybrid scoring
def test_combine_rules() -> None:
    pinch = PinchBenchSource(PINCH)
    hybrid, judge_only = rubric_plan(pinch.load("task_10_workflow")), rubric_plan(pinch.load("task_03_blog"))
    assert rubric_plan(pinch.load("task_09_files")) is None
    assert hybrid is not None and judge_only is not None and judge_only.judge_only
    good = JudgeResult(True, score=0.5)
    assert combine(0.8, hybrid, good, judge_configured=True).reward == pytest.approx(0.65)
    assert combine(0.8, judge_only, good, judge_configured=True).reward == 0.5
    out = combine(0.8, hybrid, None, judge_configured=False)
    assert out.reward == 0.8 and out.rubric is not None and not out.rubric["scored"] and out.infra_error is None
    out = combine(0.0, judge_only, None, judge_configured=False)
    assert out.reward == 0.0 and out.unscored and out.code_score is None
    out = combine(0.8, hybrid, JudgeResult(False, error="boom"), judge_configured=True)
    assert out.reward == 0.8 and out.infra_error and "boom" in out.infra_error


WORKFLOW_ACTIONS = [
    {"name": "read", "arguments": {"path": "config.json"}},
    {"name": "write", "arguments": {"path": "fetch.py", "content": (
        "import json\nimport urllib.request\n\n"
        "with open('config.json') as fh:\n    url = json.load(fh)['api']['endpoint']\n"
        "print(urllib.request.urlopen(url, timeout=30).read())\n")}},
    {"name": "write", "arguments": {"path": "NOTES.md", "content": "# Notes\n\nfetch.py reads config.json.\n"}},
    DONE,
]
# task_10's grader: read_config 0 (it looks for ``read_file``), the other five criteria 1
WORKFLOW_CODE = 5 / 6


def test_pinchbench_hybrid_through_the_env(judge: ScriptedJudge, pinch: PinchBenchSource) -> None:
    judge.replies.append(json.dumps({"scores": {
        "Script Quality and Functionality": 0.75, "Documentation Quality": 0.5,
        "Process Understanding": 1.0, "Overall Completeness": 0.8}, "total": 0.76, "notes": "ok"}))
    env = ClawGymEnv(pinch.load("task_10_workflow"), judge=judge.config())
    try:
        env.reset(seed=0)
        for action in WORKFLOW_ACTIONS:
            _, reward, terminated, _, info = env.step(action)
    finally:
        env.close()
    assert terminated and info["infra_error"] is None and not info["unscored"]
    assert info["code_score"] == pytest.approx(WORKFLOW_CODE)
    rubric = info["rubric"]
    assert rubric["scored"] and rubric["score"] == pytest.approx(0.75) and rubric["weights"] == {"code": 0.5, "rubric": 0.5}
    assert rubric["scores"]["Overall Completeness"] == 0.75 and rubric["missing"] == []
    assert reward == pytest.approx(0.5 * WORKFLOW_CODE + 0.5 * 0.75)
    prompt = judge.requests[0]["messages"][-1]["content"]
    assert 'Tool: read({"path": "config.json"})' in prompt and "Result: {\n  \"api\"" in prompt
    assert "### File: NOTES.md\n# Notes" in prompt and "### File: fetch.py" in prompt
    assert "_clawgym_main" not in prompt and "reward.sh" not in prompt  # the verifier's files are not shown
    assert "### Criterion 1: Script Quality and Functionality (Weight: 30%)" in prompt


def test_custom_weights_and_judge_only(judge: ScriptedJudge, pinch: PinchBenchSource) -> None:
    task = pinch.load("task_10_workflow")
    task = task.model_copy(update={"metadata": {**task.metadata, "grading_weights": {"automated": 0.6, "llm_judge": 0.4}}})
    judge.replies.append('{"total": 0.5}')
    env = ClawGymEnv(task, judge={"base_url": judge.base_url, "model": "judge-test-double", "retry_backoff_s": 0.01})
    try:
        env.reset(seed=0)
        for action in WORKFLOW_ACTIONS:
            _, reward, *_, info = env.step(action)
    finally:
        env.close()
    assert reward == pytest.approx(0.6 * WORKFLOW_CODE + 0.4 * 0.5)

    judge.replies.append(json.dumps({"scores": {"Content Quality and Relevance": 0.25, "Task Completion": 0.75}}))
    env = ClawGymEnv(pinch.load("task_03_blog"), judge=judge.config())
    try:
        env.reset(seed=0)
        _, reward, *_, info = env.step({"role": "assistant", "content": "Here is a short blog post."})
    finally:
        env.close()
    assert reward == 0.5 and info["code_score"] is None and not info["unscored"] and info["rubric"]["scored"]
    assert "Assistant: Here is a short blog post." in judge.requests[-1]["messages"][-1]["content"]


def test_no_judge_reports_unscored(pinch: PinchBenchSource) -> None:
    env = ClawGymEnv(pinch.load("task_10_workflow"))
    try:
        env.reset(seed=0)
        for action in WORKFLOW_ACTIONS:
            _, reward, *_, info = env.step(action)
    finally:
        env.close()
    assert reward == pytest.approx(WORKFLOW_CODE) and info["code_score"] == pytest.approx(WORKFLOW_CODE)
    assert info["rubric"]["scored"] is False and info["rubric"]["reason"] == "no judge configured"
    assert info["rubric"]["score"] is None and not info["unscored"] and info["infra_error"] is None

    env = ClawGymEnv(pinch.load("task_03_blog"))
    try:
        env.reset(seed=0)
        _, reward, *_, info = env.step({"role": "assistant", "content": "A blog post."})
    finally:
        env.close()
    assert reward == 0.0 and info["unscored"] is True and info["rubric"]["scored"] is False
    assert info["code_score"] is None and info["infra_error"] is None


def test_failing_judge_is_an_infra_error(judge: ScriptedJudge, pinch: PinchBenchSource) -> None:
    judge.replies.extend([(500, {}), (500, {})])
    env = ClawGymEnv(pinch.load("task_10_workflow"), judge=judge.config(max_retries=1))
    try:
        env.reset(seed=0)
        for action in WORKFLOW_ACTIONS:
            _, reward, *_, info = env.step(action)
    finally:
        env.close()
    assert reward == pytest.approx(WORKFLOW_CODE) and not info["rubric"]["scored"]
    assert info["infra_error"] and "HTTP 500" in info["infra_error"] and len(judge.requests) == 2


def _rules_task(tmp_secret: Path) -> Task:
    check = ("import json, sys, pathlib\n"
             "ws = pathlib.Path(sys.argv[1])\n"
             "print(json.dumps({'report_exists': (ws / 'output' / 'report.md').is_file()}))\n")
    rules = [
        {"name": "report_clarity", "file_path": "output/report.md",
         "scores": {"0": "missing", "0.25": "poor", "0.5": "fair", "0.75": "good", "1": "excellent"}},
        {"name": "report_accuracy", "file_path": "output/report.md",
         "scores": {"0": "wrong", "0.25": "mostly wrong", "0.5": "mixed", "0.75": "mostly right", "1": "right"}},
    ]
    return Task(task_id="rules_task", user_query="Write output/report.md summarising data.txt.",
                metadata={"category": "", "grading_type": "hybrid", "rules": rules},
                input_files={"data.txt": b"a,b\n1,2\n"},
                reward_files={"reward.sh": REWARD_SH.encode(), "check.py": check.encode()})


def test_clawgym_rules_default_to_70_30(judge: ScriptedJudge, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("HOST-ONLY-SECRET-7731")
    secret.chmod(0o644)
    judge.replies.append(json.dumps({"scores": {"report_clarity": 1.0, "report_accuracy": 0.5}}))
    env = ClawGymEnv(_rules_task(secret), judge=judge.config())
    try:
        env.reset(seed=0)
        env.step({"name": "write", "arguments": {"path": "output/report.md", "content": "# Report\nSum is 3.\n"}})
        env.step({"name": "exec", "arguments": {"command": f"ln -s {secret} leak.txt && ln -s / root_link"}})
        _, reward, *_, info = env.step(DONE)
    finally:
        env.close()
    assert info["code_score"] == 1.0 and info["rubric"]["origin"] == "clawgym"
    assert info["rubric"]["weights"] == {"code": 0.7, "rubric": 0.3}
    assert reward == pytest.approx(0.7 * 1.0 + 0.3 * 0.75)
    prompt = judge.requests[0]["messages"][-1]["content"]
    assert prompt.index("### File: output/report.md") < prompt.index("### File: data.txt")
    assert "### report_clarity (judge the file `output/report.md`" in prompt and "**Score 0.75**: good" in prompt
    assert "HOST-ONLY-SECRET" not in json.dumps(judge.requests)  # links are never followed to the host
