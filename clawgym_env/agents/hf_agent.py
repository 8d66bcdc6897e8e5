"""HFAgent: a local Hugging Face transformers model as an agent (SFT checkpoints, small baselines).

Each turn renders the conversation with the tokenizer's own chat template (tools included, as the
model was trained), generates in a worker thread (``model.generate`` takes seconds to minutes and
must not stall the event loop other episodes share), and parses tool calls from the generated
text with :func:`clawgym_env.tools.parsing.parse_action`, as a vLLM tool parser would.

One agent serves many episodes, one ``generate`` at a time (a lock): the time a turn waits for it
is queue time, reported apart from the episode's own seconds. A turn cancelled by the episode's
deadline (the engine's ``wait_for`` around :meth:`act`) stops its generation at the next token
(a ``StoppingCriteria``), so the lock is freed for the next episode and no thread outlives the run.
A prompt that cannot fit the model's context with ``max_new_tokens`` ends the episode with the
``context_length`` reason, as an OpenAI-compatible server's refusal does.

The exact prompt and response token ids go into ``AgentTurn.raw`` (DESIGN contract 9: never
re-tokenize history for training; it drifts from what the model generated).

torch and transformers are imported when an HFAgent is created (``pip install torch==2.13.0`` first
on a CPU machine, then ``pip install 'clawgym[train]'``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from clawgym_env.agents.base import AgentTurn
from clawgym_env.agents.common import AgentError, count_tool_calls, note_queue_wait, turn_message
from clawgym_env.tasks.model import Task
from clawgym_env.tools.parsing import parse_action

__all__ = ["GenerationCall", "HFAgent", "ToolTemplateWarning", "template_messages"]


class HFAgent:
    """An agent that runs a transformers causal LM in-process.

    Args:
        model_or_path: a loaded ``PreTrainedModel`` (used as given: its train/eval mode is yours, e.g.
            when a trainer shares it) or a local path / hub id for ``from_pretrained`` (put in eval mode).
        tokenizer: a tokenizer with a chat template; default: loaded from ``model_or_path``.
        max_new_tokens: generation limit per turn.
        temperature: 0 = greedy; otherwise sampling with ``top_p``.
        device: where the model runs (``"cpu"``, ``"cuda"``, ...).
        dtype: torch dtype name for loading from a path (``"float32"``, ``"bfloat16"``); default float32.
        chat_template_kwargs: extra variables for the template (e.g. ``{"enable_thinking": False}``).
        stop_token_ids: ids that end a turn; default: the generation config's and tokenizer's eos.
        context_length: the most tokens prompt + ``max_new_tokens`` may take; default: the model's own
            limit (``max_position_embeddings``, or the tokenizer's ``model_max_length`` if smaller).
        chat_template: replaces the tokenizer's template (set on the tokenizer): a TRL template name
            (``qwen2_5``, ``qwen3_instruct_2507``) or a ``.jinja`` path, resolved as ``sft build`` does.
        strict: raise instead of warning when the template drops tool calls or tool schemas.

    A template that cannot render tool calls (:func:`~clawgym_env.agents.templates.tool_template_problems`)
    hides the tools from the model and erases its earlier calls from the history it is shown; the
    constructor warns once (:class:`ToolTemplateWarning`), or raises ``ValueError`` with ``strict``.
    """

    def __init__(
        self,
        model_or_path: Any,
        tokenizer: Any = None,
        *,
        max_new_tokens: int = 1024,
        temperature: float = 0.7,
        top_p: float = 1.0,
        device: str = "cpu",
        dtype: str | None = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        stop_token_ids: list[int] | None = None,
        text_tool_calls: bool = True,
        context_length: int | None = None,
        name: str = "hf",
        chat_template: str | None = None,
        strict: bool = False,
    ):
        try:
            import torch
            import transformers
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError("HFAgent needs torch and transformers: pip install torch==2.13.0, then "
                              "pip install 'clawgym[train]'") from exc
        template_text = None
        if chat_template:  # resolved before loading the model: a bad name fails at once
            from clawgym_env.agents.templates import resolve_chat_template

            template_text = resolve_chat_template(chat_template)
        self.name = name
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.device = device
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.text_tool_calls = text_tool_calls
        self.chat_template = chat_template
        self._torch = torch

        if isinstance(model_or_path, str):
            torch_dtype = getattr(torch, dtype or "float32")
            model = transformers.AutoModelForCausalLM.from_pretrained(model_or_path, dtype=torch_dtype).eval()
            self.model_name = model_or_path
        else:
            model = model_or_path
            self.model_name = str(getattr(model, "name_or_path", "") or type(model).__name__)
        if tokenizer is None:
            source = model_or_path if isinstance(model_or_path, str) else getattr(model, "name_or_path", None)
            if not source:
                raise ValueError("give a tokenizer: the model has no path to load one from")
            tokenizer = transformers.AutoTokenizer.from_pretrained(source)
        if template_text is not None:
            tokenizer.chat_template = template_text
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("the tokenizer has no chat template; set tokenizer.chat_template")
        _check_template(tokenizer, chat_template or f"{self.model_name}'s own", strict=strict)
        self.model = model.to(device)
        self.tokenizer = tokenizer
        self.stop_token_ids = stop_token_ids if stop_token_ids is not None else _eos_ids(model, tokenizer)
        if not self.stop_token_ids:
            raise ValueError("no stop token: the tokenizer and generation config name no eos; give stop_token_ids")
        self.context_length = context_length if context_length is not None else _context_limit(model, tokenizer)
        self._lock = threading.Lock()  # one generate at a time per agent; concurrent episodes queue here

    # ------------------------------------------------------------------ Agent protocol
    def begin_episode(self, task: Task) -> None:
        """Stateless between turns: one instance can serve many episodes (their turns take turns)."""

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AgentTurn:
        started = time.perf_counter()
        call = GenerationCall()
        try:
            raw = await asyncio.to_thread(self.generate, messages, tools, call)
        except asyncio.CancelledError:  # the episode's deadline (or Ctrl-C): free the model at the next token
            call.stop.set()
            note_queue_wait(call.queue_s if call.queue_s is not None else time.perf_counter() - started)
            raise
        note_queue_wait(raw["queue_s"])
        parsed = parse_action(raw["text"], id_offset=count_tool_calls(messages)) if self.text_tool_calls \
            else parse_action({"role": "assistant", "content": raw["text"]}, text_tool_calls=False)
        message, raw["malformed_tool_calls"] = turn_message(parsed)
        return AgentTurn(
            message=message,
            usage={"prompt_tokens": len(raw["prompt_ids"]), "completion_tokens": len(raw["response_ids"])},
            latency_s=time.perf_counter() - started - raw["queue_s"],
            model=self.model_name,
            raw=raw,
        )

    def config(self) -> dict[str, Any]:
        return {
            "agent": "hf", "name": self.name, "model": self.model_name, "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature, "top_p": self.top_p, "device": self.device,
            "chat_template_kwargs": dict(self.chat_template_kwargs), "stop_token_ids": list(self.stop_token_ids),
            "context_length": self.context_length,
            "chat_template": self.chat_template,
        }

    # ------------------------------------------------------------------ generation (worker thread)
    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> str:
        """The prompt text: the chat template over the conversation, tools and generation prompt."""
        return self.tokenizer.apply_chat_template(
            template_messages(messages), tools=tools or None, add_generation_prompt=True, tokenize=False,
            **self.chat_template_kwargs,
        )

    def generate(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
                 call: GenerationCall | None = None) -> dict[str, Any]:
        """Blocking: render, tokenize, generate. Returns the token ids, texts, finish reason and the
        seconds spent waiting for the model (``queue_s``). Setting ``call.stop`` (from any thread)
        ends generation at the next token, or before it starts; the finish reason is then ``"stopped"``.
        Raises :class:`AgentError` (``context_length``) when the prompt and ``max_new_tokens`` do not fit."""
        torch = self._torch
        call = call if call is not None else GenerationCall()
        prompt_text = self.render(messages, tools)
        prompt_ids: list[int] = self.tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
        if self.context_length is not None and len(prompt_ids) + self.max_new_tokens > self.context_length:
            raise AgentError(f"{self.model_name}: the prompt is {len(prompt_ids)} tokens; with max_new_tokens "
                             f"{self.max_new_tokens} it exceeds the model's context length {self.context_length}",
                             kind="context_length")
        sampling: dict[str, Any] = {"do_sample": False}
        if self.temperature > 0:
            sampling = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_token_ids[0]
        input_ids = torch.tensor([prompt_ids], dtype=torch.long, device=self.device)
        waiting = time.perf_counter()
        held = False
        while not call.stop.is_set() and not held:  # queue for the model, but leave when stopped
            held = self._lock.acquire(timeout=0.05)
        call.queue_s = time.perf_counter() - waiting
        response_ids: list[int] = []
        if held:
            try:
                with torch.inference_mode():
                    out = self.model.generate(
                        input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                        max_new_tokens=self.max_new_tokens, eos_token_id=list(self.stop_token_ids), pad_token_id=pad,
                        stopping_criteria=_stopping_criteria(call.stop), **sampling,
                    )
                response_ids = out[0, len(prompt_ids):].tolist()
            except RuntimeError as exc:  # out of memory, device errors: not the model's answer
                raise AgentError(f"{self.model_name}: generate failed: {exc}", kind="backend") from exc
            finally:
                self._lock.release()
        stopped = bool(response_ids) and response_ids[-1] in self.stop_token_ids
        body_ids = response_ids[:-1] if stopped else response_ids
        finish = "stop" if stopped else "stopped" if call.stop.is_set() else "length"
        return {
            "prompt_ids": prompt_ids,
            "response_ids": response_ids,
            "prompt_text": prompt_text,
            "response_text": self.tokenizer.decode(response_ids, skip_special_tokens=False),
            "text": self.tokenizer.decode(body_ids, skip_special_tokens=False),
            "finish_reason": finish,
            "queue_s": call.queue_s or 0.0,
        }


@dataclass
class GenerationCall:
    """One :meth:`HFAgent.generate` call, shared with the thread that runs it: ``stop`` ends it
    early; ``queue_s`` is how long it waited for the model (None until it got it or gave up)."""

    stop: threading.Event = field(default_factory=threading.Event)
    queue_s: float | None = None


def _stopping_criteria(stop: threading.Event) -> Any:
    """A transformers ``StoppingCriteriaList`` that ends generation once ``stop`` is set (checked
    after every token)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _Stop(StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([_Stop()])


def _context_limit(model: Any, tokenizer: Any) -> int | None:
    """The model's context length: ``max_position_embeddings`` and the tokenizer's ``model_max_length``,
    the smaller of those that are real (transformers puts ~1e30 in ``model_max_length`` when unknown)."""
    limits = []
    for value in (getattr(getattr(model, "config", None), "max_position_embeddings", None),
                  getattr(tokenizer, "model_max_length", None)):
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**8:
            limits.append(value)
    return min(limits) if limits else None


def template_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as chat templates expect them: tool-call arguments as objects (Qwen2.5's template
    applies ``tojson`` to them, which would double-encode a JSON string), content never None.
    Arguments that are not a JSON object stay as the model wrote them."""
    out = []
    for m in messages:
        m = dict(m)
        if m.get("content") is None:
            m["content"] = ""
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                fn = dict(c.get("function") or {})
                args = fn.get("arguments")
                if isinstance(args, str):
                    try:
                        value = json.loads(args)
                    except ValueError:
                        value = None
                    if isinstance(value, dict):
                        fn["arguments"] = value
                calls.append({**c, "function": fn})
            m["tool_calls"] = calls
        out.append(m)
    return out


class ToolTemplateWarning(UserWarning):
    """The HF agent's chat template drops tool calls or tool schemas: the model runs blind to its tools."""


def _check_template(tokenizer: Any, which: str, *, strict: bool) -> None:
    from clawgym_env.agents.templates import TEMPLATE_HINT, tool_template_problems

    problems = tool_template_problems(tokenizer)
    if not problems:
        return
    message = (f"HFAgent: chat template {which} cannot carry tool calling, so the model never sees its tools or its "
               f"own earlier calls: {'; '.join(problems)}. Pass --chat-template NAME_OR_PATH (chat_template=): "
               f"{TEMPLATE_HINT}")
    if strict:
        raise ValueError(message)
    warnings.warn(message, ToolTemplateWarning, stacklevel=3)


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids: list[int] = []
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (config_eos, tokenizer.eos_token_id):
        for i in (value if isinstance(value, (list, tuple)) else [value]):
            if isinstance(i, int) and i not in ids:
                ids.append(i)
    return ids
