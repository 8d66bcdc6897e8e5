"""The skills corpus of skill2task (specs/clawgym-reference.md §E2): OpenClaw ``SKILL.md`` files,
YAML front matter (``name``, ``description``) over a Markdown body, one folder per skill.

The corpus is written by hand by many authors and its front matter is often not valid YAML (an
unquoted ``Use when: (1) ...`` in a description, a block never closed, none at all). The annotate
stage reads the whole text anyway, so such a file is **repaired, not dropped**: YAML first, then a
line-wise ``key: value`` reading of the block, then the folder name and the body's first paragraph.
Every repair is counted by reason (:class:`SkillScan`); a file is **skipped** with a counted reason
only when nothing usable is left (unreadable, not UTF-8, empty). Nothing raises for a bad file.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEXT_LIMIT = 30_000
"""Characters of a skill's text shown to the model (the authors' cap)."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s?(.*)$")


@dataclass(frozen=True)
class Skill:
    id: str
    """The skill's folder relative to the corpus root: ``<owner>/<skill>`` (deeper for nested ones)."""
    name: str
    description: str
    text: str
    """The whole file, capped at :data:`TEXT_LIMIT` characters."""
    truncated: bool = False


@dataclass
class SkillScan:
    """Every ``SKILL.md`` under a root: the skills read, and why any was repaired or skipped."""

    files: int = 0
    skills: list[Skill] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Reason -> files left out (``unreadable``, ``not_utf8``, ``empty``)."""
    repaired: Counter[str] = field(default_factory=Counter)
    """Reason -> files kept with a repair (``no_front_matter``, ``unclosed_front_matter``,
    ``invalid_yaml``, ``no_name``, ``no_description``)."""


def corpus_root(root: str | Path) -> Path:
    """The folder that holds ``<owner>/<skill>/SKILL.md``: ``root`` or its ``skills/``."""
    path = Path(root)
    if not path.is_dir():
        raise ValueError(f"{path}: not a directory")
    return path / "skills" if (path / "skills").is_dir() else path


def scan_skills(root: str | Path) -> SkillScan:
    """Read every ``SKILL.md`` (any case) under ``root``, sorted by id."""
    base = corpus_root(root)
    scan = SkillScan()
    for path in sorted(base.rglob("*")):
        if path.name.lower() != "skill.md" or not path.is_file() or path.parent == base:
            continue
        scan.files += 1
        try:
            raw = path.read_bytes()
        except OSError:
            scan.skipped["unreadable"] += 1
            continue
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            scan.skipped["not_utf8"] += 1
            continue
        if not text.strip():
            scan.skipped["empty"] += 1
            continue
        skill_id = path.parent.relative_to(base).as_posix()
        meta, body, repairs = parse_front_matter(text)
        scan.repaired.update(repairs)
        name = _one_line(meta.get("name"))
        if not name:
            scan.repaired["no_name"] += 1
            name = path.parent.name
        description = _one_line(meta.get("description"))
        if not description:
            scan.repaired["no_description"] += 1
            description = first_paragraph(body)
        scan.skills.append(Skill(skill_id, name, description, text[:TEXT_LIMIT], len(text) > TEXT_LIMIT))
    return scan


def load_skills(root: str | Path, *, limit: int | None = None, seed: int = 42) -> list[Skill]:
    """The corpus in a seeded random order (``limit``: its first ``limit``); the order does not
    depend on ``limit``, so a larger run starts with the skills of a smaller one."""
    return draw(scan_skills(root).skills, seed=seed, limit=limit)


def draw(skills: list[Skill], *, seed: int, limit: int | None = None) -> list[Skill]:
    """``skills`` shuffled by ``seed`` (the same for any ``limit``), then the first ``limit``."""
    order = sorted(skills, key=lambda s: s.id)
    random.Random(f"skills-{seed}").shuffle(order)
    return order if limit is None else order[:limit]


def parse_front_matter(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """(front matter keys, body, repairs made). YAML when it parses to a mapping, else the block's
    top-level ``key: value`` lines (indented lines continue a value)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text, ["no_front_matter"]
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    repairs = []
    if end is None:  # never closed: the block runs to the first heading or blank line after a key
        repairs.append("unclosed_front_matter")
        end = next((i for i in range(1, len(lines)) if lines[i].startswith("#")), len(lines))
        block, body = lines[1:end], "\n".join(lines[end:])
    else:
        block, body = lines[1:end], "\n".join(lines[end + 1:])
    try:
        data = yaml.load("\n".join(block), Loader=_LOADER)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        return {str(k): v for k, v in data.items()}, body, repairs
    if "\n".join(block).strip():
        repairs.append("invalid_yaml")
    return _loose_keys(block), body, repairs


def _loose_keys(block: list[str]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    key = None
    for line in block:
        m = _KEY.match(line)
        if m and not line[0].isspace():
            key = m.group(1)
            out[key] = [m.group(2)]
        elif key is not None and line.strip():
            out[key].append(line.strip())
    values = {}
    for k, parts in out.items():
        first = parts[0].strip()
        if first in ("|", ">", "|-", ">-", "|+", ">+"):
            parts = parts[1:]
        value = " ".join(p.strip() for p in parts if p.strip())
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[k] = value
    return values


def _one_line(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def first_paragraph(body: str, limit: int = 500) -> str:
    """The first paragraph of Markdown prose (headings, fences and front-matter rules skipped)."""
    para: list[str] = []
    fenced = False
    for line in body.splitlines():
        s = line.strip()
        if s.startswith("```"):
            fenced = not fenced
            continue
        if fenced or s.startswith("#") or s == "---":
            if para:
                break
            continue
        if not s:
            if para:
                break
            continue
        para.append(s)
    return " ".join(para)[:limit]


__all__ = ["TEXT_LIMIT", "Skill", "SkillScan", "corpus_root", "draw", "first_paragraph", "load_skills",
           "parse_front_matter", "scan_skills"]
