"""OpenClaw's ``exec`` and ``process`` tools, as the model sees them.

Behaviour and texts follow OpenClaw 2026.3.24, or 2026.4.1 where ``ctx.openclaw_version`` says so,
with ClawGym's configuration (``tools.exec`` host ``gateway``, security ``full``, ask unset so
``on-miss``; a gateway whose only client is the agent's own connection, so nobody approves): the
``bash-tools.exec*``, ``bash-tools.process``, ``bash-process-registry``, ``exec-obfuscation-detect``,
``host-env-security`` and ``pty-keys`` sources. Written from that code's behaviour, not translated
from it. Commands run in the sandbox through its server; background sessions get OpenClaw's
two-word slugs, mapped to the sandbox's own session ids in ``ctx.state``.
"""

from __future__ import annotations

import posixpath
import random
import re
import shlex
import signal as signal_module
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from clawgym_env.sandbox.base import ExecResult, ProcessInfo, SandboxFileError
from clawgym_env.tools.context import ToolContext, ToolError
from clawgym_env.tools.fs import js_trim, node_inspect_str, to_utf8, well_formed
from clawgym_env.tools.jsjson import js_number_to_string, utf16_len, utf16_slice

__all__ = ["detect_obfuscation", "exec_tool", "process_tool", "sanitize_binary_output"]

GATEWAY_CWD = "/"
"""The gateway's process cwd: where a relative ``workdir`` resolves and where an unavailable one
falls back to. Real ClawGym gateways run in ``/app`` (the OpenClaw install), which our sandboxes do
not have; ``/`` keeps the same failure mode (the command runs outside the workspace, with a warning)."""

MAX_OUTPUT_CHARS = 200_000
PENDING_MAX_CHARS = 30_000
FINISHED_TAIL_CHARS = 2_000
LOG_TAIL_LINES = 200
MAX_POLL_WAIT_MS = 120_000
MAX_COMMAND_CHARS = 10_000
SCRIPT_PREFLIGHT_MAX_BYTES = 512 * 1024

STILL_RUNNING = ("Command still running (session {slug}, pid {pid}). "
                 "Use process (list/poll/log/write/kill/clear/remove) for follow-up.")
SESSION_KEY = "agent:main:main"
"""The gateway session every ClawGym episode runs in (OpenClaw's main session of agent ``main``)."""
ELEVATED_UNAVAILABLE = (
    "elevated is not available right now (runtime=direct).\n"
    "Failing gates: enabled (tools.elevated.enabled / agents.list[].tools.elevated.enabled)\n"
    f"Context: session={SESSION_KEY}\n"
    "Fix-it keys:\n"
    "- tools.elevated.enabled\n"
    "- tools.elevated.allowFrom.<provider>\n"
    "- agents.list[].tools.elevated.enabled\n"
    "- agents.list[].tools.elevated.allowFrom.<provider>"
)
APPROVAL_UNAVAILABLE = [
    "Exec approval is required, but no interactive approval client is currently available.",
    "Open the Web UI or terminal UI, or enable Discord, Slack, or Telegram exec approvals, then retry the command. "
    "If those accounts already know your owner ID via allowFrom, you can usually leave execApprovals.approvers unset.",
]
"""2026.4.1's answer when a command needs approval: its gateway no longer counts the asking tool's own
connection as an approval client, finds none, and answers at once with no decision (no-approval-route)."""
APPROVAL_SLUG_LENGTH = 8
APPROVE_IN_SHELL = ("exec cannot run /approve commands. Show the /approve command to the user as chat text, "
                    "or route it through the approval command handler instead of shell execution.")
KILL_GRACE_S = 3.0
"""OpenClaw's killProcessTree: SIGTERM to the process group, SIGKILL to what is left 3 s later."""

# ---------------------------------------------------------------- session slugs (session-slug.ts)

SLUG_ADJECTIVES = (
    "amber", "briny", "brisk", "calm", "clear", "cool", "crisp", "dawn", "delta", "ember", "faint", "fast",
    "fresh", "gentle", "glow", "good", "grand", "keen", "kind", "lucky", "marine", "mellow", "mild", "neat",
    "nimble", "nova", "oceanic", "plaid", "quick", "quiet", "rapid", "salty", "sharp", "swift", "tender",
    "tidal", "tidy", "tide", "vivid", "warm", "wild", "young",
)
SLUG_NOUNS = (
    "atlas", "basil", "bison", "bloom", "breeze", "canyon", "cedar", "claw", "cloud", "comet", "coral",
    "cove", "crest", "crustacean", "daisy", "dune", "ember", "falcon", "fjord", "forest", "glade", "gulf",
    "harbor", "haven", "kelp", "lagoon", "lobster", "meadow", "mist", "nudibranch", "nexus", "ocean",
    "orbit", "otter", "pine", "prairie", "reef", "ridge", "river", "rook", "sable", "sage", "seaslug",
    "shell", "shoal", "shore", "slug", "summit", "tidepool", "trail", "valley", "wharf", "willow", "zephyr",
)


@dataclass
class _BgSession:
    """A backgrounded exec session, as the process tool knows it."""

    sandbox_id: str
    command: str
    pty: bool
    seq: int
    polled_status: str | None = None
    """How a poll that watched the session end recorded it (OpenClaw marks it again there: any
    non-zero exit is then "failed"); None until then."""


def _sessions(ctx: ToolContext) -> dict[str, _BgSession]:
    return ctx.state.setdefault("exec_sessions", {})  # type: ignore[no-any-return]


def _new_slug(ctx: ToolContext) -> str:
    """OpenClaw's ``createSessionSlug``, drawn from a per-episode counter so replays give the same ids."""
    counter: int = ctx.state.get("exec_slug_counter", 0)
    ctx.state["exec_slug_counter"] = counter + 1
    rng = random.Random(counter)
    taken = _sessions(ctx)
    base = ""
    for words in (2, 3):
        for _ in range(12):
            base = "-".join([rng.choice(SLUG_ADJECTIVES)] + [rng.choice(SLUG_NOUNS) for _ in range(words - 1)])
            if base not in taken:
                return base
            for i in range(2, 13):
                if f"{base}-{i}" not in taken:
                    return f"{base}-{i}"
    return f"{base}-{counter}"


# ---------------------------------------------------------------- output text helpers

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def sanitize_binary_output(text: str) -> str:
    """``sanitizeBinaryOutput``: drop format characters, surrogates and C0 controls but tab, LF, CR."""
    text = _CONTROL.sub("", text)
    if text.isascii():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs"))


def _utf16_tail(s: str, n: int) -> str:
    """``sliceUtf16Safe(s, -n)``: the last n UTF-16 units, never half a surrogate pair."""
    units = 0
    for i in range(len(s) - 1, -1, -1):
        units += 2 if ord(s[i]) > 0xFFFF else 1
        if units > n:
            return s[i + 1:]
    return s


def _tail(s: str, n: int) -> str:
    return s[-n:] if len(s) > n else s


def _truncate_middle(s: str, limit: int) -> str:
    if utf16_len(s) <= limit:
        return s
    half = (limit - 3) // 2
    return utf16_slice(s, half) + "..." + _utf16_tail(s, half)


def _num(x: float) -> str:
    return js_number_to_string(x)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _js_round(x: float) -> int:
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def _format_duration(ms: float) -> str:
    """``formatDurationCompact`` ("500ms", "45s", "2m5s", "1h30m"), "n/a" for nothing."""
    if ms <= 0:
        return "n/a"
    if ms < 1000:
        return f"{_js_round(ms)}ms"
    total = _js_round(ms / 1000)
    hours, minutes, seconds = total // 3600, total % 3600 // 60, total % 60
    if hours >= 24:
        days, rest = hours // 24, hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{seconds}s" if seconds else f"{minutes}m"
    return f"{seconds}s"


_TOKEN = re.compile(r"""(?:[^\s"']+|"(?:\\.|[^"])*"|'(?:\\.|[^'])*')+""")


def _strip_quotes(value: str) -> str:
    t = js_trim(value)
    if len(t) >= 1 and ((t[0] == '"' and t[-1] == '"') or (t[0] == "'" and t[-1] == "'")):
        return t[1:-1]
    return t


def _session_name(command: str) -> str | None:
    """``deriveSessionName``: the verb and its first non-flag argument."""
    tokens = [t for t in (_strip_quotes(m) for m in _TOKEN.findall(command)) if t]
    if not tokens:
        return None
    target = next((t for t in tokens[1:] if not t.startswith("-")), tokens[1] if len(tokens) > 1 else None)
    if target is None:
        return tokens[0]
    return f"{_strip_quotes(tokens[0])} {_truncate_middle(_strip_quotes(target), 48)}"


# ---------------------------------------------------------------- exec policy

_SECURITY_ORDER = {"deny": 0, "allowlist": 1, "full": 2}
_ASK_ORDER = {"off": 0, "on-miss": 1, "always": 2}


def _choice(value: Any, allowed: dict[str, int] | tuple[str, ...]) -> str | None:
    """``normalizeExecHost/Security/Ask``: trimmed, lower-cased, one of the allowed words or nothing."""
    if not isinstance(value, str):
        return None
    v = js_trim(value).lower()
    return v if v in allowed else None


_PORTABLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WINDOWS_COMPAT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_()]*\Z")
_BLOCKED_KEYS = frozenset((
    # host-env-security-policy.json blockedKeys, then blockedOverrideKeys
    "NODE_OPTIONS", "NODE_PATH", "PYTHONHOME", "PYTHONPATH", "PERL5LIB", "PERL5OPT", "RUBYLIB", "RUBYOPT",
    "BASH_ENV", "ENV", "GIT_EXTERNAL_DIFF", "GIT_EXEC_PATH", "SHELL", "SHELLOPTS", "PS4", "GCONV_PATH",
    "IFS", "SSLKEYLOGFILE", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "PYTHONBREAKPOINT",
    "DOTNET_STARTUP_HOOKS", "DOTNET_ADDITIONAL_DEPS", "GLIBC_TUNABLES", "MAVEN_OPTS", "SBT_OPTS",
    "GRADLE_OPTS", "ANT_OPTS", "HOME", "GRADLE_USER_HOME", "ZDOTDIR", "GIT_SSH_COMMAND", "GIT_SSH",
    "GIT_PROXY_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS", "LESSOPEN", "LESSCLOSE", "PAGER", "MANPAGER",
    "GIT_PAGER", "EDITOR", "VISUAL", "FCEDIT", "SUDO_EDITOR", "PROMPT_COMMAND", "HISTFILE", "PERL5DB",
    "PERL5DBCMD", "OPENSSL_CONF", "OPENSSL_ENGINES", "PYTHONSTARTUP", "WGETRC", "CURL_HOME", "CLASSPATH",
    "CGO_CFLAGS", "CGO_LDFLAGS", "GOFLAGS", "CORECLR_PROFILER_PATH", "PHPRC", "PHP_INI_SCAN_DIR",
    "DENO_DIR", "BUN_CONFIG_REGISTRY", "LUA_PATH", "LUA_CPATH", "GEM_HOME", "GEM_PATH", "BUNDLE_GEMFILE",
    "COMPOSER_HOME", "XDG_CONFIG_HOME",
))
_BLOCKED_PREFIXES = ("DYLD_", "LD_", "BASH_FUNC_", "GIT_CONFIG_", "NPM_CONFIG_")
_ICU_PUNCT = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"


def _locale_key(s: str) -> tuple[tuple[tuple[int, int], ...], tuple[bool, ...]]:
    """Enough of ``localeCompare`` (ICU root collation) for env var names."""
    primary = []
    for ch in s:
        if ch in _ICU_PUNCT:
            primary.append((0, _ICU_PUNCT.index(ch)))
        elif ch.isascii() and ch.isdigit():
            primary.append((1, ord(ch)))
        elif ch.isascii() and ch.isalpha():
            primary.append((2, ord(ch.lower())))
        else:
            primary.append((3, ord(ch)))
    return tuple(primary), tuple(ch.isupper() for ch in s)


def _host_env(env: Any) -> dict[str, str]:
    """``sanitizeHostExecEnvWithDiagnostics`` for the model's ``env``: PATH, LD_* and friends are refused."""
    if not isinstance(env, dict) or not env:
        return {}
    accepted: dict[str, str] = {}
    blocked: set[str] = set()
    invalid: set[str] = set()
    for raw_key, value in env.items():
        if not isinstance(value, str):
            continue
        key = js_trim(raw_key)
        if not key or not (_PORTABLE_KEY.match(key) or _WINDOWS_COMPAT_KEY.match(key)):
            invalid.add(key or raw_key)
            continue
        upper = key.upper()
        if upper == "PATH" or upper in _BLOCKED_KEYS or upper.startswith(_BLOCKED_PREFIXES):
            blocked.add(upper)
            continue
        accepted[key] = value
    if not blocked and not invalid:
        return accepted
    blocked_keys = sorted(blocked, key=_locale_key)
    invalid_keys = sorted(invalid, key=_locale_key)
    if blocked_keys == ["PATH"] and not invalid_keys:
        raise ToolError("Security Violation: Custom 'PATH' variable is forbidden during host execution.")
    if len(blocked_keys) == 1 and not invalid_keys:
        raise ToolError(f"Security Violation: Environment variable '{blocked_keys[0]}' is forbidden during host execution.")
    details = []
    if blocked_keys:
        details.append(f"blocked override keys: {', '.join(blocked_keys)}")
    if invalid_keys:
        details.append(f"invalid non-portable override keys: {', '.join(invalid_keys)}")
    suffix = "; ".join(details)
    if "PATH" in blocked:
        raise ToolError(f"Security Violation: Custom 'PATH' variable is forbidden during host execution ({suffix}).")
    raise ToolError(f"Security Violation: {suffix}.")


def _resolve_workdir(ctx: ToolContext, workdir: Any, warnings: list[str]) -> str:
    """``resolveWorkdir``: an existing directory (relative to the gateway's cwd), else the gateway's cwd."""
    raw = (js_trim(workdir) if isinstance(workdir, str) else "") or ctx.workspace
    candidate = posixpath.join(GATEWAY_CWD, well_formed(raw))
    if "\x00" not in candidate:
        try:
            if ctx.sandbox.stat(candidate)["is_dir"]:  # type: ignore[attr-defined]
                return candidate
        except SandboxFileError:
            pass
    warnings.append(f'Warning: workdir "{raw}" is unavailable; using "{GATEWAY_CWD}".')
    return GATEWAY_CWD


# ---------------------------------------------------------------- obfuscation (exec-obfuscation-detect.ts)

_INVISIBLE = frozenset(
    [173, 847, 1564, 4447, 4448, 6068, 6069, 6155, 6156, 6157, 6158, 6159, 12644, 65279, 65440]
    + list(range(8203, 8208)) + list(range(8234, 8239)) + list(range(8288, 8304)) + list(range(65024, 65040))
    + [917505] + list(range(917536, 917631)) + [917631] + list(range(917760, 918000))
)
_SH = r"(?:sh|bash|zsh|dash|ksh|fish)"
_OBFUSCATION_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (pid, desc, re.compile(rx, flags | re.ASCII)) for pid, desc, rx, flags in (
        ("base64-pipe-exec", "Base64 decode piped to shell execution",
         rf"base64\s+(?:-d|--decode)\b.*\|\s*{_SH}\b", re.IGNORECASE),
        ("hex-pipe-exec", "Hex decode (xxd) piped to shell execution", rf"xxd\s+-r\b.*\|\s*{_SH}\b", re.IGNORECASE),
        ("printf-pipe-exec", "printf with escape sequences piped to shell execution",
         rf"printf\s+.*\\x[0-9a-f]{{2}}.*\|\s*{_SH}\b", re.IGNORECASE),
        ("eval-decode", "eval with encoded/decoded input", r"eval\s+.*(?:base64|xxd|printf|decode)", re.IGNORECASE),
        ("base64-decode-to-shell", "Base64 decode piped to shell",
         rf"\|\s*base64\s+(?:-d|--decode)\b.*\|\s*{_SH}\b", re.IGNORECASE),
        ("pipe-to-shell", "Content piped directly to shell interpreter",
         rf"\|\s*{_SH}\b(?:\s+[^|;\n\r]+)?\s*$", re.IGNORECASE | re.MULTILINE),
        ("command-substitution-decode-exec", "Shell -c with command substitution decode/obfuscation",
         rf"""{_SH}\s+-c\s+["'][^"']*\$\([^)]*(?:base64\s+(?:-d|--decode)|xxd\s+-r|printf\s+.*\\x[0-9a-f]{{2}})[^)]*\)[^"']*["']""",
         re.IGNORECASE),
        ("process-substitution-remote-exec", "Shell process substitution from remote content",
         rf"{_SH}\s+<\(\s*(?:curl|wget)\b", re.IGNORECASE),
        ("source-process-substitution-remote", "source/. with process substitution from remote content",
         r"(?:^|[;&\s])(?:source|\.)\s+<\(\s*(?:curl|wget)\b", re.IGNORECASE),
        ("shell-heredoc-exec", "Shell heredoc execution",
         rf"""{_SH}\s+<<-?\s*['"]?[a-zA-Z_][\w-]*['"]?""", re.IGNORECASE),
        ("octal-escape", "Bash octal escape sequences (potential command obfuscation)",
         r"\$'(?:[^']*\\[0-7]{3}){2,}", 0),
        ("hex-escape", "Bash hex escape sequences (potential command obfuscation)",
         r"\$'(?:[^']*\\x[0-9a-fA-F]{2}){2,}", 0),
        ("python-exec-encoded", "Python/Perl/Ruby with base64 or encoded execution",
         r"(?:python[23]?|perl|ruby)\s+-[ec]\s+.*(?:base64|b64decode|decode|exec|system|eval)", re.IGNORECASE),
        ("curl-pipe-shell", "Remote content (curl/wget) piped to shell execution",
         rf"(?:curl|wget)\s+.*\|\s*{_SH}\b", re.IGNORECASE),
        ("var-expansion-obfuscation", "Variable assignment chain with expansion (potential obfuscation)",
         r"(?:[a-zA-Z_]\w{0,2}=[^;\s]+\s*;\s*){2,}[^$]*\$(?:[a-zA-Z_]|\{[a-zA-Z_])", 0),
    )
)
_SAFE_CURL_PIPE = (("brew.sh", None), ("get.pnpm.io", None), ("bun.sh", "/install"), ("sh.rustup.rs", None),
                   ("get.docker.com", None), ("install.python-poetry.org", None),
                   ("raw.githubusercontent.com", "/Homebrew"), ("raw.githubusercontent.com", "/nvm-sh/nvm"))
_URL = re.compile(r"https?://\S+")


def _safe_curl_pipe(command: str) -> bool:
    """A single well-known installer URL piped to a shell is not flagged."""
    urls = _URL.findall(command)
    if len(urls) != 1:
        return False
    parts = urlsplit(urls[0])
    if parts.username or parts.password or not parts.hostname:
        return False
    path = parts.path or "/"
    return any(parts.hostname == host and (prefix is None or path == prefix or path.startswith(prefix + "/"))
               for host, prefix in _SAFE_CURL_PIPE)


def detect_obfuscation(command: str) -> list[str]:
    """``detectCommandObfuscation``: the reasons a command needs approval (empty: none)."""
    if not js_trim(command):
        return []
    if utf16_len(command) > MAX_COMMAND_CHARS:
        return ["Command too long; potential obfuscation"]
    normalized = "".join(ch for ch in unicodedata.normalize("NFKC", command) if ord(ch) not in _INVISIBLE)
    url_count = len(_URL.findall(normalized))
    reasons = []
    for pid, desc, rx in _OBFUSCATION_PATTERNS:
        if not rx.search(normalized):
            continue
        if pid == "curl-pipe-shell" and url_count <= 1 and _safe_curl_pipe(command):
            continue
        reasons.append(desc)
    return reasons


# ---------------------------------------------------------------- approvals (bash-tools.exec-host-*.ts)


def _approval_pending(ctx: ToolContext, command: str, workdir: str, warnings: list[str]) -> str:
    """2026.3.24's answer when a command needs approval: its gateway counts the asking tool's own
    connection as an approval client, so the request stays pending (and the command never runs)."""
    counter: int = ctx.state.get("exec_approval_counter", 0)
    ctx.state["exec_approval_counter"] = counter + 1
    approval_id = str(uuid.UUID(int=random.Random(f"approval-{counter}").getrandbits(128), version=4))
    slug = approval_id[:APPROVAL_SLUG_LENGTH]
    fence = "```"
    while fence in command:
        fence += "`"
    lines = []
    warning_text = js_trim("\n".join(warnings))
    if warning_text:
        lines += [warning_text, ""]
    lines += [
        f"Approval required (id {slug}, full {approval_id}).",
        "Host: gateway",
        f"CWD: {workdir}",
        "Command:",
        f"{fence}sh\n{command}\n{fence}",
        "Mode: foreground (interactive approvals available).",
        "Background mode requires pre-approved policy (allow-always or ask=off).",
        f"Reply with: /approve {slug} allow-once|allow-always|deny",
        "If the short code is ambiguous, use the full id in /approve.",
    ]
    return "\n".join(lines)


def _approval_unavailable(warnings: list[str]) -> str:
    lead = js_trim("\n".join(warnings))
    return "\n\n".join(([lead] if lead else []) + APPROVAL_UNAVAILABLE)


_APPROVE_COMMAND = re.compile(
    r"/approve(?:@\S+)?\s+([A-Za-z0-9][A-Za-z0-9._:-]*)\s+(allow-once|allow-always|always|deny)\b", re.IGNORECASE)
_ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=", re.DOTALL)
_SHELL_WRAPPERS = frozenset(("bash", "dash", "fish", "ksh", "sh", "zsh"))
_ENV_VALUE_OPTIONS = frozenset(("-C", "-S", "-u", "--argv0", "--block-signal", "--chdir", "--default-signal",
                                "--ignore-signal", "--split-string", "--unset"))
_SUDO_VALUE_OPTIONS = frozenset(("-C", "-D", "-g", "-p", "-R", "-T", "-U", "-u", "--chdir", "--close-from", "--group",
                                 "--host", "--other-user", "--prompt", "--role", "--type", "--user"))
_SEPARATORS = frozenset(";&|()")


def _split_args(text: str) -> list[str] | None:
    try:
        return shlex.split(text, comments=True)
    except ValueError:
        return None


def _shell_segments(command: str) -> list[list[str]] | None:
    """The argv of each simple command (split at ; & | && || and newlines, redirections dropped);
    None when the text does not parse (an open quote)."""
    segments: list[list[str]] = []
    for line in command.split("\n"):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:
            return None
        argv: list[str] = []
        skip = False
        for tok in tokens:
            if skip:
                skip = False
            elif tok and set(tok) <= _SEPARATORS:
                if argv:
                    segments.append(argv)
                argv = []
            elif tok and set(tok) <= set("<>&"):
                skip = True
            else:
                argv.append(tok)
        if argv:
            segments.append(argv)
    return segments


def _strip_command_prefixes(argv: list[str]) -> list[str]:
    """Drop env assignments and ``env``/``command``/``builtin``/``exec``/``sudo`` wrappers with their options."""
    rest = list(argv)
    while rest:
        while rest and _ENV_ASSIGNMENT.match(rest[0]):
            rest.pop(0)
        if not rest:
            break
        token = rest[0]
        if token == "--":
            rest.pop(0)
            continue
        if token == "env":
            rest.pop(0)
            while rest:
                while rest and _ENV_ASSIGNMENT.match(rest[0]):
                    rest.pop(0)
                if not rest:
                    break
                if rest[0] == "--":
                    rest.pop(0)
                    continue
                if not rest[0].startswith("-") or rest[0] == "-":
                    break
                option = rest.pop(0)
                if option.split("=", 1)[0] in _ENV_VALUE_OPTIONS and "=" not in option and rest:
                    rest.pop(0)
            continue
        if token in ("command", "builtin", "exec", "sudo"):
            rest.pop(0)
            while rest and rest[0].startswith("-"):
                option = rest.pop(0)
                if option == "--":
                    break
                name = option.split("=", 1)[0]
                takes_value = (token == "exec" and name == "-a") or (token == "sudo" and name in _SUDO_VALUE_OPTIONS)
                if takes_value and "=" not in option and rest:
                    rest.pop(0)
            continue
        break
    return rest


def _env_split_payloads(argv: list[str]) -> list[str]:
    rest = list(argv)
    while rest and _ENV_ASSIGNMENT.match(rest[0]):
        rest.pop(0)
    if not rest or rest[0] != "env":
        return []
    rest.pop(0)
    payloads = []
    while rest:
        while rest and _ENV_ASSIGNMENT.match(rest[0]):
            rest.pop(0)
        if not rest:
            break
        if rest[0] == "--":
            rest.pop(0)
            continue
        if not rest[0].startswith("-") or rest[0] == "-":
            break
        option = rest.pop(0)
        name = option.split("=", 1)[0]
        if name in ("-S", "--split-string"):
            value = option.split("=", 1)[1] if "=" in option else (rest.pop(0) if rest else None)
            if value and value.strip():
                payloads.append(value)
            continue
        if name in _ENV_VALUE_OPTIONS and "=" not in option and rest:
            rest.pop(0)
    return payloads


def _approve_candidates(argv: list[str]) -> list[str]:
    """The command texts that could be a ``/approve`` once wrappers and ``sh -c`` are looked through."""
    def nested(payload: str) -> list[str]:
        inner = _split_args(payload)
        return _approve_candidates(inner) if inner is not None else [payload]

    stripped = _strip_command_prefixes(argv)
    wrapped: list[str] = []
    if stripped and posixpath.basename(stripped[0]) in _SHELL_WRAPPERS:
        for i, token in enumerate(stripped[1:], start=1):
            if token and re.fullmatch(r"-[^-]*c[^-]*", token):
                wrapped = [stripped[i + 1]] if i + 1 < len(stripped) and stripped[i + 1] else []
                break
    return ([" ".join(stripped)] if stripped else []) \
        + [c for p in _env_split_payloads(argv) for c in nested(p)] + [c for p in wrapped for c in nested(p)]


def _reject_approve_command(command: str) -> None:
    """2026.4.1's ``rejectExecApprovalShellCommand``: a ``/approve`` typed into the shell is refused."""
    raw = js_trim(command)
    segments = _shell_segments(raw)
    if segments is not None:
        candidates = [c for argv in segments for c in _approve_candidates(argv)]
    else:
        candidates = []
        for line in (js_trim(x) for x in re.split(r"\r?\n", raw)):
            if line:
                argv = _split_args(line)
                candidates += _approve_candidates(argv) if argv is not None else [line]
    if any(_APPROVE_COMMAND.match(c.lstrip()) for c in candidates):
        raise ToolError(APPROVE_IN_SHELL)


# ---------------------------------------------------------------- preflight (bash-tools.exec.ts)

_PY_SCRIPT = re.compile(r"^\s*(python3?|python)\s+(?:-[^\s]+\s+)*([^\s]+\.py)\b", re.IGNORECASE)
_NODE_SCRIPT = re.compile(r"^\s*(node)\s+(?:--[^\s]+\s+)*([^\s]+\.js)\b", re.IGNORECASE)
_SHELL_VAR = re.compile(r"\$[A-Z_][A-Z0-9_]{1,}")


def _preflight(ctx: ToolContext, command: str, workdir: str) -> None:
    """Refuse ``python x.py`` / ``node x.js`` when the script holds a ``$UPPER_CASE`` shell variable."""
    raw = js_trim(command)
    match = _PY_SCRIPT.match(raw) or _NODE_SCRIPT.match(raw)
    if not match:
        return
    kind = "python" if match.re is _PY_SCRIPT else "node"
    script = posixpath.normpath(posixpath.join(workdir, match.group(2)))
    root = posixpath.normpath(workdir)
    if "\x00" in script or not (script == root or script.startswith(root.rstrip("/") + "/")):
        return  # OpenClaw only checks scripts inside the workdir
    try:
        st = ctx.sandbox.stat(script)  # type: ignore[attr-defined]
        if not st["is_file"] or st["size"] > SCRIPT_PREFLIGHT_MAX_BYTES:
            return
        content = ctx.sandbox.read_file(script).decode("utf-8", "replace")
    except SandboxFileError:
        return
    found = _SHELL_VAR.search(content)
    if found:
        token, name = found.group(0), found.group(0)[1:]
        line = content[:found.start()].count("\n") + 1
        advice = (f'In Python, use os.environ.get("{name}") instead of raw {token}.' if kind == "python"
                  else f'In Node.js, use process.env["{name}"] instead of raw {token}.')
        where = f"{posixpath.basename(script)}:{line}"
        raise ToolError("\n".join([
            f"exec preflight: detected likely shell variable injection ({token}) in {kind} script: {where}.",
            advice,
            "(If this is inside a string literal on purpose, escape it or restructure the code.)",
        ]))
    if kind == "node":
        first = next((js_trim(x) for x in re.split(r"\r?\n", content) if js_trim(x)), None)
        if first is not None and re.match(r"NODE\b", first):
            raise ToolError(f"exec preflight: JS file starts with shell syntax ({first}). "
                            "This looks like a shell command, not JavaScript.")


# ---------------------------------------------------------------- exec


def _signal_label(name: str | None, pty: bool) -> str | None:
    """node-pty reports the signal number, child processes its name."""
    if name is None or not pty:
        return name
    try:
        return str(signal_module.Signals[name].value)
    except KeyError:
        return name


def _foreground_text(res: ExecResult, pty: bool, timeout_s: float | None) -> str:
    """``buildExecExitOutcome`` + ``buildExecForegroundResult``: output, then the exit or failure line."""
    aggregated = js_trim(_tail(sanitize_binary_output(res.output), MAX_OUTPUT_CHARS))
    code = res.exit_code if res.exit_code is not None else 0
    sig = _signal_label(res.signal, pty)
    if res.timed_out:
        reason = (f"Command timed out after {_num(timeout_s or 0)} seconds. If this command is expected "
                  "to take longer, re-run with a higher timeout (e.g., exec timeout=300).")
    elif code in (126, 127):
        reason = "Command not found" if code == 127 else "Command not executable (permission denied)"
    elif sig is not None:
        reason = f"Command aborted by signal {sig}"
    elif res.exit_code is None:
        reason = "Command aborted before exit code was captured"
    else:
        text = aggregated + (f"\n\n(Command exited with code {code})" if code != 0 else "")
        return text or "(no output)"
    return f"{aggregated}\n\n{reason}" if aggregated else reason


def _check_spawn_args(command: str, env: dict[str, str]) -> None:
    """Node's ``spawn`` refuses NUL bytes in arguments and environment values."""
    if "\x00" in command:
        raise ToolError(f"The argument 'args[1]' must be a string without null bytes. Received {node_inspect_str(command)}")
    for key, value in env.items():
        if "\x00" in value:
            raise ToolError(f"The property 'options.env['{key}']' must be a string without null bytes. "
                            f"Received {node_inspect_str(value)}")


def _clamp(value: Any, default: int, low: int, high: int) -> float:
    """``clampWithDefault``: a number clamped to [low, high]; the default for anything else."""
    if not _is_number(value):
        return default
    number: float = value
    return min(max(number, low), high)


def exec_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Run a shell command (``$SHELL -c``) in the sandbox; background it after ``yieldMs``."""
    command = args.get("command")
    if not isinstance(command, str) or not command:
        raise ToolError("Provide a command to start.")
    if args.get("elevated") is True:
        raise ToolError(ELEVATED_UNAVAILABLE)
    v41 = ctx.openclaw_version != "2026.3.24"
    host = _choice(args.get("host"), ("auto", "sandbox", "gateway", "node") if v41 else ("sandbox", "gateway", "node"))
    if host is not None and host != "gateway":
        raise ToolError(f"exec host not allowed (requested {host}; configure tools.exec.host=gateway to allow).")
    security = min(("full", _choice(args.get("security"), _SECURITY_ORDER) or "full"), key=_SECURITY_ORDER.__getitem__)
    ask = max(("on-miss", _choice(args.get("ask"), _ASK_ORDER) or "on-miss"), key=_ASK_ORDER.__getitem__)
    warnings: list[str] = []
    workdir = _resolve_workdir(ctx, args.get("workdir"), warnings)
    if v41:
        _reject_approve_command(command)
    env = _host_env(args.get("env"))
    if security == "deny":
        raise ToolError("exec denied: host=gateway security=deny")
    reasons = detect_obfuscation(command)
    if reasons:
        warnings.append(f"⚠️ Obfuscated command detected: {'; '.join(reasons)}")
    # ask=always, or security=allowlist with our empty allowlist, or obfuscation: OpenClaw asks its
    # gateway for approval, nobody approves, and the command is not run.
    if ask == "always" or security == "allowlist" or reasons:
        return _approval_unavailable(warnings) if v41 else _approval_pending(ctx, command, workdir, warnings)

    background = args.get("background") is True
    yield_requested = _is_number(args.get("yieldMs"))
    default_yield = _clamp(ctx.exec_yield_ms, 10_000, 10, 120_000)
    yield_ms = 0 if background else _clamp(args.get("yieldMs"), int(default_yield), 10, 120_000)
    explicit = args.get("timeout") if _is_number(args.get("timeout")) else None
    timeout_s: float | None = explicit if explicit is not None else (
        None if (background or yield_requested) else ctx.exec_timeout_s)
    if timeout_s is not None and timeout_s <= 0:
        timeout_s = None
    if ctx.max_exec_timeout_s is not None:
        timeout_s = min(timeout_s, ctx.max_exec_timeout_s) if timeout_s is not None else ctx.max_exec_timeout_s

    _preflight(ctx, command, workdir)
    _check_spawn_args(command, env)
    slug = _new_slug(ctx)
    pty = args.get("pty") is True
    res = ctx.sandbox.exec(
        well_formed(command),
        workdir=workdir,
        env={**{k: well_formed(v) for k, v in env.items()}, "OPENCLAW_CLI": "1"},
        timeout_s=timeout_s,
        yield_ms=None if background else int(yield_ms),
        background=background,
        pty=pty,
    )
    warning_text = "\n".join(warnings) + "\n\n" if warnings else ""
    if res.spawn_error:
        raise ToolError(f"spawn sh {res.spawn_error.get('errno', 'EIO')}")
    if res.backgrounded:
        assert res.session_id is not None
        _sessions(ctx)[slug] = _BgSession(res.session_id, command, pty, ctx.state["exec_slug_counter"])
        return warning_text + STILL_RUNNING.format(slug=slug, pid=res.pid if res.pid is not None else "n/a")
    text = _foreground_text(res, pty, timeout_s)
    return f"{warning_text}\n\n{text}" if warning_text else text


# ---------------------------------------------------------------- process: keys (pty-keys.ts)

ESC = "\x1b"
_NAMED_KEYS = {
    "enter": "\r", "return": "\r", "tab": "\t", "escape": ESC, "esc": ESC, "space": " ",
    "bspace": "\x7f", "backspace": "\x7f", "up": f"{ESC}[A", "down": f"{ESC}[B", "right": f"{ESC}[C",
    "left": f"{ESC}[D", "home": f"{ESC}[1~", "end": f"{ESC}[4~", "pageup": f"{ESC}[5~", "pgup": f"{ESC}[5~",
    "ppage": f"{ESC}[5~", "pagedown": f"{ESC}[6~", "pgdn": f"{ESC}[6~", "npage": f"{ESC}[6~",
    "insert": f"{ESC}[2~", "ic": f"{ESC}[2~", "delete": f"{ESC}[3~", "del": f"{ESC}[3~", "dc": f"{ESC}[3~",
    "btab": f"{ESC}[Z", "f1": f"{ESC}OP", "f2": f"{ESC}OQ", "f3": f"{ESC}OR", "f4": f"{ESC}OS",
    "f5": f"{ESC}[15~", "f6": f"{ESC}[17~", "f7": f"{ESC}[18~", "f8": f"{ESC}[19~", "f9": f"{ESC}[20~",
    "f10": f"{ESC}[21~", "f11": f"{ESC}[23~", "f12": f"{ESC}[24~", "kp/": f"{ESC}Oo", "kp*": f"{ESC}Oj",
    "kp-": f"{ESC}Om", "kp+": f"{ESC}Ok", "kp7": f"{ESC}Ow", "kp8": f"{ESC}Ox", "kp9": f"{ESC}Oy",
    "kp4": f"{ESC}Ot", "kp5": f"{ESC}Ou", "kp6": f"{ESC}Ov", "kp1": f"{ESC}Oq", "kp2": f"{ESC}Or",
    "kp3": f"{ESC}Os", "kp0": f"{ESC}Op", "kp.": f"{ESC}On", "kpenter": f"{ESC}OM",
}
_MODIFIABLE = frozenset((
    "up", "down", "left", "right", "home", "end", "pageup", "pgup", "ppage", "pagedown", "pgdn", "npage",
    "insert", "ic", "delete", "del", "dc",
))
_SS3_KEYS = {"up": f"{ESC}OA", "down": f"{ESC}OB", "right": f"{ESC}OC", "left": f"{ESC}OD",
             "home": f"{ESC}OH", "end": f"{ESC}OF"}
_CSI_NUMBER = re.compile(r"\x1b\[(\d+)([~A-Z])\Z")
_CSI_ARROW = re.compile(r"\x1b\[(A|B|C|D|H|F)\Z")


def _parse_modifiers(token: str) -> tuple[dict[str, bool], str, bool]:
    mods = {"ctrl": False, "alt": False, "shift": False}
    rest, saw = token, False
    while len(rest) > 2 and rest[1] == "-":
        mod = rest[0].lower()
        if mod not in ("c", "m", "s"):
            break
        mods[{"c": "ctrl", "m": "alt", "s": "shift"}[mod]] = True
        saw = True
        rest = rest[2:]
    return mods, rest, saw


def _ctrl_char(ch: str) -> str | None:
    if len(ch) != 1:
        return None
    if ch == "?":
        return "\x7f"
    code = ord(ch.upper()[0])  # "ß".toUpperCase() is "SS"
    return chr(code & 31) if 64 <= code <= 95 else None


def _encode_key(raw: str, warnings: list[str], cursor_mode: str | None) -> str:
    """``encodeKeyToken``: tmux-style key names (``C-c``, ``Enter``, ``M-Up``, ``^D``) to bytes."""
    token = js_trim(raw)
    if not token:
        return ""
    if len(token) == 2 and token.startswith("^"):
        ctrl = _ctrl_char(token[1])
        if ctrl:
            return ctrl
    mods, base, saw = _parse_modifiers(token)
    lower = base.lower()
    any_mod = any(mods.values())
    if lower == "tab" and mods["shift"]:
        return f"{ESC}[Z"
    if lower in _MODIFIABLE and cursor_mode == "application" and not any_mod and lower in _SS3_KEYS:
        return _SS3_KEYS[lower]
    seq = _NAMED_KEYS.get(lower)
    if seq:
        if lower in _MODIFIABLE and any_mod:
            mod = 1 + mods["shift"] + 2 * mods["alt"] + 4 * mods["ctrl"]
            number, arrow = _CSI_NUMBER.match(seq), _CSI_ARROW.match(seq)
            if number:
                return f"{ESC}[{number.group(1)};{mod}{number.group(2)}"
            if arrow:
                return f"{ESC}[1;{mod}{arrow.group(1)}"
        return f"{ESC}{seq}" if mods["alt"] else seq
    if utf16_len(base) == 1:
        value = base.upper() if mods["shift"] and re.fullmatch("[a-z]", base) else base
        if mods["ctrl"]:
            value = _ctrl_char(value) or value
        return f"{ESC}{value}" if mods["alt"] else value
    if saw:
        warnings.append(f'Unknown key "{base}" for modifiers; sending literal.')
    return base


def _hex_byte(raw: str) -> int | None:
    t = js_trim(raw).lower()
    t = t.removeprefix("0x")
    return int(t, 16) if re.fullmatch("[0-9a-f]{1,2}", t) else None


def _encode_keys(args: dict[str, Any], cursor_mode: str | None) -> tuple[str, list[str]]:
    """``encodeKeySequence``: literal, then hex bytes, then key tokens."""
    warnings: list[str] = []
    data = args.get("literal") or ""
    for raw in args.get("hex") or []:
        byte = _hex_byte(raw)
        if byte is None:
            warnings.append(f"Invalid hex byte: {raw}")
        else:
            data += chr(byte)
    for token in args.get("keys") or []:
        data += _encode_key(token, warnings, cursor_mode)
    return data, warnings


def _needs_cursor_mode(keys: list[str]) -> bool:
    """Unmodified arrows/home/end change bytes with the terminal's cursor-key mode."""
    for raw in keys:
        token = js_trim(raw)
        if token:
            mods, base, _ = _parse_modifiers(token)
            if not any(mods.values()) and base.lower() in _SS3_KEYS:
                return True
    return False


def _cursor_mode(output: str) -> str:
    """The last smkx/rmkx toggle the program printed; "unknown" before any."""
    smkx, rmkx = output.rfind(f"{ESC}[?1h"), output.rfind(f"{ESC}[?1l")
    if smkx == -1 and rmkx == -1:
        return "unknown"
    return "application" if smkx > rmkx else "normal"


# ---------------------------------------------------------------- process


def _status(info: ProcessInfo) -> str:
    """running, or how the run ended in OpenClaw's terms (non-zero exits still "completed")."""
    if info.status == "running":
        return "running"
    normal = info.signal is None and not info.timed_out and not info.killed and info.exit_code is not None
    return "completed" if normal and info.exit_code not in (126, 127) else "failed"


def _exit_line(info: ProcessInfo, pty: bool) -> str:
    sig = _signal_label(info.signal, pty)
    return f"\n\nProcess exited with {f'signal {sig}' if sig else f'code {info.exit_code or 0}'}."


def _log_slice(text: str, offset: Any, limit: Any) -> tuple[str, int]:
    """``sliceLogLines``: a line window; a limit alone counts from the end."""
    if not text:
        return "", 0
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    total = len(lines)
    start = max(0, int(offset // 1)) if _is_number(offset) else 0
    if limit is not None and offset is None:
        start = max(total - max(0, int(limit // 1)), 0)
    end = start + max(0, int(limit // 1)) if _is_number(limit) else None
    return "\n".join(lines[start:end]), total


def _aggregated(ctx: ToolContext, s: _BgSession) -> str:
    """All output the session kept, as OpenClaw's registry holds it (last 200k chars)."""
    return _tail(sanitize_binary_output(ctx.sandbox.process_log(s.sandbox_id)[1]), MAX_OUTPUT_CHARS)


def _list(ctx: ToolContext) -> str:
    infos = {p.session_id: p for p in ctx.sandbox.list_processes()}
    rows = []
    for slug, s in sorted(_sessions(ctx).items(), key=lambda kv: -kv[1].seq):
        info = infos.get(s.sandbox_id)
        if info is None:
            continue
        name = _session_name(s.command)
        label = _truncate_middle(name, 80) if name else _truncate_middle(s.command, 120)
        status = s.polled_status if s.polled_status and info.status != "running" else _status(info)
        rows.append(f"{slug} {status.ljust(9)} {_format_duration(info.runtime_s * 1000)} :: {label}")
    return "\n".join(rows) or "No running or recent sessions."


def _write_stdin(ctx: ToolContext, s: _BgSession, data: str) -> bool:
    """Write to a PTY session; False if it ended meanwhile. Non-PTY stdin is closed at spawn in OpenClaw."""
    if not s.pty:
        raise ToolError("write after end")
    try:
        ctx.sandbox.write_process(s.sandbox_id, to_utf8(data))
    except (BrokenPipeError, KeyError, SandboxFileError):
        return False
    return True


def process_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Manage backgrounded exec sessions: list, poll, log, write, send-keys, submit, paste, kill, clear, remove."""
    action = args.get("action")
    if action == "list":
        return _list(ctx)
    sid = args.get("sessionId")
    if not sid:
        return "sessionId is required for this action."
    sessions = _sessions(ctx)
    s = sessions.get(sid)
    info = next((p for p in ctx.sandbox.list_processes() if p.session_id == s.sandbox_id), None) if s else None
    if s is not None and info is None:  # the sandbox lost it (restarted): forget it too
        del sessions[sid]
        s = None
    running = info is not None and info.status == "running"

    if action == "poll":
        if s is None or info is None:
            return f"No session found for {sid}"
        if not running:
            tail = _tail(_aggregated(ctx, s), FINISHED_TAIL_CHARS)
            return (tail or "(no output recorded)") + _exit_line(info, s.pty)
        wait = _clamp(args.get("timeout"), 0, 0, MAX_POLL_WAIT_MS)
        info, new = ctx.sandbox.poll_process(s.sandbox_id, int(wait // 1))
        output = js_trim(_tail(sanitize_binary_output(new), PENDING_MAX_CHARS))
        ending = "\n\nProcess still running." if info.status == "running" else _exit_line(info, s.pty)
        if info.status != "running":
            s.polled_status = "completed" if info.exit_code == 0 and info.signal is None else "failed"
        return (output or "(no new output)") + ending

    if action == "log":
        if s is None or info is None:
            return f"No session found for {sid}"
        offset, limit = args.get("offset"), args.get("limit")
        default_tail = offset is None and limit is None
        text, total = _log_slice(_aggregated(ctx, s), offset, LOG_TAIL_LINES if default_tail else limit)
        note = (f"\n\n[showing last {LOG_TAIL_LINES} of {total} lines; pass offset/limit to page]"
                if default_tail and total > LOG_TAIL_LINES else "")
        return (text or ("(no output yet)" if running else "(no output recorded)")) + note

    if action in ("write", "send-keys", "submit", "paste"):
        if s is None or not running:
            return f"No active session found for {sid}"
        if action == "write":
            data = args.get("data") or ""
            if not _write_stdin(ctx, s, data + ("\x04" if args.get("eof") and s.pty else "")):
                return f"No active session found for {sid}"
            closed = " (stdin closed)" if args.get("eof") else ""
            return f"Wrote {utf16_len(data)} bytes to session {sid}{closed}."
        if action == "send-keys":
            keys = args.get("keys") or []
            mode = _cursor_mode(_aggregated(ctx, s)) if s.pty else "normal"
            if mode == "unknown" and _needs_cursor_mode(keys):
                return (f"Session {sid} cursor key mode is not known yet. "
                        "Poll or log until startup output appears, then retry send-keys.")
            data, warnings = _encode_keys(args, None if mode == "unknown" else mode)
            if not data:
                return "No key data provided."
            if not _write_stdin(ctx, s, data):
                return f"No active session found for {sid}"
            extra = "\nWarnings:\n- " + "\n- ".join(warnings) if warnings else ""
            return f"Sent {utf16_len(data)} bytes to session {sid}.{extra}"
        if action == "submit":
            if not _write_stdin(ctx, s, "\r"):
                return f"No active session found for {sid}"
            return f"Submitted session {sid} (sent CR)."
        text = args.get("text") or ""
        payload = text if args.get("bracketed") is False else f"{ESC}[200~{text}{ESC}[201~"
        if not payload:
            return "No paste text provided."
        if not _write_stdin(ctx, s, payload):
            return f"No active session found for {sid}"
        return f"Pasted {utf16_len(text)} chars to session {sid}."

    if action == "kill":
        if s is None or not running:
            return f"No active session found for {sid}"
        ctx.sandbox.kill_process(s.sandbox_id, term_grace_s=KILL_GRACE_S)
        return f"Termination requested for session {sid}."

    if action == "clear":
        if s is None or running:
            return f"No finished session found for {sid}"
        ctx.sandbox.remove_process(s.sandbox_id)
        del sessions[sid]
        return f"Cleared session {sid}."

    if action == "remove":
        if s is None:
            return f"No session found for {sid}"
        if running:
            ctx.sandbox.kill_process(s.sandbox_id, term_grace_s=KILL_GRACE_S)
        ctx.sandbox.remove_process(s.sandbox_id)
        del sessions[sid]
        return f"Removed session {sid} (termination requested)." if running else f"Removed session {sid}."

    return f"Unknown action {action}"
