"""The case format of the differential battery, and the battery itself (collected from cases_*.py).

A case is a fresh workspace holding ``files``, then ``calls`` made in order through one tool set (so
exec sessions carry over between the calls of a case). After the calls the workspace tree is compared
too (``compare_files``). ``fresh`` cases get a new OpenClaw process and a new sandbox: their texts
depend on process-wide state (``process list``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

VERSIONS = ("2026.3.24", "2026.4.1")


@dataclass(frozen=True)
class Call:
    name: str
    args: Mapping[str, Any] | str | None = None
    """A dict, or a raw argument string (parsed as the gateway parses streamed JSON). Strings in it
    may hold ``__WS__`` (the workspace folder) and ``__LAST__`` (the exec session slug last reported
    by an earlier call of the case, on each side its own)."""


@dataclass(frozen=True)
class Case:
    id: str
    calls: tuple[Call, ...]
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    versions: tuple[str, ...] = VERSIONS
    compare_files: bool = True
    fresh: bool = False
    context_window_tokens: int = 65536
    timeout_s: float = 30.0


def one(case_id: str, name: str, args: Mapping[str, Any] | str | None = None, **kw: Any) -> Case:
    """A case of a single call."""
    return Case(case_id, (Call(name, args),), **kw)


def _case_modules() -> list[Any]:
    import openclaw_real

    names = sorted(m.name for m in pkgutil.iter_modules(openclaw_real.__path__) if m.name.startswith("cases_"))
    return [importlib.import_module(f"openclaw_real.{n}") for n in names]


def known_differences() -> dict[tuple[str, str], str]:
    """(version, case id) -> why ours differs there: each module's ``KNOWN_DIFFERENCES``, merged."""
    out: dict[tuple[str, str], str] = {}
    for mod in _case_modules():
        out.update(getattr(mod, "KNOWN_DIFFERENCES", {}))
    return out


def all_cases() -> list[Case]:
    """Every case of every ``cases_*`` module in this package, ids unique."""
    out: list[Case] = []
    for mod in _case_modules():
        out.extend(mod.CASES)
    ids = [c.id for c in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate case ids: {dupes}")
    return out
