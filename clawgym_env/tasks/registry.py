"""Task sources by name: the one registry every caller opens a suite through.

A *source kind* (:class:`TaskSourceKind`) says how to open one format of task source: ClawGym task
folders (``folder``), PinchBench checkouts (``pinchbench``), the built-in suite (``builtin``), or a
third-party format. Kinds come from three places, looked up in this order:

1. :func:`register_source_kind` (programmatic, e.g. in a test or a notebook);
2. the in-tree kinds (:data:`IN_TREE`), named by ``"module:attribute"`` strings and imported on
   first use, so this layer never imports the layers above it (the built-in suite lives in
   ``synth``);
3. the ``clawgym.task_sources`` entry-point group of installed distributions (a plugin is one file
   plus one line of ``pyproject.toml``; see docs/task-sources.md). Scanned once, and only when a
   name is not found above or a path must be matched against every kind.

An in-tree name wins over an entry point of the same name: an editable install whose metadata
predates a change still gets the kinds of the code it runs.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from clawgym_env.tasks.model import Task

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "clawgym.task_sources"
DEFAULT_KIND = "folder"
"""The kind a path opens as when no kind's ``detect`` claims it."""

IN_TREE: dict[str, str] = {
    "folder": "clawgym_env.tasks.folder:SOURCE_KIND",
    "pinchbench": "clawgym_env.tasks.pinchbench:SOURCE_KIND",
    "builtin": "clawgym_env.synth.builtin:SOURCE_KIND",
    "builtin-v1": "clawgym_env.synth.builtin:SOURCE_KIND_V1",
    "builtin-v2": "clawgym_env.synth.builtin:SOURCE_KIND_V2",
    "harbor": "clawgym_env.tasks.harbor:SOURCE_KIND",
    "hf": "clawgym_env.tasks.hf:SOURCE_KIND",
}
"""The kinds this package ships (also declared as entry points in pyproject.toml)."""


@runtime_checkable
class TaskSource(Protocol):
    """Anything that lists task ids and loads a Task by id, cheaply and repeatably.

    Optional, used where present: ``ref(task_id) -> TaskRef`` (how to load the task elsewhere; without
    it a task travels inline), ``version`` (checked against a reference's ``suite_version``) and
    ``category(task_id) -> str`` (the category without loading the task)."""

    @property
    def name(self) -> str: ...

    def ids(self) -> list[str]: ...

    def load(self, task_id: str) -> Task: ...

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Task]: ...


@dataclass(frozen=True)
class TaskSourceKind:
    """How to open one format of task source.

    Args:
        name: the registry name; also the ``kind`` of the TaskRefs that name this format explicitly.
        open: ``open(path, **params)`` (``open(**params)`` when ``takes_path`` is False) -> TaskSource.
        detect: ``detect(path) -> bool``: claims a path in :func:`open_source` (None: never; the
            ``folder`` kind is the fallback).
        takes_path: False for a suite that lives in code (``builtin``): :func:`open_source` then
            accepts the bare name (``open_source("builtin")``).
        priority: detection order among kinds whose ``detect`` claims a path, highest first.
    """

    name: str
    open: Callable[..., TaskSource]
    detect: Callable[[Path], bool] | None = None
    takes_path: bool = True
    priority: int = 0


_LOCK = threading.RLock()
_REGISTERED: dict[str, TaskSourceKind] = {}
_RESOLVED: dict[str, TaskSourceKind] = {}
_ENTRY_POINTS: dict[str, Any] | None = None
_SOURCES: dict[str, TaskSource] = {}


def register_source_kind(kind: TaskSourceKind, *, replace: bool = False) -> TaskSourceKind:
    """Register ``kind`` under ``kind.name`` (for this process). Re-registering the same object is a
    no-op; another kind under a taken name needs ``replace=True``."""
    with _LOCK:
        existing = _REGISTERED.get(kind.name)
        if existing is not None and existing is not kind and not replace:
            raise ValueError(f"task source kind {kind.name!r} is already registered; pass replace=True")
        _REGISTERED[kind.name] = kind
        _RESOLVED.pop(kind.name, None)
        _SOURCES.clear()
    return kind


def unregister_source_kind(name: str) -> None:
    """Forget a kind registered with :func:`register_source_kind` (tests, notebooks)."""
    with _LOCK:
        _REGISTERED.pop(name, None)
        _RESOLVED.pop(name, None)
        _SOURCES.clear()


def refresh_entry_points() -> None:
    """Rescan the entry points on next use (after installing a plugin in a running process)."""
    global _ENTRY_POINTS
    with _LOCK:
        _ENTRY_POINTS = None
        _RESOLVED.clear()
        _SOURCES.clear()


def _entry_points() -> dict[str, Any]:
    global _ENTRY_POINTS
    with _LOCK:
        if _ENTRY_POINTS is None:
            from importlib.metadata import entry_points

            _ENTRY_POINTS = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        return _ENTRY_POINTS


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


def _check(name: str, obj: Any, origin: str) -> TaskSourceKind:
    if not isinstance(obj, TaskSourceKind):
        raise TypeError(f"task source kind {name!r} ({origin}) is a {type(obj).__name__}, not a TaskSourceKind")
    if obj.name != name:
        raise ValueError(f"task source kind {origin} is registered as {name!r} but calls itself {obj.name!r}")
    return obj


def source_kind(name: str) -> TaskSourceKind | None:
    """The kind registered as ``name``, or None."""
    with _LOCK:
        if name in _REGISTERED:
            return _REGISTERED[name]
        if name in _RESOLVED:
            return _RESOLVED[name]
    if name in IN_TREE:
        kind = _check(name, _import(IN_TREE[name]), IN_TREE[name])
    else:
        ep = _entry_points().get(name)
        if ep is None:
            return None
        kind = _check(name, ep.load(), f"entry point {ep.value}")
    with _LOCK:
        return _RESOLVED.setdefault(name, kind)


def source_kind_names() -> list[str]:
    """Every kind name this process can open, sorted."""
    with _LOCK:
        names = set(_REGISTERED) | set(IN_TREE)
    return sorted(names | set(_entry_points()))


def _kinds() -> list[TaskSourceKind]:
    kinds = []
    for name in source_kind_names():
        try:
            kind = source_kind(name)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not break every suite
            log.warning("task source kind %r could not be loaded: %s", name, exc)
            continue
        if kind is not None:
            kinds.append(kind)
    return kinds


def _named(spec: str) -> TaskSourceKind | None:
    """The path-less kind a bare name means (``builtin``), or None."""
    if not spec or ":" in spec or os.sep in spec or (os.altsep and os.altsep in spec):
        return None
    kind = source_kind(spec)
    return kind if kind is not None and not kind.takes_path else None


def _prefixed(spec: str) -> tuple[TaskSourceKind, str] | None:
    """``KIND:REST`` names a path kind explicitly (``hf:owner/name``, ``hf:/data/suite``): the kind
    and REST, or None (no such kind, or ``spec`` is an existing path)."""
    head, sep, rest = spec.partition(":")
    if not sep or not rest or not head or os.sep in head or Path(spec).exists():
        return None
    kind = source_kind(head)
    return (kind, rest) if kind is not None and kind.takes_path else None


def is_suite_name(spec: str | os.PathLike[str]) -> bool:
    """Whether ``spec`` names a suite that lives in code (``builtin``) rather than a path."""
    return isinstance(spec, str) and _named(spec) is not None


def open_source(spec: str | os.PathLike[str] | TaskSource) -> TaskSource:
    """A TaskSource from a spec: a TaskSource (returned as is), the name of a suite that lives in code
    (``builtin``), ``KIND:PATH`` (a kind named explicitly: ``hf:owner/name``), or a path: a ClawGym
    task folder or a folder of them, a PinchBench checkout (its root, its ``tasks/`` folder or one
    task file), or whatever a registered kind's ``detect`` claims."""
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        named = _named(text)
        if named is not None:
            return named.open()
        prefixed = _prefixed(text)
        if prefixed is not None:
            return prefixed[0].open(prefixed[1])
        path = Path(text)
        claims = [k for k in _kinds() if k.takes_path and k.detect is not None and k.detect(path)]
        if claims:
            return max(claims, key=lambda k: k.priority).open(text)
        kind = source_kind(DEFAULT_KIND)
        assert kind is not None
        return kind.open(text)
    if isinstance(spec, TaskSource):
        return spec
    raise TypeError(f"expected a task folder path, a suite name or a TaskSource, got {type(spec).__name__}")


def source_key(spec: str | os.PathLike[str] | TaskSource) -> str:
    """What :func:`cached_source` keys a spec by: a suite name as is, a path resolved (after its
    ``KIND:`` prefix, when it has one and names an existing path)."""
    if isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        prefixed = _prefixed(text)
        if prefixed is not None:
            rest = prefixed[1]
            return f"{prefixed[0].name}:{Path(rest).resolve() if Path(rest).exists() else rest}"
        return text if _named(text) is not None else str(Path(text).resolve())
    return f"{type(spec).__name__}:{id(spec)}"


def _cached(key: str, opener: Callable[[], TaskSource]) -> TaskSource:
    with _LOCK:
        src = _SOURCES.get(key)
        if src is None:
            src = _SOURCES[key] = opener()
        return src


def cached_source(spec: str | os.PathLike[str] | TaskSource) -> TaskSource:
    """One shared, lazily-loaded source per suite name or path, so 2,000 ``gym.make`` calls (or task
    references) index it once."""
    if not isinstance(spec, (str, os.PathLike)):
        return open_source(spec)
    key = source_key(spec)
    return _cached(key, lambda: open_source(key))


def cached_kind_source(name: str, path: str | None = None, params: dict[str, Any] | None = None) -> TaskSource:
    """The source of kind ``name`` (at ``path``, built with ``params``), shared like :func:`cached_source`."""
    kind = source_kind(name)
    if kind is None:
        raise ValueError(f"unknown task source kind {name!r} (known: {', '.join(source_kind_names())}; "
                         f"a plugin registers one in the {ENTRY_POINT_GROUP!r} entry-point group)")
    if kind.takes_path and path is None:
        raise ValueError(f"a {name!r} task reference needs a path")
    if not kind.takes_path and path is not None:
        raise ValueError(f"a {name!r} task reference takes no path (got {path!r})")
    resolved = None if path is None else str(Path(path).resolve())
    key = f"{name}\0{resolved}\0{json.dumps(params or {}, sort_keys=True)}"
    args = () if resolved is None else (resolved,)
    return _cached(key, lambda: kind.open(*args, **(params or {})))


__all__ = [
    "DEFAULT_KIND", "ENTRY_POINT_GROUP", "IN_TREE", "TaskSource", "TaskSourceKind", "cached_kind_source", "cached_source",
    "is_suite_name", "open_source", "refresh_entry_points", "register_source_kind", "source_key", "source_kind", "source_kind_names",
    "unregister_source_kind",
]
