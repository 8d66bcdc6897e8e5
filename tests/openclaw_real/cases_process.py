"""process: list/poll/log/write/send-keys/submit/paste/kill/clear/remove on backgrounded exec sessions,
their errors, and how a kill ends a session (SIGTERM to the group, SIGKILL after 3 s)."""

from openclaw_real.cases import Call, Case, one


def pr(args: dict) -> Call:
    return Call("process", {**args, "sessionId": "__LAST__"} if "sessionId" not in args and args.get("action") != "list"
                else args)


def bg(command: str, **extra: object) -> Call:
    return Call("exec", {"command": command, "background": True, **extra})


KILL = pr({"action": "kill"})
WAIT = {"timeout": 5000}
PAUSE = Call("exec", {"command": "sleep 0.5"})
"""Lets a short background command end before the next call, which then finds it finished."""
SETTLE = pr({"action": "poll", "timeout": 300})
"""Lets a long background command get going (a kill at spawn time races the shell's own start)."""

CASES = [
    # errors without a session
    Case("process.list_empty", (Call("process", {"action": "list"}),), fresh=True),
    one("process.poll_no_id", "process", {"action": "poll"}),
    one("process.poll_empty_id", "process", {"action": "poll", "sessionId": ""}),
    one("process.poll_unknown", "process", {"action": "poll", "sessionId": "nope-nope"}),
    one("process.log_unknown", "process", {"action": "log", "sessionId": "nope-nope"}),
    one("process.write_unknown", "process", {"action": "write", "sessionId": "nope-nope", "data": "x"}),
    one("process.send_keys_unknown", "process", {"action": "send-keys", "sessionId": "nope-nope", "keys": ["Enter"]}),
    one("process.submit_unknown", "process", {"action": "submit", "sessionId": "nope-nope"}),
    one("process.paste_unknown", "process", {"action": "paste", "sessionId": "nope-nope", "text": "x"}),
    one("process.kill_unknown", "process", {"action": "kill", "sessionId": "nope-nope"}),
    one("process.clear_unknown", "process", {"action": "clear", "sessionId": "nope-nope"}),
    one("process.remove_unknown", "process", {"action": "remove", "sessionId": "nope-nope"}),
    one("process.unknown_action", "process", {"action": "explode", "sessionId": "nope-nope"}),
    one("process.action_missing", "process", {"sessionId": "x"}),
    one("process.action_number", "process", {"action": 3}),
    one("process.timeout_negative", "process", {"action": "poll", "sessionId": "x", "timeout": -1}),
    one("process.keys_not_array", "process", {"action": "send-keys", "sessionId": "x", "keys": "Enter"}),
    # a finished session
    Case("process.poll_finished", (bg("echo done"), PAUSE, pr({"action": "poll"}), pr({"action": "poll"}))),
    Case("process.poll_exit_code", (bg("echo failing; exit 3"), PAUSE, pr({"action": "poll"}),
                                    pr({"action": "poll"}))),
    Case("process.poll_silent_exit", (bg("exit 0"), PAUSE, pr({"action": "poll"}), pr({"action": "poll"}))),
    Case("process.poll_not_found", (bg("nosuchcommand-clawgym"), PAUSE, pr({"action": "poll"}))),
    Case("process.poll_watch_exit", (bg("sleep 0.5; echo late; exit 2"), pr({"action": "poll", **WAIT}),
                                     pr({"action": "poll"}))),
    Case("process.poll_watch_silent", (bg("sleep 0.5"), pr({"action": "poll", **WAIT}))),
    Case("process.log_finished", (bg("printf 'a\\nb\\nc\\nd\\ne\\n'"), PAUSE,
                                  pr({"action": "log"}), pr({"action": "log", "offset": 1, "limit": 2}),
                                  pr({"action": "log", "limit": 2}), pr({"action": "log", "offset": 3}),
                                  pr({"action": "log", "offset": 99}))),
    Case("process.log_long", (bg("seq 1 250"), PAUSE, pr({"action": "log"}))),
    Case("process.log_silent", (bg("true"), PAUSE, pr({"action": "log"}))),
    Case("process.clear_finished", (bg("echo x"), PAUSE, pr({"action": "clear"}),
                                    pr({"action": "poll"}))),
    Case("process.remove_finished", (bg("echo x"), PAUSE, pr({"action": "remove"}),
                                     pr({"action": "log"}))),
    Case("process.write_finished", (bg("echo x"), PAUSE,
                                    pr({"action": "write", "data": "y"}))),
    Case("process.kill_finished", (bg("echo x"), PAUSE, KILL)),
    Case("process.poll_tail_2000", (bg("seq 1 2000"), PAUSE, pr({"action": "poll"}))),
    Case("process.yield_then_poll", (Call("exec", {"command": "sleep 1; echo late", "yieldMs": 10}),
                                     pr({"action": "poll", **WAIT}))),
    # a running session
    Case("process.poll_running", (bg("echo hi; sleep 30"), pr({"action": "poll", "timeout": 1000}),
                                  pr({"action": "poll"}), KILL)),
    Case("process.log_running_silent", (bg("sleep 30"), pr({"action": "log"}), KILL)),
    Case("process.write_stdin", (bg("sleep 30"), pr({"action": "write", "data": "hello"}), KILL)),
    Case("process.write_eof", (bg("sleep 30"), pr({"action": "write", "data": "x", "eof": True}), KILL)),
    Case("process.send_keys_nonpty", (bg("sleep 30"), pr({"action": "send-keys", "keys": ["C-c"]}), KILL)),
    Case("process.send_keys_empty", (bg("sleep 30"), pr({"action": "send-keys", "keys": []}), KILL)),
    Case("process.submit_nonpty", (bg("sleep 30"), pr({"action": "submit"}), KILL)),
    Case("process.paste_empty", (bg("sleep 30"), pr({"action": "paste", "text": "", "bracketed": False}), KILL)),
    Case("process.paste_nonpty", (bg("sleep 30"), pr({"action": "paste", "text": "abc"}), KILL)),
    Case("process.clear_running", (bg("sleep 30"), pr({"action": "clear"}), KILL)),
    # kill: SIGTERM to the group; a shell ignoring it is killed outright, its children after 3 s
    Case("process.kill_then_poll", (bg("echo hi; sleep 30"), pr({"action": "poll", "timeout": 1000}), KILL,
                                    PAUSE, pr({"action": "poll"}), pr({"action": "log"}))),
    Case("process.kill_sleep", (bg("sleep 30"), SETTLE, KILL, PAUSE, pr({"action": "poll"}))),
    Case("process.kill_trap_term", (bg("echo hi; trap '' TERM; sleep 6; echo survived"), SETTLE, KILL,
                                    Call("exec", {"command": "sleep 4"}), pr({"action": "poll"}),
                                    pr({"action": "log"}))),
    Case("process.kill_twice", (bg("sleep 30"), SETTLE, KILL, PAUSE, pr({"action": "poll"}), KILL)),
    Case("process.kill_then_clear", (bg("sleep 30"), SETTLE, KILL, PAUSE, pr({"action": "clear"}),
                                     pr({"action": "log"}))),
    Case("process.remove_running", (bg("sleep 30"), SETTLE, pr({"action": "remove"}), pr({"action": "poll"}))),
    # list
    Case("process.list_running", (bg("sleep 30"), Call("process", {"action": "list"}), KILL), fresh=True),
    Case("process.list_polled_failure", (bg("sleep 0.5; exit 2"), pr({"action": "poll", **WAIT}),
                                         Call("process", {"action": "list"})), fresh=True),
    Case("process.list_two", (bg("sleep 30"), bg("echo two"), PAUSE, Call("process", {"action": "list"}), KILL),
         fresh=True),
    Case("process.list_finished", (bg("echo one"), PAUSE, Call("process", {"action": "list"})),
         fresh=True),
    Case("process.list_killed", (bg("sleep 30"), SETTLE, KILL, PAUSE,
                                 Call("process", {"action": "list"})), fresh=True),
    Case("process.list_failed", (bg("exit 127"), PAUSE, Call("process", {"action": "list"})),
         fresh=True),
    Case("process.list_long_command", (bg("python3 -u -B /tmp/some/really/long/path/that/goes/on/and/on/and/on/script.py"
                                          " --flag value"), PAUSE,
                                       Call("process", {"action": "list"})), fresh=True),
]
