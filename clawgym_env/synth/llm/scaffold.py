"""The scaffold workspace of a generated task (specs/clawgym-reference.md §E1, stage 8): its input
files plus a placeholder at every output path the task names. A verifier that gives points to the
scaffold pays for files existing, not for work, so stage 8 and the proof stage both reject it.

Output paths are the workspace-relative paths with a known extension that the question or the
expected behaviour mentions (back-quoted or bare) and that are not inputs. Placeholders are valid
but empty of content where that is cheap (``{}`` for JSON), a single word otherwise.
"""

from __future__ import annotations

from typing import Any

from clawgym_env.synth.adversarial import mentioned_paths

PLACEHOLDER = b"placeholder\n"
_BY_EXTENSION = {"json": b"{}\n", "jsonl": b"{}\n", "yaml": b"placeholder: true\n", "yml": b"placeholder: true\n"}


def input_files(task: dict[str, Any]) -> dict[str, bytes]:
    """A generated task's input files (``input_files[{file_path, content}]``) as workspace bytes."""
    return {f["file_path"]: f["content"].encode() for f in task.get("input_files") or []}


def output_paths(task: dict[str, Any]) -> list[str]:
    """The output paths a generated task names, in order of first mention."""
    behavior = task.get("expected_behavior") or []
    text = "\n".join([str(task.get("question") or ""), *(str(b) for b in behavior)])
    return mentioned_paths(text, set(input_files(task)))


def scaffold_files(task: dict[str, Any]) -> dict[str, bytes]:
    """Inputs plus one placeholder per named output path."""
    files = input_files(task)
    for path in output_paths(task):
        files[path] = _BY_EXTENSION.get(path.rsplit(".", 1)[-1].lower(), PLACEHOLDER)
    return files


__all__ = ["PLACEHOLDER", "input_files", "output_paths", "scaffold_files"]
