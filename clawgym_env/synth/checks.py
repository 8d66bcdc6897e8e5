"""Declarative checks (built by operations) and the standalone ``reward/`` they are rendered into."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from clawgym_env.synth.artifacts import Table, Text

# The ClawGym reward.sh template: part of the task format, so it lives in the tasks layer. Generated
# tasks use it unchanged so they score the same in the authors' pipeline.
from clawgym_env.tasks.reward_template import REWARD_SH  # noqa: F401 - also importable from here


ENGINE_REVISIONS: dict[str, tuple[str, ...]] = {"builtin-v2": ("check_engine_v2.py",)}
"""Suite version -> files appended after ``check_engine.py`` in its check.py (their definitions
replace the engine's). A version not listed (builtin-v1, ``clawgym synth``'s) gets the engine alone."""


def parses_values(version: str) -> bool:
    """Whether suite ``version``'s checks parse values (builtin-v2): its operations build them that
    way, its check.py carries the engine's revisions and its form checks count only beside content."""
    return version in ENGINE_REVISIONS


@lru_cache(maxsize=4)
def engine_source(version: str = "") -> str:
    """The checker every check.py of suite ``version`` carries (stdlib only, runs standalone)."""
    here = Path(__file__).parent
    parts = [(here / "check_engine.py").read_text()]
    parts += [f"\n\n# ---- {version}: {name} (replaces definitions above) ----\n" + (here / name).read_text()
              for name in ENGINE_REVISIONS.get(version, ())]
    return "".join(parts)


def render_check_py(checks: list[dict[str, Any]], task_id: str, version: str = "") -> str:
    """A standalone check.py: the engine (of suite ``version``), this task's checks as data, and a
    CLI entry point."""
    names = [c["name"] for c in checks]
    if len(set(names)) != len(names):
        raise ValueError(f"{task_id}: duplicate check names {names}")
    # one check per line: readable, and still the C encoder (indent= would use the slow Python one)
    spec = "{\n" + f'"task_id": {json.dumps(task_id)},\n"checks": [\n' + ",\n".join(
        json.dumps(c, ensure_ascii=False) for c in checks) + "\n]}"
    return f'{engine_source(version)}\n\nSPEC = json.loads(r"""{spec}""")\n\nif __name__ == "__main__":\n    main(SPEC)\n'


# ---------------------------------------------------------------- builders used by operations
def exists(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "kind": "exists", "path": path}


def table_equal(name: str, table: Table, *, ordered: bool = True, tol: float = 0.01,
                exact_columns: bool = True) -> dict[str, Any]:
    rows = [{c: r.get(c) for c in table.columns} for r in table.rows]
    return {"name": name, "kind": "table_equal", "path": table.path, "fmt": table.fmt, "columns": table.columns,
            "rows": rows, "ordered": ordered, "tol": tol, "exact_columns": exact_columns}


def json_equal(name: str, path: str, expected: Any, *, key_path: list[Any] | None = None,
               tol: float = 0.01) -> dict[str, Any]:
    return {"name": name, "kind": "json_equal", "path": path, "expected": expected, "key_path": key_path or [],
            "tol": tol}


def contains(name: str, path: str, needles: list[str], *, ci: bool = True) -> dict[str, Any]:
    return {"name": name, "kind": "contains", "path": path, "needles": needles, "ci": ci}


def absent_words(name: str, path: str, words: list[str]) -> dict[str, Any]:
    return {"name": name, "kind": "absent_words", "path": path, "words": words}


def regex(name: str, path: str, pattern: str, *, ci: bool = False) -> dict[str, Any]:
    return {"name": name, "kind": "regex", "path": path, "pattern": pattern, "ci": ci}


def labelled_number(name: str, path: str, label: str, value: float, *, tol: float = 0.01) -> dict[str, Any]:
    """builtin-v2: ``label`` then a number equal to ``value``, however the line is styled."""
    return {"name": name, "kind": "labelled_number", "path": path, "label": label, "value": value, "tol": tol}


def heading(name: str, path: str, text: str, *, level: int | None = None, exact: bool = False) -> dict[str, Any]:
    """builtin-v2: a Markdown heading (of ``level``) that is (``exact``) or starts with ``text``, any
    case or styling."""
    return {"name": name, "kind": "heading", "path": path, "text": text, "level": level, "exact": exact}


FORM_KINDS = frozenset({"heading", "word_range", "exists", "csv_header", "absent_words"})
"""Check kinds that judge a file's form, not its content: an empty, echoed or wrong-valued file can
meet them. Under builtin-v2 they (and checks marked with :func:`form`) count only beside content."""


def form(check: dict[str, Any], mark: bool = True) -> dict[str, Any]:
    """``check`` marked as judging form only (a header line, a sign-off), whatever its kind;
    unchanged when ``mark`` is False (a suite version that does not gate form checks)."""
    return {**check, "form": True} if mark else check


def _is_form(check: dict[str, Any]) -> bool:
    return check["kind"] in FORM_KINDS or bool(check.get("form"))


def gate_form_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """builtin-v2: each form check passes only if some content check on the same file passes too
    (``needs_any``), so structure that the instruction dictates earns nothing alone (issue 13: an
    empty-but-valid file or one with every value wrong scored on titles, sign-offs and lengths). A
    file with form checks only keeps them as they are."""
    content: dict[str, list[str]] = {}
    for c in checks:
        if c.get("path") and not _is_form(c):
            content.setdefault(c["path"], []).append(c["name"])
    return [{**c, "needs_any": content[c["path"]]} if _is_form(c) and content.get(c.get("path", "")) else c
            for c in checks]


def plain_regex(name: str, path: str, pattern: str, *, ci: bool = False) -> dict[str, Any]:
    """builtin-v2: ``regex`` over the text with Markdown emphasis and code marks removed."""
    return {"name": name, "kind": "plain_regex", "path": path, "pattern": pattern, "ci": ci}


def csv_header(name: str, path: str, columns: list[str], *, fmt: str = "csv") -> dict[str, Any]:
    """builtin-v2: the first CSV/TSV record is exactly ``columns``, in order, however it is quoted."""
    return {"name": name, "kind": "csv_header", "path": path, "columns": columns, "fmt": fmt}


def config_equal(name: str, path: str, expected: str, fmt: str) -> dict[str, Any]:
    """builtin-v2: a YAML/INI/.env file holds the settings of ``expected`` (quoting, spacing, comments aside)."""
    return {"name": name, "kind": "config_equal", "path": path, "expected": expected, "fmt": fmt}


def ordered(name: str, path: str, items: list[str]) -> dict[str, Any]:
    return {"name": name, "kind": "ordered", "path": path, "items": items}


def lines_equal(name: str, path: str, lines: list[str], *, in_order: bool = True) -> dict[str, Any]:
    return {"name": name, "kind": "lines_equal", "path": path, "lines": lines, "ordered": in_order}


def word_range(name: str, path: str, lo: int, hi: int) -> dict[str, Any]:
    return {"name": name, "kind": "word_range", "path": path, "min": lo, "max": hi}


def archive_members(name: str, path: str, members: list[str]) -> dict[str, Any]:
    return {"name": name, "kind": "archive_members", "path": path, "members": members}


def archive_contents(name: str, path: str, members: dict[str, str]) -> dict[str, Any]:
    """Each archive member (name -> workspace source path) holds exactly that file's bytes."""
    return {"name": name, "kind": "archive_contents", "path": path, "members": members}


def archive_manifest(name: str, path: str, fmt: str, archive: str, members: list[str], *, name_col: str = "member",
                     size_col: str = "size_bytes", sha_col: str = "sha256") -> dict[str, Any]:
    """A manifest table listing ``members`` in order with sizes and sha256 taken from the archive itself."""
    return {"name": name, "kind": "archive_manifest", "path": path, "fmt": fmt, "archive": archive,
            "members": members, "name_col": name_col, "size_col": size_col, "sha_col": sha_col}


def includes_file(name: str, path: str, source: str) -> dict[str, Any]:
    """``path`` quotes the full text of the workspace file ``source`` (e.g. a forwarded upstream output)."""
    return {"name": name, "kind": "includes_file", "path": path, "source": source}


def file_equal(name: str, path: str, content: str) -> dict[str, Any]:
    return {"name": name, "kind": "file_equal", "path": path, "content": content}


def moved(name: str, src: str, dst: str, content: str) -> dict[str, Any]:
    return {"name": name, "kind": "moved", "from": src, "to": dst, "content": content}


def command(name: str, argv: list[str], *, requires: str | None = None, expect: str | None = None,
            timeout: int = 60) -> dict[str, Any]:
    return {"name": name, "kind": "command", "argv": argv, "requires": requires, "expect": expect, "timeout": timeout}


def text_facts(name_prefix: str, text: Text, needles: list[str]) -> list[dict[str, Any]]:
    """One ``contains`` check per fact, so each fact is its own discriminative check."""
    return [contains(f"{name_prefix}_{i}", text.path, [n]) for i, n in enumerate(needles)]
