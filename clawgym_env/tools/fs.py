"""OpenClaw's ``read``, ``write`` and ``edit`` tools, as the model sees them.

Behaviour and texts follow OpenClaw 2026.3.24 (host workspace tools over pi-coding-agent 0.61.1:
``read``/``write``/``edit``/``edit-diff``/``truncate``/``path-utils``, wrapped by OpenClaw's
``pi-tools.params`` alias folding, ``pi-tools.read`` adaptive paging and ``pi-tools.host-edit``
mismatch hint), plus the ``edits[]`` form of ``edit`` from 2026.4.1 (pi 0.64.0). Written from that
code's behaviour, not translated from it. All file access goes through the sandbox server, so paths
resolve inside the sandbox; errors are shaped like the Node.js errors OpenClaw would have thrown.
"""

from __future__ import annotations

import base64
import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any, Protocol, TypeVar

from clawgym_env.sandbox.base import SandboxFileError
from clawgym_env.tools.context import ToolContext, ToolError
from clawgym_env.tools.images import ToolOutput
from clawgym_env.tools.jsjson import js_number_to_string, utf16_len, utf16_slice, well_formed

_V = TypeVar("_V")

__all__ = ["edit_tool", "js_trim", "node_inspect_str", "read_tool", "to_utf8", "well_formed", "write_tool"]

HOME = "/root"
"""``os.homedir()`` of the agent inside the sandbox (``~`` expands to it)."""

MAX_LINES = 2000
MAX_BYTES = 50 * 1024
MAX_ADAPTIVE_READ_BYTES = 512 * 1024
ADAPTIVE_READ_CONTEXT_SHARE = 0.2
MAX_READ_PAGES = 8
EDIT_HINT_LIMIT = 800
DEVICE_READ_CAP = 16 << 20
"""Node would read a character device (``/dev/zero``) until it runs out of memory; we stop here."""

PATH_KEYS = ("path", "file_path", "filePath", "file")
OLD_TEXT_KEYS = ("oldText", "old_string", "old_text", "oldString")
NEW_TEXT_KEYS = ("newText", "new_string", "new_text", "newString")

JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# libuv's messages, as Node prints them in fs errors ("ENOENT: no such file or directory, access '/x'")
_UV_MESSAGES = {
    "ENOENT": "no such file or directory", "EISDIR": "illegal operation on a directory",
    "ENOTDIR": "not a directory", "EACCES": "permission denied", "EPERM": "operation not permitted",
    "EEXIST": "file already exists", "ELOOP": "too many symbolic links encountered",
    "ENAMETOOLONG": "name too long", "EROFS": "read-only file system", "ENOSPC": "no space left on device",
    "EFBIG": "file too large", "EIO": "i/o error", "EINVAL": "invalid argument",
    "EMFILE": "too many open files", "ENFILE": "file table overflow", "EBUSY": "resource busy or locked",
    "ETXTBSY": "text file is busy", "EAGAIN": "resource temporarily unavailable",
    "ENXIO": "no such device or address", "ENODEV": "no such device", "ENOMEM": "not enough memory",
}


# ---------------------------------------------------------------- JS / Node string semantics


def js_trim(s: str) -> str:
    """``String.prototype.trim`` (JS whitespace differs from Python's)."""
    return s.strip(JS_WHITESPACE)


def to_utf8(s: str) -> bytes:
    """Node's UTF-8 encoding of a JS string."""
    return well_formed(s).encode("utf-8")


def _utf8_len(s: str) -> int:
    """``Buffer.byteLength(s, "utf-8")``."""
    return len(to_utf8(s))


def node_inspect_str(s: str) -> str:
    """``util.inspect`` of a string, as Node quotes it inside ERR_INVALID_ARG_VALUE messages."""
    if "'" not in s:
        quote = "'"
    elif '"' not in s:
        quote = '"'
    elif "`" not in s and "${" not in s:
        quote = "`"
    else:
        quote = "'"
    out = []
    for ch in s:
        o = ord(ch)
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif o < 0x20 or 0x7F <= o <= 0x9F:
            out.append(f"\\x{o:02X}")
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def _null_byte_error(path: str) -> ToolError:
    return ToolError(
        "The argument 'path' must be a string, Uint8Array, or URL without null bytes. "
        f"Received {node_inspect_str(path)}"
    )


def _fs_error(err: SandboxFileError, syscall: str, path: str | None) -> ToolError:
    """The message Node would give for this errno, e.g. ``EISDIR: illegal operation on a directory, open '/x'``."""
    desc = _UV_MESSAGES.get(err.code) or (err.message or "unknown error").lower()
    where = f"{syscall} '{path}'" if path else syscall
    return ToolError(f"{err.code}: {desc}, {where}")


def _format_size(n: int) -> str:
    """pi's ``formatSize`` (``toFixed(1)`` rounds half up on the exact binary value)."""
    if n < 1024:
        return f"{n}B"
    value, unit = (n / 1024, "KB") if n < 1024 * 1024 else (n / (1024 * 1024), "MB")
    return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}{unit}"


def _format_cap(n: int) -> str:
    """OpenClaw's ``formatBytes`` for the adaptive read cap (``Math.round`` to whole KB)."""
    if n >= 1024 * 1024:
        return f"{Decimal(n / (1024 * 1024)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}MB"
    if n >= 1024:
        return f"{int(Decimal(n / 1024).quantize(Decimal(1), rounding=ROUND_HALF_UP))}KB"
    return f"{n}B"


def _num(x: float) -> str:
    return js_number_to_string(x)


# ---------------------------------------------------------------- parameters (pi-tools.params)


@dataclass(frozen=True)
class _Group:
    """One required-parameter group: any key satisfies it (OpenClaw's CLAUDE_PARAM_GROUPS)."""

    label: str
    keys: tuple[str, ...]
    allow_empty: bool = False
    validator: Callable[[dict[str, Any]], bool] | None = None


def _fold_aliases(args: dict[str, Any]) -> dict[str, Any]:
    """``normalizeClaudeParamAliases``: an alias fills its canonical key only if that key is absent."""
    record = dict(args)
    for keys in (PATH_KEYS, OLD_TEXT_KEYS, NEW_TEXT_KEYS):
        for alias in keys[1:]:
            if alias in record and keys[0] not in record:
                record[keys[0]] = record[alias]
            record.pop(alias, None)
    return record


def _assert_required(record: dict[str, Any], groups: tuple[_Group, ...]) -> None:
    missing = []
    for g in groups:
        if g.validator is not None:
            ok = g.validator(record)
        else:
            ok = any(
                isinstance(record.get(k), str) and (g.allow_empty or js_trim(record[k]) != "")
                for k in g.keys if k in record
            )
        if not ok:
            missing.append(g.label)
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        raise ToolError(f"Missing required {noun}: {', '.join(missing)}. Supply correct parameters before retrying.")


_PATH_GROUP = _Group("path alias", PATH_KEYS)
_READ_GROUPS = (_PATH_GROUP,)
_WRITE_GROUPS = (_PATH_GROUP, _Group("content", ("content",)))
_EDIT_GROUPS = (_PATH_GROUP, _Group("oldText alias", OLD_TEXT_KEYS), _Group("newText alias", NEW_TEXT_KEYS, True))


def _valid_replacement(entry: Any) -> dict[str, str] | None:
    """4.1 ``normalizeEditReplacement``: aliases folded, oldText non-blank, newText a string."""
    if not isinstance(entry, dict):
        return None
    e = _fold_aliases(entry)
    old, new = e.get("oldText"), e.get("newText")
    if not isinstance(old, str) or js_trim(old) == "" or not isinstance(new, str):
        return None
    return {"oldText": old, "newText": new}


def _has_valid_edits(record: dict[str, Any]) -> bool:
    edits = record.get("edits")
    return isinstance(edits, list) and len(edits) > 0 and all(_valid_replacement(e) for e in edits)


_EDITS_GROUPS = (
    _PATH_GROUP,
    _Group("oldText alias", OLD_TEXT_KEYS, validator=_has_valid_edits),
    _Group("newText alias", NEW_TEXT_KEYS, True, validator=_has_valid_edits),
)


def _normalize_edits(record: dict[str, Any]) -> None:
    """4.1 ``normalizeEditReplacements``: valid edits[] entries, then a valid top-level pair.

    Invalid entries are dropped when at least one is valid (as OpenClaw does)."""
    found = [r for r in map(_valid_replacement, record.get("edits") or []) if r] \
        if isinstance(record.get("edits"), list) else []
    old, new = record.get("oldText"), record.get("newText")
    if isinstance(old, str) and js_trim(old) != "" and isinstance(new, str):
        found.append({"oldText": old, "newText": new})
    if found:
        record["edits"] = found


# ---------------------------------------------------------------- paths (pi path-utils)

_UNICODE_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")


def _expand(path: str) -> str:
    p = path.removeprefix("@")
    p = _UNICODE_SPACES.sub(" ", p)
    if p == "~":
        return HOME
    if p.startswith("~/"):
        return HOME + p[1:]
    return p


def _resolve(ctx: ToolContext, path: str) -> str:
    """pi ``resolveToCwd``: absolute paths are kept as written, relative ones resolved against the workspace."""
    p = well_formed(_expand(path))
    return p if p.startswith("/") else posixpath.normpath(posixpath.join(ctx.workspace, p))


def _stat(ctx: ToolContext, path: str) -> dict[str, Any] | None:
    try:
        return ctx.sandbox.stat(path)  # type: ignore[attr-defined, no-any-return]
    except SandboxFileError:
        return None


def _resolve_read(ctx: ToolContext, path: str) -> str:
    """pi ``resolveReadPath``: if the file is missing, try the macOS screenshot spellings before giving up."""
    resolved = _resolve(ctx, path)
    if "\x00" in resolved or _stat(ctx, resolved) is not None:
        return resolved
    nfd = unicodedata.normalize("NFD", resolved)
    for variant in (
        re.sub(r" (AM|PM)\.", "\u202f\\1.", resolved),
        nfd,
        resolved.replace("'", "\u2019"),
        nfd.replace("'", "\u2019"),
    ):
        if variant != resolved and _stat(ctx, variant) is not None:
            return variant
    return resolved


# ---------------------------------------------------------------- read


def _png_kind(buf: bytes) -> str | None:
    """file-type's PNG probe: image/png, image/apng (animated: not an image to pi), or nothing."""
    pos, size, seen_header = 8, len(buf), False
    for _ in range(512):
        if pos + 8 > size:
            return None
        length = int.from_bytes(buf[pos:pos + 4], "big", signed=True)
        kind = buf[pos + 4:pos + 8].decode("latin-1")
        pos += 8
        if length < 0:
            return None
        if kind == "IHDR":
            if length != 13:
                return None
            seen_header = True
        if kind == "IDAT":
            return "image/png"
        if kind == "acTL":
            return "image/apng"
        if not seen_header and kind != "CgBI":
            return None
        if pos + length + 4 > size:
            return "image/png"
        pos += length + 4
        if pos + 8 >= size:
            break
    return "image/png"


def _image_mime(data: bytes) -> str | None:
    """pi ``detectSupportedImageMimeTypeFromFile``: file-type on the first 4100 bytes, jpeg/png/gif/webp only."""
    buf = data[:4100]
    while buf.startswith(b"\xef\xbb\xbf"):  # file-type strips UTF-8 BOMs and looks again
        buf = buf[3:]
    mime = None
    if buf.startswith(b"GIF"):
        mime = "image/gif"
    elif buf.startswith(b"\xff\xd8\xff"):
        mime = "image/jls" if buf[3:4] == b"\xf7" else "image/jpeg"
    elif buf.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = _png_kind(buf)
    elif buf.startswith(b"RIFF") and buf[8:12] == b"WEBP":
        mime = "image/webp"
    return mime if mime in ("image/jpeg", "image/png", "image/gif", "image/webp") else None


class _Lines(Protocol):
    """The lines of a file as ``text.split("\\n")`` gives them, read only as far as needed."""

    total: int

    def size(self, i: int) -> int:
        """UTF-8 length of line ``i``."""
        ...

    def text(self, i: int) -> str:
        """Line ``i`` (only ever asked for lines of at most MAX_BYTES)."""
        ...


class _TextLines:
    """Lines of a text held in memory."""

    def __init__(self, text: str):
        self._lines = text.split("\n")
        self.total = len(self._lines)

    def size(self, i: int) -> int:
        return _utf8_len(self._lines[i])

    def text(self, i: int) -> str:
        return self._lines[i]


_WINDOW_LINES = MAX_READ_PAGES * MAX_LINES + 1
_WINDOW_TEXT_BYTES = MAX_ADAPTIVE_READ_BYTES + 2 * MAX_BYTES
_HEAD_BYTES = 4100


class _RemoteLines:
    """Lines of a file in the sandbox, fetched in windows (``read_lines``): a read of a 63 MB file
    brings the host the ~50 KB it shows, not the file. Texts equal ``_TextLines`` of the whole
    file decoded with U+FFFD for bad bytes."""

    def __init__(self, sandbox: Any, path: str, first: int, device_cap: int):
        self._sandbox = sandbox
        self._path = path
        self._device_cap = device_cap
        self._sizes: dict[int, int] = {}
        self._texts: dict[int, str] = {}
        reply = self._fetch(first)
        self.total: int = reply["total"]
        self.head = base64.b64decode(reply["head_b64"])

    def _fetch(self, start: int) -> dict[str, Any]:
        reply: dict[str, Any] = self._sandbox.read_lines(
            self._path, start, _WINDOW_LINES, text_budget=_WINDOW_TEXT_BYTES, max_line_bytes=MAX_BYTES,
            head_bytes=_HEAD_BYTES if not self._sizes else 0, device_cap=self._device_cap)
        for k, (text, size) in enumerate(zip(reply["texts"], reply["sizes"])):
            self._sizes[start + k] = size
            if text is not None:
                self._texts[start + k] = text
        return reply

    def size(self, i: int) -> int:
        return self._cached(self._sizes, i)

    def text(self, i: int) -> str:
        return self._cached(self._texts, i)

    def _cached(self, table: dict[int, _V], i: int) -> _V:
        """Line ``i``'s entry in ``table``, fetched with its window when missing."""
        if i not in table:
            self._fetch(i)
            if i not in table:
                raise ToolError(f"{self._path} changed while it was being read")
        return table[i]


@dataclass
class _Truncation:
    content: str
    truncated: bool
    by_bytes: bool
    output_lines: int
    first_line_too_big: bool


def _truncate_head(lines: _Lines, first: int, stop: int) -> _Truncation:
    """pi ``truncateHead`` of ``"\\n".join(lines[first:stop])``: whole lines only, up to 2000 lines
    or 50KB, whichever comes first. (An empty range is the one empty line of ``"".split``.)"""
    count = stop - first
    if count <= 0:
        return _Truncation("", False, False, 1, False)
    if count <= MAX_LINES:
        total = count - 1
        for i in range(first, stop):
            total += lines.size(i)
            if total > MAX_BYTES:
                break
        else:
            return _Truncation("\n".join(lines.text(i) for i in range(first, stop)), False, False, count, False)
    if lines.size(first) > MAX_BYTES:
        return _Truncation("", True, True, 0, True)
    kept: list[str] = []
    used = 0
    by_bytes = False
    for i in range(first, min(stop, first + MAX_LINES)):
        size = lines.size(i) + (1 if i > first else 0)
        if used + size > MAX_BYTES:
            by_bytes = True
            break
        kept.append(lines.text(i))
        used += size
    if len(kept) >= MAX_LINES and used <= MAX_BYTES:
        by_bytes = False
    return _Truncation("\n".join(kept), True, by_bytes, len(kept), False)


@dataclass
class _Page:
    body: str
    notice: str
    """The continuation notice pi appends (OpenClaw strips it between auto-pages)."""
    truncation: _Truncation | None


def _read_page(lines: _Lines, path: str, offset: float | None, limit: float | None) -> _Page:
    """One call of pi's read on an already-split text file."""
    total = lines.total
    start = max(0, offset - 1) if offset else 0
    shown_start = start + 1
    if start >= total:
        raise ToolError(f"Offset {_num(offset or 0)} is beyond end of file ({total} lines total)")
    limited: float | int | None = None
    if limit is not None:
        end = min(start + limit, total)
        selected = range(total)[int(start):int(end)]  # Python slice semantics, negative ends included
        limited = end - start
    else:
        selected = range(total)[int(start):]
    t = _truncate_head(lines, selected.start, selected.stop)
    if t.first_line_too_big:
        size = _format_size(lines.size(int(start)))
        text = (f"[Line {_num(shown_start)} is {size}, exceeds {_format_size(MAX_BYTES)} limit. "
                f"Use bash: sed -n '{_num(shown_start)}p' {path} | head -c {MAX_BYTES}]")
        return _Page(text, "", t)
    if t.truncated:
        last = shown_start + t.output_lines - 1
        limit_note = f" ({_format_size(MAX_BYTES)} limit)" if t.by_bytes else ""
        notice = (f"\n\n[Showing lines {_num(shown_start)}-{_num(last)} of {total}{limit_note}. "
                  f"Use offset={_num(last + 1)} to continue.]")
        return _Page(t.content, notice, t)
    if limited is not None and start + limited < total:
        remaining = total - (start + limited)
        notice = f"\n\n[{_num(remaining)} more lines in file. Use offset={_num(start + limited + 1)} to continue.]"
        return _Page(t.content, notice, None)
    return _Page(t.content, "", None)


def _adaptive_cap(ctx: ToolContext) -> int:
    tokens = ctx.context_window_tokens
    if not tokens or tokens <= 0:
        return MAX_BYTES
    return max(MAX_BYTES, min(MAX_ADAPTIVE_READ_BYTES, int(tokens * 4 * ADAPTIVE_READ_CONTEXT_SHARE)))


def _read_text(ctx: ToolContext, lines: _Lines, path: str, offset: Any, limit: Any) -> str:
    """OpenClaw ``executeReadWithAdaptivePaging``: without a positive limit, join up to 8 pages under a byte cap."""
    if isinstance(limit, (int, float)) and limit > 0:
        page = _read_page(lines, path, offset, limit)
        return page.body + page.notice
    cap = _adaptive_cap(ctx)
    next_offset = int(offset) if isinstance(offset, (int, float)) and offset > 0 else 1
    aggregated = ""
    used = 0
    for n in range(MAX_READ_PAGES):
        page = _read_page(lines, path, next_offset, limit)
        t = page.truncation
        can_continue = (t is not None and not t.first_line_too_big and t.output_lines > 0
                        and n < MAX_READ_PAGES - 1)
        page_text = page.body if can_continue else page.body + page.notice
        piece = ("\n\n" if aggregated else "") + page_text
        size = _utf8_len(piece)
        if aggregated and used + size > cap:
            break
        aggregated += piece
        used += size
        if not can_continue or t is None:
            return aggregated
        next_offset += t.output_lines
        if used >= cap:
            break
    return aggregated + f"\n\n[Read output capped at {_format_cap(cap)} for this call. Use offset={next_offset} to continue.]"


def _first_line_index(offset: Any, limit: Any) -> int:
    """Where the read starts (0-based), to fetch the first window from there."""
    try:
        if isinstance(limit, (int, float)) and limit > 0:
            start = max(0, offset - 1) if offset else 0
        else:
            start = int(offset) - 1 if isinstance(offset, (int, float)) and offset > 0 else 0
        return max(0, int(start))
    except (TypeError, ValueError, OverflowError):  # NaN, infinity: the page itself says what is wrong
        return 0


def read_tool(ctx: ToolContext, args: dict[str, Any]) -> str | ToolOutput:
    """Read a text file (paged) or an image.

    Images give a :class:`~clawgym_env.tools.images.ToolOutput`: OpenClaw's text (``Read image file
    [mime]``, pi's resize note, the version's omitted-image notes) and the image part (see
    :mod:`~clawgym_env.tools.images`). Sandboxes with ``read_lines`` send only the lines shown
    (bounded host memory whatever the file's size).
    """
    record = _fold_aliases(args)
    _assert_required(record, _READ_GROUPS)
    path: str = record["path"]
    absolute = _resolve_read(ctx, path)
    if "\x00" in absolute:
        raise _null_byte_error(absolute)
    try:
        st = ctx.sandbox.stat(absolute)  # type: ignore[attr-defined]
    except SandboxFileError as e:
        raise _fs_error(e, "access", absolute) from None
    if st["is_dir"]:
        raise ToolError("EISDIR: illegal operation on a directory, read")
    offset, limit = record.get("offset"), record.get("limit")
    lines: _Lines
    try:
        if hasattr(ctx.sandbox, "read_lines"):
            remote = _RemoteLines(ctx.sandbox, absolute, _first_line_index(offset, limit),
                                  0 if st["is_file"] else DEVICE_READ_CAP)
            head, lines = remote.head, remote
        else:
            data = ctx.sandbox.read_file(absolute, max_bytes=None if st["is_file"] else DEVICE_READ_CAP)
            head, lines = data[:_HEAD_BYTES], _TextLines(data.decode("utf-8", "replace"))
    except SandboxFileError as e:
        raise _fs_error(e, "open", e.path or absolute) from None
    mime = _image_mime(head)
    if mime:
        from clawgym_env.tools.images import read_image

        try:
            data = ctx.sandbox.read_file(absolute, max_bytes=None if st["is_file"] else DEVICE_READ_CAP)
        except SandboxFileError as e:
            raise _fs_error(e, "open", e.path or absolute) from None
        return read_image(data, mime, path, ctx.openclaw_version)
    return _read_text(ctx, lines, path, offset, limit)


# ---------------------------------------------------------------- write


def _write(ctx: ToolContext, absolute: str, text: str) -> None:
    """Node ``mkdir(dirname, {recursive})`` then ``writeFile``, with Node's error texts."""
    parent = posixpath.dirname(absolute)
    if "\x00" in parent:
        raise _null_byte_error(parent)
    if "\x00" in absolute:
        raise _null_byte_error(absolute)
    try:
        ctx.sandbox.write_file(absolute, to_utf8(text), mkdirs=True)
    except SandboxFileError as e:
        if e.path == absolute:
            raise _fs_error(e, "open", absolute) from None
        if not e.path:
            raise _fs_error(e, "write", None) from None
        raise _fs_error(e, "mkdir", parent) from None  # Node names the directory it was asked to create


def write_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Create or overwrite a file, creating parent directories. N counts UTF-16 units, as in JS."""
    record = _fold_aliases(args)
    _assert_required(record, _WRITE_GROUPS)
    path: str = record["path"]
    content: str = record["content"]
    _write(ctx, _resolve(ctx, path), content)
    return f"Successfully wrote {utf16_len(content)} bytes to {path}"


# ---------------------------------------------------------------- edit (pi edit + edit-diff)


def _normalize_to_lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_ending(text: str) -> str:
    crlf, lf = text.find("\r\n"), text.find("\n")
    return "\r\n" if lf != -1 and crlf != -1 and crlf < lf else "\n"


_SMART_SINGLE = re.compile("[\u2018\u2019\u201a\u201b]")
_SMART_DOUBLE = re.compile("[\u201c\u201d\u201e\u201f]")
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SPECIAL_SPACES = re.compile("[\u00a0\u2002-\u200a\u202f\u205f\u3000]")


def _fuzzy(text: str) -> str:
    """pi ``normalizeForFuzzyMatch``: NFKC, trailing whitespace per line, smart quotes, dashes, odd spaces."""
    t = unicodedata.normalize("NFKC", text)
    t = "\n".join(line.rstrip(JS_WHITESPACE) for line in t.split("\n"))
    t = _SMART_SINGLE.sub("'", t)
    t = _SMART_DOUBLE.sub('"', t)
    t = _DASHES.sub("-", t)
    return _SPECIAL_SPACES.sub(" ", t)


@dataclass
class _Match:
    index: int
    length: int
    fuzzy: bool
    content: str
    """The text the index refers to (fuzzy-normalized when the fuzzy pass matched)."""


def _find(content: str, old: str) -> _Match | None:
    """pi ``fuzzyFindText``: exact match first, then a match in fuzzy-normalized space."""
    i = content.find(old)
    if i != -1:
        return _Match(i, len(old), False, content)
    fuzzy_content, fuzzy_old = _fuzzy(content), _fuzzy(old)
    i = fuzzy_content.find(fuzzy_old)
    if i == -1:
        return None
    return _Match(i, len(fuzzy_old), True, fuzzy_content)


def _occurrences(content: str, old: str) -> int:
    return _fuzzy(content).count(_fuzzy(old))


def _replace_one(content: str, old: str, new: str, path: str) -> str:
    """pi 0.61 single replacement (OpenClaw 3.24)."""
    old, new = _normalize_to_lf(old), _normalize_to_lf(new)
    match = _find(content, old)
    if match is None:
        raise ToolError(f"Could not find the exact text in {path}. "
                        "The old text must match exactly including all whitespace and newlines.")
    count = _occurrences(content, old)
    if count > 1:
        raise ToolError(f"Found {count} occurrences of the text in {path}. "
                        "The text must be unique. Please provide more context to make it unique.")
    base = match.content
    result = base[:match.index] + new + base[match.index + match.length:]
    if result == base:
        raise ToolError(f"No changes made to {path}. The replacement produced identical content. "
                        "This might indicate an issue with special characters or the text not existing as expected.")
    return result


def _replace_many(content: str, edits: list[dict[str, str]], path: str) -> str:
    """pi 0.64 ``applyEditsToNormalizedContent``: every edit matched against the original, no overlaps.

    (pi's "oldText must not be empty" check is unreachable through OpenClaw: blank oldText is dropped.)"""
    pairs = [(_normalize_to_lf(e["oldText"]), _normalize_to_lf(e["newText"])) for e in edits]
    single = len(pairs) == 1
    initial = [_find(content, old) for old, _ in pairs]
    base = _fuzzy(content) if any(m is not None and m.fuzzy for m in initial) else content
    matched: list[tuple[int, int, int, str]] = []
    for i, (old, new) in enumerate(pairs):
        match = _find(base, old)
        if match is None:
            raise ToolError(
                f"Could not find the exact text in {path}. The old text must match exactly including all whitespace and newlines."
                if single else
                f"Could not find edits[{i}] in {path}. The oldText must match exactly including all whitespace and newlines."
            )
        count = _occurrences(base, old)
        if count > 1:
            raise ToolError(
                f"Found {count} occurrences of the text in {path}. The text must be unique. Please provide more context to make it unique."
                if single else
                f"Found {count} occurrences of edits[{i}] in {path}. Each oldText must be unique. Please provide more context to make it unique."
            )
        matched.append((match.index, match.length, i, new))
    matched.sort(key=lambda m: m[0])
    for (prev_at, prev_len, prev_i, _), (cur_at, _, cur_i, _) in pairwise(matched):
        if prev_at + prev_len > cur_at:
            raise ToolError(f"edits[{prev_i}] and edits[{cur_i}] overlap in {path}. "
                            "Merge them into one edit or target disjoint regions.")
    result = base
    for at, length, _, new in reversed(matched):
        result = result[:at] + new + result[at + length:]
    if result == base:
        raise ToolError(
            f"No changes made to {path}. The replacement produced identical content. "
            "This might indicate an issue with special characters or the text not existing as expected."
            if single else f"No changes made to {path}. The replacements produced identical content."
        )
    return result


def _mismatch_hint(ctx: ToolContext, path: str, message: str) -> str:
    """OpenClaw host-edit: a "Could not find the exact text" error gets the file's first 800 chars."""
    expanded = HOME + path[1:] if path == "~" or path.startswith("~/") else path
    absolute = posixpath.normpath(posixpath.join(ctx.workspace, well_formed(expanded)))
    if "\x00" in absolute:
        return message
    try:
        current = ctx.sandbox.read_file(absolute).decode("utf-8", "replace")
    except SandboxFileError:
        return message
    if utf16_len(current) <= EDIT_HINT_LIMIT:
        snippet = current
    else:  # JS slices UTF-16 units: a pair cut in two leaves its high surrogate (the envelope escapes it)
        head = utf16_slice(current, EDIT_HINT_LIMIT)
        if utf16_len(head) < EDIT_HINT_LIMIT:
            head += chr(0xD800 + ((ord(current[len(head)]) - 0x10000) >> 10))
        snippet = head + "\n... (truncated)"
    return f"{message}\nCurrent file contents:\n{snippet}"


def edit_tool(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Replace exact text in a file: ``oldText``/``newText`` (3.24) or ``edits[]`` (4.1).

    Which form a call may use is mostly the version's schema's business (4.1's ``required: ["edits"]``
    and ``additionalProperties: false`` reject the legacy form in validation); 3.24's schema lets an
    ``edits`` key through, and 3.24's tool ignores it.

    OpenClaw's recovery wrapper also turns an error into success when the file changed during the
    call (a race with another writer); tool calls here run one at a time, so that cannot happen.
    """
    record = _fold_aliases(args)
    multi = "edits" in record and ctx.openclaw_version != "2026.3.24"  # 3.24 knows no edits[]: it is ignored
    if multi:
        _normalize_edits(record)
    _assert_required(record, _EDITS_GROUPS if multi else _EDIT_GROUPS)
    path: str = record["path"]
    absolute = _resolve(ctx, path)
    if "\x00" in absolute:
        if ctx.openclaw_version == "2026.3.24":  # pi 0.61's access check swallows Node's complaint
            raise ToolError(f"File not found: {path}")
        raise _null_byte_error(absolute)  # 4.1 answers Node's null-byte error (measured)
    if _stat(ctx, absolute) is None:
        raise ToolError(f"File not found: {path}")
    try:
        raw = ctx.sandbox.read_file(absolute)
    except SandboxFileError as e:
        if e.code == "EISDIR":
            raise ToolError("EISDIR: illegal operation on a directory, read") from None
        raise _fs_error(e, "open", e.path or absolute) from None
    text = raw.decode("utf-8", "replace")
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom):]
    ending = _line_ending(text)
    content = _normalize_to_lf(text)
    try:
        if multi:
            result = _replace_many(content, record["edits"], path)
        else:
            result = _replace_one(content, record["oldText"], record["newText"], path)
    except ToolError as e:
        if "Could not find the exact text in" in e.message:
            raise ToolError(_mismatch_hint(ctx, path, e.message)) from None
        raise
    _write(ctx, absolute, bom + (result.replace("\n", "\r\n") if ending == "\r\n" else result))
    if multi:
        return f"Successfully replaced {len(record['edits'])} block(s) in {path}."
    return f"Successfully replaced text in {path}."
