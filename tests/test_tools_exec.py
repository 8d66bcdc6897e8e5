"""exec / process against a real bwrap sandbox; expected texts are OpenClaw 2026.3.24's (host=gateway, security=full)."""

from __future__ import annotations

import re

import pytest

from clawgym_env.sandbox import ServerSandbox
from clawgym_env.tools.context import ToolContext, ToolError
from clawgym_env.tools.exec_tools import exec_tool, process_tool

WS = "/root/.openclaw/workspace"
FOLLOW_UP = "Use process (list/poll/log/write/kill/clear/remove) for follow-up."
APPROVAL_41 = ("Exec approval is required, but no interactive approval client is currently available.\n\n"
               "Open the Web UI or terminal UI, or enable Discord, Slack, or Telegram exec approvals, then retry the "
               "command. If those accounts already know your owner ID via allowFrom, you can usually leave "
               "execApprovals.approvers unset.")


def approval_324(command: str, cwd: str = WS) -> re.Pattern[str]:
    """3.24's pending approval: its gateway counts the asking tool's own connection as an approval client."""
    return re.compile(re.escape("Approval required (id ") + r"([0-9a-f]{8}), full \1-[0-9a-f-]{27}\)\.\n"
                      + re.escape(f"Host: gateway\nCWD: {cwd}\nCommand:\n```sh\n{command}\n```\n"
                                  "Mode: foreground (interactive approvals available).\n"
                                  "Background mode requires pre-approved policy (allow-always or ask=off).\n"
                                  "Reply with: /approve ") + r"\1" + re.escape(" allow-once|allow-always|deny\n"
                                  "If the short code is ambiguous, use the full id in /approve."))
STILL_RUNNING = re.compile(r"Command still running \(session ([a-z]+(?:-[a-z]+)+), pid \d+\)\. " + re.escape(FOLLOW_UP))


@pytest.fixture
def ctx(sandbox: ServerSandbox) -> ToolContext:
    return ToolContext(sandbox=sandbox, workspace=sandbox.workspace)


def run(ctx: ToolContext, **args) -> str:  # type: ignore[no-untyped-def]
    return exec_tool(ctx, args)


def proc(ctx: ToolContext, **args) -> str:  # type: ignore[no-untyped-def]
    return process_tool(ctx, args)


def error_of(fn, ctx: ToolContext, **args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolError) as info:
        fn(ctx, args)
    return info.value.message


def start_background(ctx: ToolContext, **args) -> str:  # type: ignore[no-untyped-def]
    m = STILL_RUNNING.fullmatch(run(ctx, **args))
    assert m, "expected a backgrounded session"
    return m.group(1)


# ---------------------------------------------------------------- exec: results


def test_exec_output_is_interleaved_and_trimmed(ctx: ToolContext) -> None:
    assert run(ctx, command="echo '  out'; echo err >&2; echo; pwd") == f"out\nerr\n\n{WS}"


def test_exec_no_output_and_exit_codes(ctx: ToolContext) -> None:
    assert run(ctx, command="true") == "(no output)"
    assert run(ctx, command="echo half; exit 3") == "half\n\n(Command exited with code 3)"
    assert run(ctx, command="exit 1") == "\n\n(Command exited with code 1)"


def test_exec_shell_failures(ctx: ToolContext) -> None:
    assert run(ctx, command="nosuchcmd").endswith("nosuchcmd: not found\n\nCommand not found")
    assert run(ctx, command="exit 127") == "Command not found"
    assert run(ctx, command="printf 'x' > f.sh; ./f.sh").endswith(
        "Permission denied\n\nCommand not executable (permission denied)")


def test_exec_timeout_and_signal(ctx: ToolContext) -> None:
    assert run(ctx, command="echo started; sleep 5", timeout=0.5) == (
        "started\n\nCommand timed out after 0.5 seconds. If this command is expected to take longer, "
        "re-run with a higher timeout (e.g., exec timeout=300).")
    assert run(ctx, command="kill -TERM $$") == "Command aborted by signal SIGTERM"
    capped = ToolContext(sandbox=ctx.sandbox, workspace=ctx.workspace, max_exec_timeout_s=0.3)
    assert run(capped, command="sleep 5", timeout=60).startswith("Command timed out after 0.3 seconds.")


def test_exec_strips_control_and_format_characters(ctx: ToolContext) -> None:
    assert run(ctx, command=r"printf 'a\001\033b\342\200\213c\tok\n'") == "abc\tok"


def test_exec_requires_a_command(ctx: ToolContext) -> None:
    assert error_of(exec_tool, ctx, command="") == "Provide a command to start."


# ---------------------------------------------------------------- exec: workdir, env, policy


def test_exec_workdir(ctx: ToolContext) -> None:
    run(ctx, command="mkdir -p sub/dir")
    assert run(ctx, command="pwd", workdir=f"{WS}/sub") == f"{WS}/sub"
    # relative workdirs resolve against the gateway's cwd, not the workspace
    assert run(ctx, command="pwd", workdir="sub") == 'Warning: workdir "sub" is unavailable; using "/".\n\n\n\n/'


def test_exec_env_overrides_and_host_rejections(ctx: ToolContext) -> None:
    assert run(ctx, command='echo "$GREETING"', env={"GREETING": "hi there"}) == "hi there"
    assert error_of(exec_tool, ctx, command="ls", env={"PATH": "/x"}) == \
        "Security Violation: Custom 'PATH' variable is forbidden during host execution."
    assert error_of(exec_tool, ctx, command="ls", env={"LD_PRELOAD": "x.so"}) == \
        "Security Violation: Environment variable 'LD_PRELOAD' is forbidden during host execution."
    assert error_of(exec_tool, ctx, command="ls", env={"PATH": "/x", "LD_PRELOAD": "y", "A-B": "z"}) == (
        "Security Violation: Custom 'PATH' variable is forbidden during host execution "
        "(blocked override keys: LD_PRELOAD, PATH; invalid non-portable override keys: A-B).")
    assert error_of(exec_tool, ctx, command="ls", env={"HOME": "/", "NODE_OPTIONS": "x"}) == \
        "Security Violation: blocked override keys: HOME, NODE_OPTIONS."


def test_exec_host_security_and_elevated(ctx: ToolContext) -> None:
    assert run(ctx, command="echo ok", host="Gateway") == "ok"
    assert error_of(exec_tool, ctx, command="ls", host="sandbox") == \
        "exec host not allowed (requested sandbox; configure tools.exec.host=gateway to allow)."
    assert error_of(exec_tool, ctx, command="ls", host="node") == \
        "exec host not allowed (requested node; configure tools.exec.host=gateway to allow)."
    assert error_of(exec_tool, ctx, command="ls", security="deny") == "exec denied: host=gateway security=deny"
    assert error_of(exec_tool, ctx, command="ls", elevated=True).startswith(
        "elevated is not available right now (runtime=direct).\nFailing gates: enabled")
    assert "\nContext: session=agent:main:main\nFix-it keys:\n" in error_of(exec_tool, ctx, command="ls", elevated=True)
    assert run(ctx, command="echo ok", host="auto") == "ok"  # 3.24 knows no "auto": ignored


def test_exec_approval_paths_do_not_run(ctx: ToolContext) -> None:
    assert approval_324("touch ran").fullmatch(run(ctx, command="touch ran", ask="always"))
    assert approval_324("touch ran").fullmatch(run(ctx, command="touch ran", security="allowlist"))
    piped = run(ctx, command="echo hi | bash")
    lead = "⚠️ Obfuscated command detected: Content piped directly to shell interpreter\n\n"
    assert piped.startswith(lead) and approval_324("echo hi | bash").fullmatch(piped[len(lead):])
    heredoc = "cat > run.sh << 'EOF'\necho x\nEOF"
    text = run(ctx, command=heredoc)
    lead = "⚠️ Obfuscated command detected: Shell heredoc execution\n\n"
    assert text.startswith(lead) and approval_324(heredoc).fullmatch(text[len(lead):])
    # the fence grows past any run of backticks in the command
    assert "\n````sh\necho '```'\n````\n" in run(ctx, command="echo '```'", ask="always")
    assert run(ctx, command="ls ran run.sh") == ("ls: cannot access 'ran': No such file or directory\n"
                                                 "ls: cannot access 'run.sh': No such file or directory\n\n"
                                                 "(Command exited with code 2)")


def test_exec_2026_4_1_approvals_host_auto_and_approve_commands(ctx: ToolContext) -> None:
    ctx.openclaw_version = "2026.4.1"
    assert run(ctx, command="touch ran", ask="always") == APPROVAL_41
    assert run(ctx, command="echo hi | bash") == \
        "⚠️ Obfuscated command detected: Content piped directly to shell interpreter\n\n" + APPROVAL_41
    assert error_of(exec_tool, ctx, command="ls", host="auto") == \
        "exec host not allowed (requested auto; configure tools.exec.host=gateway to allow)."
    refused = ("exec cannot run /approve commands. Show the /approve command to the user as chat text, "
               "or route it through the approval command handler instead of shell execution.")
    for command in ("/approve abc123 allow-once", "sh -c '/approve abc deny'", "FOO=1 env /approve x always",
                    "echo hi && /approve@bot abc DENY"):
        assert error_of(exec_tool, ctx, command=command) == refused, command
    assert run(ctx, command="echo /approve abc deny") == "/approve abc deny"
    assert run(ctx, command="ls ran") == "ls: cannot access 'ran': No such file or directory\n\n(Command exited with code 2)"


def test_exec_preflight_rejects_shell_variables_in_python(ctx: ToolContext) -> None:
    ctx.sandbox.write_file(f"{WS}/s.py", b"import os\n\nprint('$HOME')\n")
    assert error_of(exec_tool, ctx, command="python3 s.py") == (
        "exec preflight: detected likely shell variable injection ($HOME) in python script: s.py:3.\n"
        'In Python, use os.environ.get("HOME") instead of raw $HOME.\n'
        "(If this is inside a string literal on purpose, escape it or restructure the code.)")


# ---------------------------------------------------------------- background sessions and process


def test_yield_then_poll_log_and_list(ctx: ToolContext) -> None:
    sid = start_background(ctx, command="echo start; sleep 1; echo end", yieldMs=300)
    assert re.fullmatch(rf"{sid} running   \d+ms :: echo start;", proc(ctx, action="list"))
    assert proc(ctx, action="poll", sessionId=sid) == "start\n\nProcess still running."
    assert proc(ctx, action="poll", sessionId=sid) == "(no new output)\n\nProcess still running."
    assert proc(ctx, action="poll", sessionId=sid, timeout=5000) == "end\n\nProcess exited with code 0."
    # once finished, poll shows the tail of everything (untrimmed) and the exit
    assert proc(ctx, action="poll", sessionId=sid) == "start\nend\n\n\nProcess exited with code 0."
    assert proc(ctx, action="log", sessionId=sid) == "start\nend"
    assert proc(ctx, action="log", sessionId=sid, offset=1) == "end"
    assert re.fullmatch(rf"{sid} completed \d+s :: echo start;", proc(ctx, action="list"))
    assert proc(ctx, action="kill", sessionId=sid) == f"No active session found for {sid}"
    assert proc(ctx, action="clear", sessionId=sid) == f"Cleared session {sid}."
    assert proc(ctx, action="list") == "No running or recent sessions."


def test_background_kill_and_remove(ctx: ToolContext) -> None:
    sid = start_background(ctx, command="sleep 30", background=True)
    assert proc(ctx, action="clear", sessionId=sid) == f"No finished session found for {sid}"
    assert proc(ctx, action="poll", sessionId=sid, timeout=300) == "(no new output)\n\nProcess still running."
    assert proc(ctx, action="kill", sessionId=sid) == f"Termination requested for session {sid}."
    # SIGTERM to the process group first, as OpenClaw's killProcessTree does
    assert proc(ctx, action="poll", sessionId=sid) == "(no output recorded)\n\nProcess exited with signal SIGTERM."
    assert re.fullmatch(rf"{sid} failed    \S+ :: sleep 30", proc(ctx, action="list"))
    assert proc(ctx, action="remove", sessionId=sid) == f"Removed session {sid}."
    other = start_background(ctx, command="sleep 30", background=True)
    assert proc(ctx, action="remove", sessionId=other) == f"Removed session {other} (termination requested)."
    assert proc(ctx, action="poll", sessionId=other) == f"No session found for {other}"


def test_log_default_tail(ctx: ToolContext) -> None:
    sid = start_background(ctx, command="seq 1 250; sleep 30", yieldMs=300)
    assert proc(ctx, action="log", sessionId=sid) == "\n".join(str(i) for i in range(51, 251)) + \
        "\n\n[showing last 200 of 250 lines; pass offset/limit to page]"
    assert proc(ctx, action="log", sessionId=sid, limit=2) == "249\n250"
    assert proc(ctx, action="log", sessionId=sid, offset=10, limit=2) == "11\n12"
    proc(ctx, action="remove", sessionId=sid)


def test_pty_session_accepts_input(ctx: ToolContext) -> None:
    sid = start_background(ctx, command="read line; echo got:$line", pty=True, background=True)
    assert proc(ctx, action="write", sessionId=sid, data="hello") == f"Wrote 5 bytes to session {sid}."
    assert proc(ctx, action="submit", sessionId=sid) == f"Submitted session {sid} (sent CR)."
    out = proc(ctx, action="poll", sessionId=sid, timeout=5000)
    assert "got:hello" in out and out.endswith("\n\nProcess exited with code 0.")


def test_send_keys_and_paste(ctx: ToolContext) -> None:
    sid = start_background(ctx, command="cat", pty=True, background=True)
    assert proc(ctx, action="send-keys", sessionId=sid, keys=["Up"]) == (
        f"Session {sid} cursor key mode is not known yet. Poll or log until startup output appears, "
        "then retry send-keys.")
    assert proc(ctx, action="send-keys", sessionId=sid, keys=["C-x", "M-Left", "Hyper-q"], hex=["zz", "41"]) == \
        f"Sent 15 bytes to session {sid}.\nWarnings:\n- Invalid hex byte: zz"
    assert proc(ctx, action="send-keys", sessionId=sid) == "No key data provided."
    assert proc(ctx, action="paste", sessionId=sid, text="abc") == f"Pasted 3 chars to session {sid}."
    # the pty is the controlling terminal, so C-c interrupts cat; node-pty reports the signal as a number.
    # Under heavy load a first C-c was seen to be echoed without effect (once in a CI run at load 30), so
    # press it up to three times, as a person would; it must end the process by SIGINT.
    for _ in range(3):
        assert proc(ctx, action="send-keys", sessionId=sid, keys=["C-c"]) == f"Sent 1 bytes to session {sid}."
        polled = proc(ctx, action="poll", sessionId=sid, timeout=5000)
        if not polled.endswith("Process still running."):
            break
    assert polled.endswith("\n\nProcess exited with signal 2.")


def test_kill_a_pty_session(ctx: ToolContext) -> None:
    sid = start_background(ctx, command="cat", pty=True, background=True)
    assert proc(ctx, action="kill", sessionId=sid) == f"Termination requested for session {sid}."
    # the pty adapter's kill is killProcessTree (SIGTERM to the group) then SIGKILL: SIGTERM lands first
    assert proc(ctx, action="poll", sessionId=sid).endswith("\n\nProcess exited with signal 15.")


def test_kill_grace_then_sigkill(ctx: ToolContext) -> None:
    """A shell that ignores SIGTERM is killed outright; its children, ignoring it too, 3 s later."""
    sid = start_background(ctx, command="echo hi; trap '' TERM; sleep 6; echo survived", background=True)
    assert proc(ctx, action="poll", sessionId=sid, timeout=300) == "hi\n\nProcess still running."
    assert proc(ctx, action="kill", sessionId=sid) == f"Termination requested for session {sid}."
    assert proc(ctx, action="poll", sessionId=sid).endswith("\n\nProcess exited with signal SIGKILL.")
    assert ctx.sandbox.exec("pgrep -x sleep || echo none", workdir="/").output.strip() != "none"
    assert run(ctx, command="sleep 3.5; pgrep -x sleep || echo none") == "none"
    assert proc(ctx, action="log", sessionId=sid) == "hi"


def test_stdin_of_non_pty_sessions_is_closed(ctx: ToolContext) -> None:
    sid = start_background(ctx, command="sleep 30", background=True)
    assert error_of(process_tool, ctx, action="write", sessionId=sid, data="x") == "write after end"
    proc(ctx, action="remove", sessionId=sid)


def test_process_argument_errors(ctx: ToolContext) -> None:
    assert proc(ctx, action="list") == "No running or recent sessions."
    assert proc(ctx, action="poll") == "sessionId is required for this action."
    assert proc(ctx, action="frobnicate") == "sessionId is required for this action."
    assert proc(ctx, action="frobnicate", sessionId="amber-atlas") == "Unknown action frobnicate"
    assert proc(ctx, action="poll", sessionId="amber-atlas") == "No session found for amber-atlas"
    assert proc(ctx, action="log", sessionId="amber-atlas") == "No session found for amber-atlas"
    assert proc(ctx, action="write", sessionId="amber-atlas", data="x") == "No active session found for amber-atlas"
    assert proc(ctx, action="clear", sessionId="amber-atlas") == "No finished session found for amber-atlas"
    assert proc(ctx, action="remove", sessionId="amber-atlas") == "No session found for amber-atlas"


def test_session_slugs_are_deterministic_per_episode(sandbox: ServerSandbox) -> None:
    slugs = []
    for _ in range(2):
        ctx = ToolContext(sandbox=sandbox, workspace=sandbox.workspace)
        run(ctx, command="true")
        slugs.append(start_background(ctx, command="sleep 30", background=True))
    assert slugs[0] == slugs[1]
