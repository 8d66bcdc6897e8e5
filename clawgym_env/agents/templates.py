"""Whether a chat template can carry tool calling: one probe shared by ``sft build`` and the HF agent.

A template that renders only ``message['content']`` (SmolLM2's plain ChatML, the basic Llama 3
template) runs without an error yet drops what an agent needs: the tool schemas never reach the
prompt, and an assistant turn that only calls a tool renders as an empty turn. Training data made
with it teaches the model to end its turn instead of calling a tool, and a model run with it never
sees its tools. :func:`tool_template_problems` renders small conversations the way TRL's
``supports_tool_calling()`` does (distinct sentinels for the call's name, argument key and value and
the tool result; arguments as an object, then as a JSON string for templates that reject objects)
and adds two checks TRL does not make: the tool schemas appear in the rendered prompt, and the
call's name and arguments appear inside the rendered *assistant turn* (the part that is trained).

It never imports TRL (slow to import); only the tokenizer's own ``apply_chat_template`` runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["TEMPLATE_HINT", "resolve_chat_template", "tool_template_problems", "trl_chat_templates_dir"]

TEMPLATE_HINT = ("a tool-capable template: a TRL template name such as qwen2_5 or qwen3_instruct_2507 "
                 "(ChatML, like SmolLM2's and Qwen's tokenizers), or a .jinja file")
"""What to pass to ``--chat-template`` / ``chat_template=`` instead; errors and warnings quote it."""

_NAME = "tool_name_a8f3e2b1"
_ARG_KEY = "tool_arg_key_b9d4f5c2"
_ARG_VAL = "tool_arg_val_d6e7a9f3"
_RESULT = "tool_content_c4f9a8e2"
_SCHEMA_NAME = "schema_tool_e5b7c1d9"
_SCHEMA_PARAM = "schema_param_f2a6d8e4"


def _render(tokenizer: Any, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None,
            generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tools=tools, tokenize=False,
                                         add_generation_prompt=generation_prompt)


def _calls(arguments: Any) -> list[dict[str, Any]]:
    return [{"id": "call_0", "type": "function", "function": {"name": _NAME, "arguments": arguments}}]


def _render_with_call(tokenizer: Any, with_result: bool) -> tuple[list[dict[str, Any]], str]:
    """The probe conversation and its rendering: arguments as an object first (what most templates
    ``tojson``), then as a JSON string (templates that reject dicts, e.g. DeepSeek-V3's)."""
    last: Exception | None = None
    for arguments in ({_ARG_KEY: _ARG_VAL}, json.dumps({_ARG_KEY: _ARG_VAL})):
        messages = [{"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "", "tool_calls": _calls(arguments)}]
        if with_result:
            messages.append({"role": "tool", "tool_call_id": "call_0", "name": _NAME, "content": _RESULT})
        try:
            return messages, _render(tokenizer, messages)
        except TypeError as exc:
            last = exc
    assert last is not None
    raise last


def tool_template_problems(tokenizer: Any) -> list[str]:
    """What the tokenizer's chat template loses of a tool-calling conversation; empty = nothing.

    Each entry is one sentence naming the missing part (schemas, the call's name or arguments in the
    assistant turn, the tool result) or the error rendering raised."""
    if not getattr(tokenizer, "chat_template", None):
        return ["the tokenizer has no chat template"]
    problems: list[str] = []
    # 1. TRL's probe: user -> assistant(tool_calls) -> tool renders, and all four sentinels survive.
    try:
        messages, text = _render_with_call(tokenizer, with_result=True)
    except Exception as exc:  # noqa: BLE001 - jinja2 TemplateError, raise_exception(), TypeError: all mean "cannot"
        return [(f"rendering a tool-calling conversation (user, assistant tool call, tool result) fails: "
                 f"{type(exc).__name__}: {exc}")]
    missing = [what for what, s in (("name", _NAME), ("argument names", _ARG_KEY), ("argument values", _ARG_VAL))
               if s not in text]
    if missing:
        problems.append(f"it drops assistant tool calls: their {', '.join(missing)} are not in the rendered text "
                        f"(it renders only message content)")
    if _RESULT not in text:
        problems.append("it drops tool results: a role 'tool' message's content is not in the rendered text")
    # 2. The call is inside the assistant turn (what SFT trains), not only somewhere in the text.
    if not missing:
        try:
            prompt = _render(tokenizer, messages[:1], generation_prompt=True)
            upto = _render(tokenizer, messages[:2])
        except Exception as exc:  # noqa: BLE001
            problems.append(f"rendering the assistant tool-call turn alone fails: {type(exc).__name__}: {exc}")
        else:
            turn = upto[len(os.path.commonprefix([prompt, upto])):]
            lost = [what for what, s in (("name", _NAME), ("arguments", _ARG_VAL)) if s not in turn]
            if lost:
                problems.append(f"the assistant turn it renders for a tool call lacks the call's {' and '.join(lost)} "
                                f"(a model trained on it learns to end its turn instead of calling the tool)")
    # 3. The tool schemas reach the prompt.
    schema = {"type": "function", "function": {
        "name": _SCHEMA_NAME, "description": "probe",
        "parameters": {"type": "object", "properties": {_SCHEMA_PARAM: {"type": "string"}},
                       "required": [_SCHEMA_PARAM]}}}
    try:
        prompt = _render(tokenizer, [{"role": "user", "content": "hi"}], tools=[schema], generation_prompt=True)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"rendering a prompt with tool schemas fails: {type(exc).__name__}: {exc}")
    else:
        lost = [what for what, s in (("tool name", _SCHEMA_NAME), ("parameter names", _SCHEMA_PARAM))
                if s not in prompt]
        if lost:
            problems.append(f"it drops the tool schemas: their {' and '.join(lost)} are not in the rendered prompt "
                            f"(the model is never shown its tools)")
    return problems


def trl_chat_templates_dir() -> Path | None:
    """TRL's bundled chat templates (found without importing TRL, which is slow to import)."""
    spec = importlib.util.find_spec("trl")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "chat_templates"
    return path if path.is_dir() else None


def resolve_chat_template(spec: str) -> str:
    """A chat template's text from a ``.jinja`` path or the name of one of TRL's templates
    (``qwen3_instruct_2507``, ``qwen2_5``, ``llama3``, ...)."""
    path = Path(spec)
    if path.is_file():
        return path.read_text()
    bundled = trl_chat_templates_dir()
    if bundled is not None and (bundled / f"{spec}.jinja").is_file():
        return (bundled / f"{spec}.jinja").read_text()
    names = sorted(p.stem for p in bundled.glob("*.jinja")) if bundled else []
    hint = f"TRL's templates: {', '.join(names)}" if names else "TRL is not installed, so only .jinja paths work"
    raise FileNotFoundError(f"chat template {spec!r} is neither a file nor a TRL template name ({hint})")
