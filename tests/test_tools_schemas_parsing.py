"""Tool schemas, JS-compatible JSON, AJV-style validation, action parsing and the system prompt.

Expected strings marked "reference" were produced by running the real code: pi-ai 0.61.1's
``validateToolArguments``/``parseStreamingJson`` (AJV 8, partial-json 0.1.7) under Node, and
OpenClaw 2026.3.24's ``buildAgentSystemPrompt`` with the same inputs.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest

from clawgym_env.tools import (
    PROFILES,
    ParsedAction,
    ToolCall,
    bootstrap_files,
    build_system_prompt,
    parse_action,
    tool_schemas,
)
from clawgym_env.tools.ajv import format_validation_error, validate
from clawgym_env.tools.jsjson import js_number_to_string, js_stringify, js_to_number, parse_streaming_json
from clawgym_env.tools.prompt import format_skills_prompt
from clawgym_env.tools.schemas import schema_for

WS = "/root/.openclaw/workspace"
SFT_ORDER = [
    "read", "edit", "write", "exec", "process", "browser", "canvas", "message", "tts", "agents_list",
    "sessions_list", "sessions_history", "sessions_send", "sessions_yield", "sessions_spawn", "subagents",
    "session_status", "web_fetch", "memory_get",
]


# ---------------------------------------------------------------- schemas


def test_openclaw_profile_is_the_sft_list_in_order() -> None:
    schemas = tool_schemas("openclaw")
    assert len(schemas) == 19
    assert [s["function"]["name"] for s in schemas] == SFT_ORDER
    assert all(s["type"] == "function" and set(s["function"]) == {"name", "description", "parameters"} for s in schemas)
    raw = resources.files("clawgym_env.tools").joinpath("data/openclaw_sft_tools.json").read_text("utf-8")
    assert json.dumps(schemas, indent=2, ensure_ascii=False) + "\n" == raw  # byte for byte, key order included


def test_coding_profile_has_five_tools_with_the_same_schemas() -> None:
    schemas = tool_schemas("coding")
    assert [s["function"]["name"] for s in schemas] == ["read", "write", "edit", "exec", "process"]
    assert list(PROFILES["coding"]) == ["read", "write", "edit", "exec", "process"]
    for s in schemas:
        assert s == schema_for(s["function"]["name"])


def test_sft_schema_details() -> None:
    exec_params = schema_for("exec")["function"]["parameters"]
    assert exec_params["required"] == ["command"]
    assert exec_params["properties"]["env"] == {"type": "object", "patternProperties": {"^(.*)$": {"type": "string"}}}
    assert schema_for("read")["function"]["parameters"]["required"] == []  # alias patching empties it in 3.24
    assert list(schema_for("edit")["function"]["parameters"]["properties"]) == [
        "path", "oldText", "newText", "file_path", "filePath", "file", "old_string", "old_text", "oldString",
        "new_string", "new_text", "newString"]
    assert schema_for("agents_list")["function"]["parameters"] == {"type": "object", "properties": {}}


def test_schemas_are_fresh_copies_and_profiles_checked() -> None:
    a = tool_schemas("coding")
    a[0]["function"]["name"] = "mutated"
    assert tool_schemas("coding")[0]["function"]["name"] == "read"
    with pytest.raises(ValueError, match="unknown tool profile"):
        tool_schemas("full")


# ---------------------------------------------------------------- JS JSON


@pytest.mark.parametrize("value, text", [
    (5, "5"), (5.0, "5"), (-0.0, "0"), (1.5, "1.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (1.5e-7, "1.5e-7"), (0.000001, "0.000001"), (123456789012345680000.0, "123456789012345680000"),
    (12345678901234567890, "12345678901234567000"), (float("nan"), "NaN"), (float("-inf"), "-Infinity"),
])
def test_js_number_to_string(value: float, text: str) -> None:
    assert js_number_to_string(value) == text


def test_js_stringify_matches_json_stringify() -> None:
    assert js_stringify({}, 2) == "{}"
    assert js_stringify({"b": 1, "10": 2, "2": 3, "a": [], "x": [1.0, None, True]}) == \
        '{"2":3,"10":2,"b":1,"a":[],"x":[1,null,true]}'
    assert js_stringify({"s": "\u2028\x01\x7f\ud800\"\\\n"}) == '{"s":"\u2028\\u0001\x7f\\ud800\\"\\\\\\n"}'
    assert js_stringify({"a": {"b": [1, 2]}}, 2) == '{\n  "a": {\n    "b": [\n      1,\n      2\n    ]\n  }\n}'


@pytest.mark.parametrize("s, number", [
    ("5", 5), (" 5 ", 5), ("0x10", 16), ("1e3", 1000), (".5", 0.5), ("  ", 0), ("", 0), ("-Infinity", float("-inf")),
    ("5px", None), ("1_000", None), ("inf", None), ("NaN", None),
])
def test_js_to_number(s: str, number: float | None) -> None:
    assert js_to_number(s) == number


@pytest.mark.parametrize("text, value, valid", [  # reference: pi-ai parseStreamingJson
    ("", {}, True),
    ("   ", {}, True),
    ('{"command": "ls"}', {"command": "ls"}, True),
    ('"ls -la"', "ls -la", True),
    ("not json", {}, False),
    ("{", {}, False),
    ('{"command": "ls', {"command": "ls"}, False),
    ('{"command": "ls", "timeout": ', {"command": "ls"}, False),
    ('{"command": "ls"} trailing', {"command": "ls"}, False),
    ('{"command": "ls", "background": tr', {"command": "ls", "background": True}, False),
    ("{'command': 'ls'}", {}, False),
    ('{"command": "a\\', {"command": "a"}, False),
    ("[1, 2", [1, 2], False),
    ("nu", {}, False),
])
def test_parse_streaming_json(text: str, value: object, valid: bool) -> None:
    assert parse_streaming_json(text) == (value, valid)


# ---------------------------------------------------------------- validation (reference texts from AJV via pi-ai)


def _check(tool: str, args: object) -> tuple[object, str | None]:
    data, errors = validate(schema_for(tool)["function"]["parameters"], args)
    return data, (format_validation_error(tool, errors, args) if errors else None)


def test_missing_required() -> None:
    _, text = _check("exec", {})
    assert text == "Validation failed for tool \"exec\":\n  - command: must have required property 'command'\n\nReceived arguments:\n{}"
    _, text = _check("write", {"path": "a.txt"})
    assert text == ('Validation failed for tool "write":\n  - content: must have required property \'content\'\n\n'
                    'Received arguments:\n{\n  "path": "a.txt"\n}')


def test_coercion_like_ajv() -> None:
    data, text = _check("exec", {"command": 5, "timeout": "30", "background": "true"})
    assert text is None
    assert data == {"command": "5", "timeout": 30, "background": True}
    data, text = _check("read", {"path": "a.txt", "offset": 1.5e-7, "limit": "1e21"})
    assert text is None and js_stringify(data) == '{"path":"a.txt","offset":1.5e-7,"limit":1e+21}'


def test_wrong_types_in_ajv_order_with_nested_paths() -> None:
    _, text = _check("exec", {"command": ["ls"], "yieldMs": "soon", "env": {"A": 1, "B": {"x": 1}}})
    assert text == (
        'Validation failed for tool "exec":\n  - command: must be string\n  - env/B: must be string\n'
        '  - yieldMs: must be number\n\nReceived arguments:\n{\n  "command": [\n    "ls"\n  ],\n  "yieldMs": "soon",\n'
        '  "env": {\n    "A": 1,\n    "B": {\n      "x": 1\n    }\n  }\n}')


def test_enum_minimum_array_and_root_errors() -> None:
    _, text = _check("browser", {"action": "clickk", "type": "gif"})
    assert text == ('Validation failed for tool "browser":\n  - action: must be equal to one of the allowed values\n'
                    '  - type: must be equal to one of the allowed values\n\nReceived arguments:\n'
                    '{\n  "action": "clickk",\n  "type": "gif"\n}')
    _, text = _check("process", {"action": "poll", "timeout": -5, "keys": "Enter"})
    assert text == ('Validation failed for tool "process":\n  - keys: must be array\n  - timeout: must be >= 0\n\n'
                    'Received arguments:\n{\n  "action": "poll",\n  "timeout": -5,\n  "keys": "Enter"\n}')
    _, text = _check("web_fetch", {"url": "http://x", "maxChars": 50, "extractMode": "html"})
    assert "  - extractMode: must be equal to one of the allowed values\n  - maxChars: must be >= 100\n" in text
    _, text = _check("exec", "ls -la")
    assert text == 'Validation failed for tool "exec":\n  - root: must be object\n\nReceived arguments:\n"ls -la"'
    _, text = _check("sessions_spawn", {"task": "t", "attachments": [{}] * 51})
    assert text.startswith('Validation failed for tool "sessions_spawn":\n  - attachments: must NOT have more than 50 items\n'
                           "  - attachments/0: must have required property 'name'\n"
                           "  - attachments/0: must have required property 'content'\n")


def test_validation_does_not_touch_the_input() -> None:
    args = {"command": "ls", "timeout": "30"}
    data, _ = _check("exec", args)
    assert args == {"command": "ls", "timeout": "30"} and data == {"command": "ls", "timeout": 30}


# ---------------------------------------------------------------- parse_action


def test_openai_message_with_tool_calls() -> None:
    msg = {"role": "assistant", "content": "Let me look.", "reasoning_content": "hmm",
           "tool_calls": [
               {"id": "call_abc", "type": "function", "function": {"name": "exec", "arguments": '{"command": "ls"}'}},
               {"type": "function", "function": {"name": "read", "arguments": {"path": "a.txt"}}},
           ]}
    p = parse_action(msg)
    assert isinstance(p, ParsedAction)
    assert p.content == "Let me look."
    assert [(c.id, c.name, c.arguments, c.error) for c in p.tool_calls] == [
        ("call_abc", "exec", '{"command": "ls"}', None), ("call_1", "read", {"path": "a.txt"}, None)]
    assert p.assistant_message == {
        "role": "assistant", "content": "Let me look.", "reasoning_content": "hmm",
        "tool_calls": [
            {"id": "call_abc", "type": "function", "function": {"name": "exec", "arguments": '{"command": "ls"}'}},
            {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": '{"path": "a.txt"}'}},
        ]}


def test_final_answer_message_and_content_parts() -> None:
    p = parse_action({"role": "assistant", "content": [{"type": "text", "text": "Done. "}, {"type": "text", "text": "Bye"}]})
    assert p.tool_calls == [] and p.content == "Done. Bye"
    assert p.assistant_message == {"role": "assistant", "content": "Done. Bye"}
    p = parse_action({"role": "assistant", "content": None, "tool_calls": []})
    assert p.content == "" and "tool_calls" not in p.assistant_message


def test_single_call_dicts_and_lists() -> None:
    p = parse_action({"name": "exec", "arguments": {"command": "pwd"}})
    assert [(c.id, c.name, c.arguments) for c in p.tool_calls] == [("call_0", "exec", {"command": "pwd"})]
    assert p.assistant_message["tool_calls"][0]["function"]["arguments"] == '{"command": "pwd"}'
    p = parse_action({"id": "x1", "type": "function", "function": {"name": "read", "arguments": '{"path":"a"}'}})
    assert (p.tool_calls[0].id, p.tool_calls[0].name, p.tool_calls[0].arguments) == ("x1", "read", '{"path":"a"}')
    p = parse_action([{"name": "exec", "arguments": "{}"}, {"function": {"name": "read", "arguments": None}}], id_offset=7)
    assert [(c.id, c.name, c.arguments) for c in p.tool_calls] == [("call_7", "exec", "{}"), ("call_8", "read", "")]
    p = parse_action({"name": "exec", "parameters": {"command": "ls"}})  # Llama-style key
    assert p.tool_calls[0].arguments == {"command": "ls"}


def test_duplicate_or_missing_ids_get_deterministic_ones() -> None:
    p = parse_action({"role": "assistant", "tool_calls": [
        {"id": "a", "function": {"name": "exec", "arguments": "{}"}},
        {"id": "a", "function": {"name": "exec", "arguments": "{}"}},
        {"id": "", "function": {"name": "exec", "arguments": "{}"}}]})
    assert [c.id for c in p.tool_calls] == ["a", "call_1", "call_2"]


def test_hermes_text_blocks() -> None:
    text = ('I will list files.\n<tool_call>\n{"name": "exec", "arguments": {"command": "ls"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "read", "arguments": "{\\"path\\": \\"a.txt\\"}"}\n</tool_call>')
    p = parse_action(text)
    assert p.content == "I will list files."
    assert [(c.id, c.name, c.arguments, c.error) for c in p.tool_calls] == [
        ("call_0", "exec", {"command": "ls"}, None), ("call_1", "read", '{"path": "a.txt"}', None)]
    assert p.assistant_message["tool_calls"][1]["function"]["arguments"] == '{"path": "a.txt"}'


def test_unclosed_final_block_and_think_blocks() -> None:
    p = parse_action('<think>maybe <tool_call>{"name": "x", "arguments": {}}</tool_call></think>\nok\n'
                     '<tool_call>{"name": "exec", "arguments": {"command": "pwd"}}')
    assert [(c.name, c.arguments) for c in p.tool_calls] == [("exec", {"command": "pwd"})]
    assert p.content.startswith("<think>maybe") and p.content.endswith("ok")


def test_malformed_blocks_become_calls_with_errors() -> None:
    p = parse_action('<tool_call>{"name": "write", "arguments": {"path": "a.txt", "content": "unterminated</tool_call>')
    (c,) = p.tool_calls
    assert c.name == "write" and c.error and c.error.startswith("invalid JSON in <tool_call> block")
    assert c.arguments == '{"name": "write", "arguments": {"path": "a.txt", "content": "unterminated'
    assert p.assistant_message["tool_calls"][0]["function"]["name"] == "write"
    (c,) = parse_action("<tool_call>not json at all</tool_call>").tool_calls
    assert c.name == "" and c.error
    (c,) = parse_action({"function": {"arguments": "{}"}}).tool_calls
    assert c.name == "" and c.error == "tool call has no function name"
    assert parse_action("plain text, no calls").tool_calls == []


def test_qwen3_coder_function_form() -> None:
    text = ("Checking.\n<tool_call>\n<function=exec>\n<parameter=command>\nls -la\n</parameter>\n"
            "<parameter=timeout>\n30\n</parameter>\n<parameter=env>\n{\"A\": \"1\"}\n</parameter>\n</function>\n</tool_call>")
    p = parse_action(text)
    assert p.content == "Checking."
    assert [(c.name, c.arguments) for c in p.tool_calls] == [("exec", {"command": "ls -la", "timeout": "30", "env": {"A": "1"}})]
    p = parse_action("<function=read>\n<parameter=path>\nnotes.md\n</parameter>\n</function>")  # no wrapper
    assert [(c.name, c.arguments) for c in p.tool_calls] == [("read", {"path": "notes.md"})]


def test_text_tool_calls_inside_message_content() -> None:
    msg = {"role": "assistant", "content": '<tool_call>{"name": "exec", "arguments": {"command": "ls"}}</tool_call>'}
    assert [c.name for c in parse_action(msg).tool_calls] == ["exec"]
    p = parse_action(msg, text_tool_calls=False)
    assert p.tool_calls == [] and p.content == msg["content"]


@pytest.mark.parametrize("bad", [None, 5, 3.2, b"bytes", ["not a dict"], object()])
def test_wrong_python_types_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        parse_action(bad)


def test_toolcall_is_a_plain_dataclass() -> None:
    assert ToolCall(id="i", name="n", arguments="{}").error is None


# ---------------------------------------------------------------- system prompt

SECTION_ORDER = [
    "## Tooling", "## Tool Call Style", "## Safety", "## OpenClaw CLI Quick Reference", "## Memory Recall",
    "## Workspace", "## Documentation", "## Current Date & Time", "## Workspace Files (injected)", "## Reply Tags",
    "## Messaging", "# Project Context", "## Silent Replies", "## Heartbeats", "## Runtime",
]


def test_prompt_matches_openclaw_byte_for_byte() -> None:
    # reference: OpenClaw 2026.3.24 buildAgentSystemPrompt with the same tools, files and runtime values
    full = build_system_prompt(list(PROFILES["openclaw"]), workspace=WS, bootstrap_files=bootstrap_files(True))
    assert (len(full), hashlib.sha256(full.encode()).hexdigest()) == (
        22452, "6013c19f3f26018298dcc6db83b7f676d8695bf5aeca76902db7318c766a0141")
    coding = build_system_prompt(list(PROFILES["coding"]), workspace=WS, bootstrap_files=bootstrap_files(False))
    assert (len(coding), hashlib.sha256(coding.encode()).hexdigest()) == (
        18098, "1274ebc485b72d41c7de7f186384733a9accc2d01e3900313a5961e7e78d384b")


def test_prompt_sections_in_order_and_workspace_line() -> None:
    text = build_system_prompt(list(PROFILES["openclaw"]), workspace=WS, bootstrap_files=bootstrap_files(True))
    lines = text.split("\n")
    assert lines[0] == "You are a personal assistant running inside OpenClaw."
    positions = [lines.index(h) for h in SECTION_ORDER]
    assert positions == sorted(positions)
    assert "Your working directory is: /root/.openclaw/workspace" in lines
    assert "Reminder: commit your changes in this workspace after edits." in lines  # BOOTSTRAP.md present
    assert "" not in lines[: lines.index("# Project Context")]  # empty lines are filtered (file contents keep theirs)
    assert lines[-2] == ("Runtime: agent=main | host=clawgym | os=Linux 6.8.0 (x64) | node=v22.22.0 | "
                         "model=rl-server/policy | default_model=rl-server/policy | shell=sh | channel=webchat | "
                         "capabilities=none | thinking=off")
    assert lines[-1] == "Reasoning: off (hidden unless on/stream). Toggle /reasoning; /status shows Reasoning when enabled."


def test_prompt_tool_lines_only_for_enabled_tools() -> None:
    text = build_system_prompt(list(PROFILES["coding"]), workspace=WS, bootstrap_files=None)
    tool_lines = [line for line in text.split("\n") if line.startswith("- ") and ": " in line][:5]
    assert tool_lines == [
        "- read: Read file contents", "- write: Create or overwrite files", "- edit: Make precise edits to files",
        "- exec: Run shell commands (pty available for TTY-required CLIs)", "- process: Manage background exec sessions"]
    assert "- browser" not in text and "## Memory Recall" not in text and "# Project Context" not in text
    full = build_system_prompt(list(PROFILES["openclaw"]), workspace=WS, bootstrap_files=None)
    # extras after the core order, sorted, with their schema descriptions (or core summaries)
    i = full.index("- session_status:")
    tail = full[i:].split("\n")[1:5]
    assert [t.split(":")[0] for t in tail] == ["- memory_get", "- sessions_spawn", "- sessions_yield", "- tts"]
    assert "### message tool" in full and "Inline buttons not enabled for webchat." in full


def test_prompt_project_context_blocks_caps_and_missing() -> None:
    files = bootstrap_files(fresh=False)
    files["AGENTS.md"] = "A" * 25000
    files["MEMORY.md"] = "remember"
    text = build_system_prompt(["read"], workspace=WS, bootstrap_files=files)
    assert f"## {WS}/AGENTS.md\n" + "A" * 14000 + "\n\n[...truncated, read AGENTS.md for full content...]\n" \
           "…(truncated AGENTS.md: kept 14000+4000 chars of 25000)…\n\n" + "A" * 4000 + "\n" in text
    assert f"## {WS}/BOOTSTRAP.md\n[MISSING] Expected at: {WS}/BOOTSTRAP.md" in text
    assert text.index(f"## {WS}/BOOTSTRAP.md") < text.index(f"## {WS}/MEMORY.md\nremember")
    headings = [line for line in text.split("\n") if line.startswith(f"## {WS}/")]
    assert headings == [f"## {WS}/{n}" for n in ("AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md",
                                                   "HEARTBEAT.md", "BOOTSTRAP.md", "MEMORY.md")]
    assert "Reminder: commit your changes" not in text


def test_prompt_skills_timezone_runtime() -> None:
    xml = format_skills_prompt([{"name": "weather", "description": "Get <weather>", "location": "/s/weather/SKILL.md"}])
    text = build_system_prompt(["read"], workspace=WS, bootstrap_files=None, skills_xml=xml, timezone="Asia/Shanghai",
                               runtime={"model": "vllm/qwen3", "capabilities": ["inlineButtons"], "host": None})
    assert "## Skills (mandatory)\nBefore replying: scan <available_skills> <description> entries." in text
    assert "<description>Get &lt;weather&gt;</description>" in text
    assert "Time zone: Asia/Shanghai" in text
    assert "Runtime: agent=main | os=Linux 6.8.0 (x64) | node=v22.22.0 | model=vllm/qwen3" in text
    assert "capabilities=inlineButtons" in text
    bare = build_system_prompt(["read"], workspace=WS, bootstrap_files=None,
                               skills_xml=xml[xml.index("<available_skills>"):])
    assert bare == build_system_prompt(["read"], workspace=WS, bootstrap_files=None, skills_xml=xml)


def test_prompt_of_2026_4_1() -> None:
    # reference: OpenClaw 2026.4.1 buildAgentSystemPrompt, rl tools with their 4.1 descriptions, seeded workspace
    summaries = {s["function"]["name"]: s["function"]["description"] for s in tool_schemas("rl", "2026.4.1")}
    rl = build_system_prompt(list(PROFILES["rl"]), workspace=WS, bootstrap_files=bootstrap_files(False),
                             tool_summaries=summaries, openclaw_version="2026.4.1")
    assert (len(rl), hashlib.sha256(rl.encode()).hexdigest()) == (
        20701, "c5ff618de043933382789949100463c3c9df653c8e53bc8e72c3be4daaab795e")
    old = build_system_prompt(list(PROFILES["rl"]), workspace=WS, bootstrap_files=bootstrap_files(False),
                              tool_summaries=summaries)
    never = ("Never execute /approve through exec or any other shell/tool path; /approve is a user-facing approval "
             "command, not a shell command.")
    assert never in rl.split("\n") and never not in old
    assert "on Discord, Slack, Telegram, or WebChat, rely on the native approval card/buttons" in rl  # webchat
    assert "do this in codex/claude code/cursor/gemini\" or similar ACP harnesses" in rl
    assert "do this in codex/claude code/gemini\", treat it" in old
    signal = build_system_prompt(["read", "exec"], bootstrap_files=None, runtime={"channel": "signal"},
                                 openclaw_version="2026.4.1")
    assert ("(with allow-once|allow-always|deny) as plain chat text for the user, and do not ask for a different or "
            "rotated code.") in signal and never in signal
    tools = build_system_prompt(["web_search", "code_execution", "process"], bootstrap_files=None,
                                tool_summaries={"code_execution": "Run code"}, openclaw_version="2026.4.1")
    assert "- process: Manage background exec sessions\n- code_execution: Run code\n- web_search: Search the web\n" in tools
    old_tools = build_system_prompt(["web_search", "code_execution", "process"], bootstrap_files=None,
                                    tool_summaries={"code_execution": "Run code"})
    assert "- web_search: Search the web (Brave API)\n" in old_tools and old_tools.index("- code_execution") > \
        old_tools.index("- web_search")  # 3.24 has no code_execution in its order: listed after the core tools
    with pytest.raises(ValueError, match="openclaw_version"):
        build_system_prompt(["read"], openclaw_version="2026.5.0")


def test_prompt_bootstrap_trim_is_javascripts() -> None:
    # trimBootstrapContent slices UTF-16 code units, trims JS whitespace, and slice(-0) keeps the whole file
    def context(files: dict[str, str], **kw: int) -> str:
        text = build_system_prompt(["read"], workspace=WS, bootstrap_files=files, **kw)
        return text.split(f"## {WS}/AGENTS.md\n", 1)[1].split(f"\n## {WS}/SOUL.md", 1)[0]

    assert context({"AGENTS.md": "hello world"}, bootstrap_max_chars=1) == (
        "\n\n[...truncated, read AGENTS.md for full content...]\n…(truncated AGENTS.md: kept 0+0 chars of 11)…\n\n"
        "hello world")
    tail = context({"AGENTS.md": "a" * 100 + "😀b"}, bootstrap_max_chars=15)
    assert tail.endswith("kept 10+3 chars of 103)…\n\n😀b")  # 😀 counts two
    split = context({"AGENTS.md": "xx" + "😀" * 20}, bootstrap_max_chars=10)
    assert split.startswith("xx😀😀\ufffd\n")  # 7 units: a pair cut in half, its lone half written as U+FFFD
    assert context({"AGENTS.md": "name\u3000\ufeff\n \x1c"}) == "name\u3000\ufeff\n \x1c"  # \x1c is not JS space
    assert context({"AGENTS.md": "name\u3000\ufeff\u2028 "}) == "name"


def test_bootstrap_files_are_the_templates_without_front_matter() -> None:
    fresh = bootstrap_files(fresh=True)
    assert list(fresh) == ["AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md"]
    assert list(bootstrap_files(fresh=False)) == list(fresh)[:-1]
    assert fresh["AGENTS.md"].startswith("# AGENTS.md - Your Workspace\n\nThis folder is home.")
    assert fresh["BOOTSTRAP.md"].startswith("# BOOTSTRAP.md - Hello, World")
    assert fresh["HEARTBEAT.md"].startswith("# HEARTBEAT.md Template")
    assert not any(text.startswith("---") for text in fresh.values())
    fresh["AGENTS.md"] = "changed"
    assert bootstrap_files()["AGENTS.md"] != "changed"
