"""TaskRef (the one way to name a task) and the task-source registry: every JSON form round-trips
and loads, the command-line grammar (and its errors), parquet rows written before TaskRef, a
third-party task format registered in one file, and the layering (tasks/registration never import
synth)."""

from __future__ import annotations

import ast
import base64
import importlib.metadata
import importlib.util
import json
import pickle
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import REPO, SHARED
from pydantic import ValidationError

import clawgym_env
from clawgym_env.integrations.verl_data import load_task_ref, resolve_tasks, task_from_row
from clawgym_env.registration import resolve_task_spec
from clawgym_env.rollout.ray_pool import _EnvHost, task_ref
from clawgym_env.synth.builtin import SUITE_VERSION, BuiltinSource
from clawgym_env.tasks import (
    FolderSource,
    TaskFormatError,
    TaskRef,
    load_task,
    open_source,
    parse_task_spec,
    register_source_kind,
    source_kind_names,
)
from clawgym_env.tasks import registry as task_registry

PINCH = SHARED / "datasets" / "pinchbench"
EXAMPLE_PLUGIN = REPO / "examples" / "task_sources" / "json_tasks.py"


def roundtrip(ref: TaskRef) -> TaskRef:
    """JSON is stable (the same text again) and gives back an equal reference (an inline task's JSON
    leaves out what a folder's bytes alone hold, such as the raw data_entry.json); pickle is exact."""
    again = TaskRef.from_json(ref.to_json())
    assert again.to_json() == ref.to_json() and TaskRef.from_json(ref.to_dict()).to_json() == ref.to_json()
    assert ref.kind == "inline" or again == ref
    assert pickle.loads(pickle.dumps(ref)) == ref
    return again


# ---------------------------------------------------------------------------------------- each kind
def test_builtin_ref_round_trips_and_loads() -> None:
    ref = TaskRef.parse("builtin:task-0042")
    assert ref.to_dict() == {"kind": "builtin", "id": "task-0042", "suite_version": SUITE_VERSION}
    assert roundtrip(ref).load() == BuiltinSource().load("task-0042")
    assert TaskRef.of(open_source("builtin"), "task-0042") == ref == TaskRef.parse("ClawGym/task-0042")
    seeded = BuiltinSource(seed=3).ref("task-0042")  # a non-default seed travels as a param
    assert seeded.to_dict()["params"] == {"seed": 3}
    assert roundtrip(seeded).load() == BuiltinSource(seed=3).load("task-0042") != ref.load()


def test_builtin_ref_refuses_another_suite_version() -> None:
    ref = TaskRef(kind="builtin", id="task-0042", suite_version="builtin-v0")
    with pytest.raises(ValueError, match="suite 'builtin-v0'.*rebuild the parquet"):
        ref.load()
    with pytest.raises(KeyError, match="no built-in task"):
        TaskRef.parse("builtin:task-99999")


def test_folder_refs_round_trip_and_load(train_dir: Path) -> None:
    original = load_task(train_dir.resolve() / "task_0009")  # as a path reference loads it (resolved)
    by_path = FolderSource(train_dir).ref("task_0009")
    assert by_path.to_dict() == {"kind": "source", "path": str(train_dir.resolve()), "id": "task_0009"}
    assert roundtrip(by_path).load() == original
    explicit = TaskRef.from_path(train_dir, "task_0009", kind="folder")  # the format named, not detected
    assert roundtrip(explicit).load() == original
    one_folder = TaskRef.parse(train_dir / "task_0009")
    assert one_folder == TaskRef.from_path(train_dir / "task_0009", "task_0009")
    assert one_folder.load() == original
    with pytest.raises(KeyError, match="no task 'task_9999'"):
        FolderSource(train_dir).ref("task_9999")


def test_inline_ref_round_trips_bytes_and_modes(train_dir: Path) -> None:
    original = load_task(train_dir.resolve() / "task_0009")  # as a path reference loads it (resolved)
    task = original.model_copy(update={"input_files": {**original.input_files, "bin/raw.dat": bytes(range(256))},
                                       "oracle": [{"name": "exec", "arguments": {"command": "true"}}]})
    ref = TaskRef.inline(task)
    data = json.loads(ref.to_json())
    assert set(data) == {"kind", "task"} and data["kind"] == "inline"
    loaded = roundtrip(ref).load()
    for name in ("task_id", "user_query", "metadata", "input_mount_dir", "input_files", "reward_files", "file_modes",
                 "oracle"):
        assert getattr(loaded, name) == getattr(task, name), name


def test_pinchbench_ref_round_trips() -> None:
    if not PINCH.is_dir():
        pytest.fail(f"the shared PinchBench checkout is missing at {PINCH}")
    src = open_source(PINCH)
    task_id = src.ids()[0]
    ref = TaskRef.of(src, task_id)
    assert ref.to_dict() == {"kind": "source", "path": str(PINCH.resolve()), "id": task_id}
    assert roundtrip(ref).load() == src.load(task_id)
    assert TaskRef.from_path(PINCH, task_id, kind="pinchbench").load() == src.load(task_id)


def test_malformed_refs_are_refused() -> None:
    with pytest.raises(ValidationError):
        TaskRef.from_json('{"kind": "builtin", "id": "task-0001", "seed": 3}')  # unknown field
    with pytest.raises(ValidationError, match="inline task reference"):
        TaskRef(kind="inline")
    with pytest.raises(ValidationError, match="needs a path"):
        TaskRef(kind="source", id="x")
    with pytest.raises(ValidationError, match="needs an id"):
        TaskRef(kind="builtin")
    with pytest.raises(ValueError, match="unknown task_ref kind 'no-such-format'"):  # 'harbor' is a kind now
        TaskRef(kind="no-such-format", path="/x", id="y").load()
    with pytest.raises(ValueError, match="takes no path"):
        TaskRef(kind="builtin", path="/x", id="task-0001").load()


# ---------------------------------------------------------------------------------------- old rows
@pytest.mark.parametrize("text", [
    '{"kind": "builtin", "id": "task-0042", "suite_version": "builtin-v1"}',
    '{"kind": "source", "path": "%(train)s", "id": "task_0009"}',
    "builtin:task-0042",
    "ClawGym/task-0042",
    "%(train)s:task_0009",
    "%(train)s/task_0009",
])
def test_parquet_task_refs_written_before_taskref_still_load(text: str, train_dir: Path) -> None:
    """The extra_info.task_ref strings `clawgym rl build-data` wrote (and hand-made rows) load as before."""
    text = text % {"train": train_dir.resolve()}
    task = task_from_row({"task_ref": text})
    assert task.task_id in ("task-0042", "task_0009")
    assert load_task_ref(text) == task == TaskRef.coerce(text).load()


def test_old_inline_row_loads(train_dir: Path) -> None:
    """An inline row in the exact dict shape verl_data wrote before TaskRef (task_to_json's keys)."""
    original = load_task(train_dir.resolve() / "task_0009")  # as a path reference loads it (resolved)
    old = {"kind": "inline", "task": {
        "task_id": original.task_id, "user_query": original.user_query, "metadata": original.metadata,
        "input_mount_dir": original.input_mount_dir,
        "input_files": {p: base64.b64encode(bytes(d)).decode() for p, d in original.input_files.items()},
        "reward_files": {p: base64.b64encode(d).decode() for p, d in original.reward_files.items()},
        "extra": original.extra, "source": original.source, "oracle": None, "oracle_outputs": None,
        "file_modes": original.file_modes}}
    task = task_from_row({"task_ref": json.dumps(old)})
    assert task.input_files == original.input_files and task.reward_files == original.reward_files


# ---------------------------------------------------------------------------------------- grammar
def test_parse_grammar_and_env_defaults(train_dir: Path, tmp_path: Path) -> None:
    ids = clawgym_env.register_suite(train_dir, namespace="TaskRefTest", max_steps=7)
    ref, defaults = parse_task_spec(ids[9])
    assert ref == FolderSource(train_dir).ref("task_0009") and defaults == {"max_steps": 7}
    task, kwargs = resolve_task_spec(ids[9])
    assert task.task_id == "task_0009" and kwargs == {"max_steps": 7}
    assert parse_task_spec("builtin:task-0001")[1] == {}

    with pytest.raises(ValueError, match="neither a task folder, a registered ClawGym gym id"):
        TaskRef.parse("no-such-thing")
    with pytest.raises(ValueError, match="is not a ClawGym task"):
        TaskRef.parse("CartPole-v1")
    with pytest.raises(KeyError, match="no task 'task_9999'"):
        TaskRef.parse(f"{train_dir}:task_9999")
    with pytest.raises(TaskFormatError, match="data_entry.json"):
        TaskRef.parse(tmp_path)  # a folder, but not a task folder


def test_resolve_tasks_inlines_path_refs_only(train_dir: Path) -> None:
    (_, b_ref), (f_task, f_ref) = resolve_tasks(["builtin:task-0003", f"{train_dir}:task_0009"])
    assert b_ref.kind == "builtin" and f_ref.kind == "inline" and f_ref.load() == f_task
    ((_, by_path),) = resolve_tasks([str(train_dir / "task_0009")], inline=False)
    assert by_path == TaskRef.from_path(train_dir / "task_0009", "task_0009")


def test_ray_workers_get_task_refs() -> None:
    src = BuiltinSource()
    task = src.load("task-0007")
    assert task_ref(src, task) == TaskRef.parse("builtin:task-0007")
    assert task_ref(None, task) == TaskRef.inline(task)
    other = task.model_copy(update={"task_id": "not-in-the-suite"})
    assert task_ref(src, other) == TaskRef.inline(other)  # a task the source does not hold travels whole
    host = _EnvHost()
    assert host.load(task_ref(src, task)) == task == host.load(task_ref(src, task).to_json())


def test_open_source_dispatches_through_the_registry(train_dir: Path) -> None:
    assert {"builtin", "folder", "pinchbench"} <= set(source_kind_names())
    assert isinstance(open_source("builtin"), BuiltinSource)
    assert isinstance(open_source(train_dir), FolderSource)
    src = BuiltinSource()
    assert open_source(src) is src


# ---------------------------------------------------------------------------------------- a plugin
@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[ModuleType]:
    """examples/task_sources/json_tasks.py, imported from a temporary copy as a fresh module (as a
    plugin package would be), and unregistered afterwards."""
    name = "clawgym_test_json_tasks"
    shutil.copy(EXAMPLE_PLUGIN, tmp_path / f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, tmp_path / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    try:
        yield module
    finally:
        task_registry.unregister_source_kind(module.KIND)
        task_registry.refresh_entry_points()
        sys.modules.pop(name, None)


def _suite(tmp_path: Path) -> Path:
    path = tmp_path / "mine.tasks.json"
    path.write_text(json.dumps([{"id": "hello", "prompt": "Write hello.txt containing hi.",
                                 "expect": {"hello.txt": "hi"}},
                                {"id": "bye", "prompt": "Write bye.txt containing ciao.", "expect": {"bye.txt": "ciao"}}]))
    return path


def _check_plugin_works(plugin: ModuleType, path: Path) -> None:
    src = open_source(path)
    assert isinstance(src, plugin.JsonTasksSource) and src.ids() == ["hello", "bye"]
    ref = TaskRef.of(src, "hello")
    assert ref.to_dict() == {"kind": "json-tasks", "path": str(path.resolve()), "id": "hello"}
    assert roundtrip(ref).load() == src.load("hello")
    assert TaskRef.parse(f"{path}:bye").load().user_query == "Write bye.txt containing ciao."
    assert TaskRef.from_path(path, "hello").load() == src.load("hello")  # "source": the format detected
    assert [t.task_id for t, _ in resolve_tasks([str(path)], inline=False)] == ["hello", "bye"]


def test_third_party_source_registered_programmatically(plugin: ModuleType, tmp_path: Path) -> None:
    path = _suite(tmp_path)
    with pytest.raises(ValueError, match="unknown task_ref kind 'json-tasks'"):
        TaskRef.from_path(path, "hello", kind="json-tasks").load()
    register_source_kind(plugin.SOURCE_KIND)
    register_source_kind(plugin.SOURCE_KIND)  # the same kind again: a no-op
    with pytest.raises(ValueError, match="already registered"):
        register_source_kind(task_registry.TaskSourceKind("json-tasks", plugin.JsonTasksSource))
    _check_plugin_works(plugin, path)


def test_third_party_source_found_through_entry_points(plugin: ModuleType, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """SIMULATED: installing a distribution that declares a ``clawgym.task_sources`` entry point is not
    possible inside a unit test, so ``importlib.metadata.entry_points`` is replaced by one that adds
    the entry point such a distribution's metadata would hold (same group, name and value syntax)."""
    real = importlib.metadata.entry_points
    ep = importlib.metadata.EntryPoint(name="json-tasks", value=f"{plugin.__name__}:SOURCE_KIND",
                                       group=task_registry.ENTRY_POINT_GROUP)

    def entry_points(**params: str) -> object:
        found = real(**params)
        if params.get("group") == task_registry.ENTRY_POINT_GROUP:
            return importlib.metadata.EntryPoints([*found, ep])
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    task_registry.refresh_entry_points()
    assert "json-tasks" in source_kind_names()
    _check_plugin_works(plugin, _suite(tmp_path))


def test_plugin_task_runs_in_a_real_env(plugin: ModuleType, tmp_path: Path) -> None:
    """The plugin's task is an ordinary Task: a bwrap episode scores it with its own reward.sh."""
    from clawgym_env.env import ClawGymEnv

    register_source_kind(plugin.SOURCE_KIND)
    task = TaskRef.parse(f"{_suite(tmp_path)}:hello").load()
    env = ClawGymEnv(task, max_steps=4)
    try:
        env.reset(seed=0)
        env.step({"name": "write", "arguments": {"path": "hello.txt", "content": "hi"}})
        _, reward, terminated, _, info = env.step({"role": "assistant", "content": "Done."})
    finally:
        env.close()
    assert terminated and reward == 1.0, info.get("verifier")


def test_in_tree_kinds_win_over_stale_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """An editable install's metadata may predate the code: in-tree kinds need no entry point, and an
    entry point of the same name (stale, or pointing elsewhere) does not replace them."""
    stale = importlib.metadata.EntryPoint(name="folder", value="no_such_module:GONE",
                                          group=task_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **params: importlib.metadata.EntryPoints([stale] if params.get("group") else []))
    task_registry.refresh_entry_points()
    try:
        kind = task_registry.source_kind("folder")
        assert kind is not None and kind.open is FolderSource
        assert isinstance(open_source("builtin"), BuiltinSource)
    finally:
        monkeypatch.undo()
        task_registry.refresh_entry_points()


# ---------------------------------------------------------------------------------------- layering
def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


UPPER = ("synth", "env", "registration", "rollout", "integrations", "bench", "agents", "sft", "verify", "cli")


def test_task_refs_and_registration_never_import_upward() -> None:
    """Gym registration and the task-reference layer reach the built-in suite by name through the
    registry, never by importing ``synth`` (or another layer above the tasks), even lazily."""
    pkg = REPO / "clawgym_env"
    for path, upper in [(pkg / "registration.py", ("synth",)), (pkg / "tasks" / "__init__.py", UPPER),
                        (pkg / "tasks" / "ref.py", UPPER), (pkg / "tasks" / "registry.py", UPPER)]:
        upward = {m for m in _imports(path) if m.split(".")[:2] in [["clawgym_env", u] for u in upper]}
        assert not upward, f"{path.relative_to(REPO)} imports {sorted(upward)}"
