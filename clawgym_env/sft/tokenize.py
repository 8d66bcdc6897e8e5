"""Conversations -> token ids + loss mask, exactly: 1 on the model's own tokens, 0 on everything else.

The mask is found by rendering prefixes of the conversation with the tokenizer's chat template:
assistant message ``i`` is the text between ``template(messages[:i], add_generation_prompt=True)``
and ``template(messages[:i+1])`` (the authors' rule, spec D3), cut after its end-of-turn token, so
the generation-prompt header (``<|im_start|>assistant\\n``) and whatever the template appends after
the end-of-turn token are context, not targets. The text is then tokenized segment by segment and
the result must equal templating the whole conversation at once; when it does not (a template
that rewrites history, a BPE merge across a turn boundary) that is a :class:`TemplateDriftError`,
never silently different training data.

Also here: veRL's own per-message algorithm as a check (``check_per_message_tokenization``), the
authors' OpenRLHF pre-tokenized row (``to_openrlhf_pretok``) and exact ids recorded by a local model
during rollouts (``tokens_from_rollout``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clawgym_env.agents.templates import resolve_chat_template, trl_chat_templates_dir

if TYPE_CHECKING:
    from clawgym_env.rollout.records import TrajectoryRecord

# End-of-turn markers of common chat formats; the tokenizer's own eos token is always one too.
KNOWN_STOP_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|return|>", "<|endoftext|>")


class TemplateDriftError(ValueError):
    """Per-turn tokenization differs from templating the whole conversation (or the template is not
    prefix-preserving): training on it would teach the model token sequences it never sees."""


@dataclass
class TokenizedConversation:
    input_ids: list[int]
    loss_mask: list[int]
    """1 on model (assistant) tokens, 0 elsewhere; same length as ``input_ids``."""
    spans: list[tuple[int, int]] = field(default_factory=list)
    """``[start, end)`` token spans that are trained, one per assistant message, in order."""
    text: str = ""
    """The whole templated conversation."""

    def trained_text(self, tokenizer: Any) -> list[str]:
        """The decoded trained spans (for inspection and round-trip tests)."""
        return [tokenizer.decode(self.input_ids[s:e], skip_special_tokens=False) for s, e in self.spans]


# ---------------------------------------------------------------------------------------- templates


def load_tokenizer(name_or_path: str, chat_template: str | None = None) -> Any:
    """An HF tokenizer from a local path (or a hub id already in the cache); ``chat_template``
    replaces its template (a TRL template name or a .jinja path)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if chat_template:
        tokenizer.chat_template = resolve_chat_template(chat_template)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"tokenizer {name_or_path!r} has no chat template; pass chat_template= (e.g. "
                         f"'qwen3_instruct_2507' or a .jinja path)")
    return tokenizer


def _ids(out: Any) -> list[int]:
    """``apply_chat_template(tokenize=True)`` returns a list or a BatchEncoding depending on version."""
    if hasattr(out, "keys") and "input_ids" in out:
        out = out["input_ids"]
    if hasattr(out, "tolist"):
        out = out.tolist()
    if out and isinstance(out[0], list):
        out = out[0]
    return list(out)


def _render(tokenizer: Any, messages: Sequence[dict[str, Any]], tools: list[dict[str, Any]] | None,
            *, generation_prompt: bool, kwargs: dict[str, Any]) -> str:
    return tokenizer.apply_chat_template(list(messages), tools=tools or None, tokenize=False,
                                         add_generation_prompt=generation_prompt, **kwargs)


@functools.lru_cache(maxsize=32)
def _template_wants_objects(template: str) -> bool:
    """Whether the template needs tool-call arguments as objects: templates that ``tojson`` the
    arguments (Qwen2.5) would print a JSON *string* as a quoted, escaped string."""
    from transformers.utils.chat_template_utils import render_jinja_template

    probe = [{"role": "user", "content": "u"},
             {"role": "assistant", "content": "", "tool_calls": [
                 {"id": "c0", "type": "function", "function": {"name": "probe", "arguments": '{"k": "v"}'}}]}]
    try:
        rendered, _ = render_jinja_template(conversations=[probe], chat_template=template)
        text = rendered[0]
    except Exception:  # noqa: BLE001 - a template that cannot render the probe gets objects
        return True
    return '{"k": "v"}' not in text


def template_messages(tokenizer: Any, messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as this tokenizer's template expects them: tool-call arguments stay JSON strings
    when the template prints strings verbatim (Qwen3), become objects when it ``tojson``s them."""
    template = tokenizer.chat_template
    if not isinstance(template, str) or not _template_wants_objects(template):
        return [dict(m) for m in messages]
    out = []
    for m in messages:
        m = dict(m)
        if m.get("tool_calls"):
            calls = []
            for call in m["tool_calls"]:
                call = dict(call)
                fn = dict(call.get("function") or {})
                if isinstance(fn.get("arguments"), str):
                    try:
                        parsed = json.loads(fn["arguments"])
                    except ValueError:
                        parsed = None
                    if isinstance(parsed, dict):
                        fn["arguments"] = parsed
                call["function"] = fn
                calls.append(call)
            m["tool_calls"] = calls
        out.append(m)
    return out


def stop_tokens(tokenizer: Any) -> list[str]:
    """The end-of-turn strings a model generates last: the eos token and known markers this
    tokenizer has as single tokens."""
    vocab = tokenizer.get_vocab()
    stops = [t for t in KNOWN_STOP_TOKENS if t in vocab]
    eos = getattr(tokenizer, "eos_token", None)
    if eos and eos not in stops:
        stops.insert(0, eos)
    return stops


def _drift(where: str, got: list[int], want: list[int], tokenizer: Any) -> TemplateDriftError:
    j = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    lo = max(0, j - 8)
    return TemplateDriftError(
        f"{where}: per-turn tokenization differs from templating the whole conversation at token {j} "
        f"(per-turn {len(got)} tokens, whole {len(want)}): per-turn …{tokenizer.decode(got[lo:j + 8])!r}… vs "
        f"whole …{tokenizer.decode(want[lo:j + 8])!r}…")


# ------------------------------------------------------------------------------------ tokenization
def tokenize_conversation(tokenizer: Any, messages: Sequence[dict[str, Any]], tools: list[dict[str, Any]] | None = None,
                          *, chat_template_kwargs: dict[str, Any] | None = None) -> TokenizedConversation:
    """Token ids + loss mask of a whole conversation; raises :class:`TemplateDriftError` when the
    per-turn segmentation does not reproduce ``apply_chat_template(messages, tools)`` token for token."""
    kwargs = dict(chat_template_kwargs or {})
    msgs = template_messages(tokenizer, messages)
    if not msgs or msgs[0].get("role") == "assistant":
        raise ValueError("a training conversation starts with a system or user message")
    full = _render(tokenizer, msgs, tools, generation_prompt=False, kwargs=kwargs)
    stops = stop_tokens(tokenizer)
    char_spans: list[tuple[int, int]] = []
    for i, m in enumerate(msgs):
        if m.get("role") != "assistant":
            continue
        prompt = _render(tokenizer, msgs[:i], tools, generation_prompt=True, kwargs=kwargs)
        upto = _render(tokenizer, msgs[: i + 1], tools, generation_prompt=False, kwargs=kwargs)
        if not upto.startswith(prompt):
            raise TemplateDriftError(
                f"message {i}: the template is not prefix-preserving: rendering messages[:{i}] with the generation "
                f"prompt is not a prefix of rendering messages[:{i + 1}] (a template that rewrites earlier turns, "
                f"e.g. one that drops past <think> blocks)")
        if not full.startswith(upto):
            raise TemplateDriftError(f"message {i}: rendering messages[:{i + 1}] is not a prefix of the whole "
                                     f"conversation: the template rewrites history after later turns")
        turn = upto[len(prompt):]
        end = max((turn.rfind(s) + len(s) for s in stops if s in turn), default=len(turn))
        char_spans.append((len(prompt), len(prompt) + end))

    input_ids: list[int] = []
    loss_mask: list[int] = []
    spans: list[tuple[int, int]] = []
    cursor = 0

    def add(text: str, trained: bool) -> None:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
        input_ids.extend(ids)
        loss_mask.extend([int(trained)] * len(ids))

    for start, end in char_spans:
        add(full[cursor:start], False)
        first = len(input_ids)
        add(full[start:end], True)
        spans.append((first, len(input_ids)))
        cursor = end
    add(full[cursor:], False)

    whole = _ids(tokenizer.apply_chat_template(msgs, tools=tools or None, tokenize=True,
                                               add_generation_prompt=False, **kwargs))
    if input_ids != whole:
        raise _drift("conversation", input_ids, whole, tokenizer)
    return TokenizedConversation(input_ids=input_ids, loss_mask=loss_mask, spans=spans, text=full)


def check_per_message_tokenization(tokenizer: Any, messages: Sequence[dict[str, Any]],
                                   tools: list[dict[str, Any]] | None = None, *,
                                   chat_template_kwargs: dict[str, Any] | None = None) -> None:
    """veRL 0.9.1 ``MultiTurnSFTDataset``'s algorithm, without veRL: each message templated alone
    (tools with the first only), the template's default system prefix cut from later messages, the
    concatenation compared with templating the whole conversation. Raises :class:`TemplateDriftError`
    where veRL would raise its AssertionError (e.g. consecutive tool messages that a Qwen template
    merges into one user turn)."""
    kwargs = dict(chat_template_kwargs or {})
    msgs = template_messages(tokenizer, messages)
    one = _ids(tokenizer.apply_chat_template([{"role": "user", "content": ""}], tokenize=True, **kwargs))
    two = _ids(tokenizer.apply_chat_template([{"role": "user", "content": ""}] * 2, tokenize=True, **kwargs))
    system_len = len(one) - (len(two) - len(one))
    ids: list[int] = []
    for i, m in enumerate(msgs):
        part = _ids(tokenizer.apply_chat_template([m], tools=(tools or None) if i == 0 else None, tokenize=True,
                                                  add_generation_prompt=False, **kwargs))
        if i != 0 and m.get("role") != "system":
            part = part[system_len:]
        ids.extend(part)
    whole = _ids(tokenizer.apply_chat_template(msgs, tools=tools or None, tokenize=True,
                                               add_generation_prompt=False, **kwargs))
    if ids != whole:
        raise _drift("veRL per-message tokenization", ids, whole, tokenizer)


def to_openrlhf_pretok(conv: TokenizedConversation, tokenizer: Any) -> dict[str, Any]:
    """The authors' pre-tokenized OpenRLHF row (spec D3): ``prompt`` = the text before the first
    trained span, ``response`` = the rest, ``prompt_ids_len`` = its token count, and
    ``response_ranges`` = ``[start - 1, end)`` per trained span (logit positions: the one-token shift
    for labels). Unlike the authors' script, the template's newline after the end-of-turn token is
    not trained (it is not a model token)."""
    if not conv.spans:
        raise ValueError("a conversation with no assistant message has nothing to train on")
    first = conv.spans[0][0]
    prompt = tokenizer.decode(conv.input_ids[:first], skip_special_tokens=False)
    response = tokenizer.decode(conv.input_ids[first:], skip_special_tokens=False)
    if prompt + response != conv.text:
        raise TemplateDriftError("decoding the token ids does not give back the templated text; this tokenizer "
                                 "cannot be used with a text-based (OpenRLHF) pipeline without drift")
    return {"prompt": prompt, "response": response, "prompt_ids_len": first,
            "response_ranges": [[s - 1, e - 1] for s, e in conv.spans]}


def tokens_from_rollout(record: TrajectoryRecord) -> TokenizedConversation:
    """The exact token ids a local model saw and produced during the rollout (``HFAgent`` records
    ``prompt_ids``/``response_ids`` per turn): one sequence, mask 1 on the generated ids. Each turn's
    prompt must begin with the previous turn's prompt + response, else the history was re-rendered
    differently from what the model generated (:class:`TemplateDriftError`)."""
    turns = [t.raw for t in record.turns]
    if not turns or not all(isinstance(r, dict) and "prompt_ids" in r and "response_ids" in r for r in turns):
        raise ValueError(f"{record.episode_id}: no recorded token ids (only HFAgent rollouts record them; "
                         f"re-tokenize the messages with tokenize_conversation instead)")
    input_ids: list[int] = []
    loss_mask: list[int] = []
    spans: list[tuple[int, int]] = []
    for k, raw in enumerate(turns):
        prompt = list(raw["prompt_ids"])
        if prompt[: len(input_ids)] != input_ids:
            j = next((i for i, (a, b) in enumerate(zip(prompt, input_ids)) if a != b), len(prompt))
            raise TemplateDriftError(
                f"{record.episode_id}: turn {k}'s prompt does not extend turn {k - 1}'s prompt + response (first "
                f"difference at token {j}): the agent re-rendered the history differently from what the model "
                f"generated; train per turn or on re-tokenized messages")
        new = prompt[len(input_ids):]
        input_ids.extend(new)
        loss_mask.extend([0] * len(new))
        start = len(input_ids)
        input_ids.extend(raw["response_ids"])
        loss_mask.extend([1] * len(raw["response_ids"]))
        spans.append((start, len(input_ids)))
    return TokenizedConversation(input_ids=input_ids, loss_mask=loss_mask, spans=spans)


__all__ = [
    "KNOWN_STOP_TOKENS", "TemplateDriftError", "TokenizedConversation", "check_per_message_tokenization",
    "load_tokenizer", "resolve_chat_template", "stop_tokens", "template_messages", "to_openrlhf_pretok",
    "tokenize_conversation", "tokens_from_rollout", "trl_chat_templates_dir",
]
