"""Import guard for the verifier's own Python: installed as ``sitecustomize`` on the verifier's PYTHONPATH.

The verifier (``reward.sh`` → ``check.py``) must not import anything the agent left in the workspace:
a ``json.py`` there once scored 1.0 on every task. The verifier's working directory is ``/`` (as in
the authors' chroot backend), which removes the workspace from ``sys.path[0]`` of ``python3 -c``;
this guard closes the rest of the class. For the verifier's own Python processes — ``check.py`` and
anything else under ``<workspace>/reward/``, any script outside the workspace (``pytest``'s entry
point), and ``-c`` / ``-m`` / stdin code — a top-level module that the sandbox's Python installation
provides (the standard library, installed packages such as pytest or yaml) is always loaded from
the installation, before any other ``sys.path`` entry is searched. So neither ``sys.path[0]`` nor a
``sys.path.insert(0, workspace)`` in ``check.py`` nor ``python3 -m pytest`` run in the workspace can
pick up an agent's ``json.py``, ``pytest.py``, ``statistics/`` package or sourceless ``.pyc`` in
their place. Modules the installation does not have (the agent's own project) import as usual.

A script inside the workspace but outside ``reward/`` (``python3 output/x.py``: the agent's code,
run on purpose by the verifier) keeps plain Python semantics, as the authors ran it.

The guard also keeps a copy of what ``check.py`` prints (``$CLAWGYM_CHECK_STDOUT``), so the env
can show the verifier's sub-score dict without running ``check.py`` twice: ``sys.stdout`` writes to
the real stdout first, then to that file. Stdout and exit status pass through untouched. A shell
shim (``python3 "$@" | tee FILE``) did this before and cost a bash, a tee and ~3 ms per verifier
run, as did forking here (copy-on-write faults); the price of staying in-process is that bytes
written to file descriptor 1 directly (``os.write``, a child process sharing it) are not copied.
Every check.py of the authors' 2,000 train tasks prints its dict with ``print``.

Python runs ``sitecustomize`` during start-up, before it puts the script's folder or the working
directory on ``sys.path``: the paths present at that moment are exactly the installation's. This
file removes its own folder from ``sys.path``, then runs the installation's own ``sitecustomize``
(Debian ships one). Standard library only; runs on the sandbox's python3 (3.8+). Ignored under
``-E``/``-I``/``-S`` (``-I`` already keeps the working directory and script folder off the path).
"""

import os
import sys


def _inside(path, folder):
    path = os.path.abspath(path)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _guarded(argv0, workspace):
    """True for the verifier's own code, False for a script of the agent's."""
    if argv0 in ("", "-c", "-m", "-"):
        return True
    if not workspace or not _inside(argv0, workspace):
        return True
    return _inside(argv0, os.path.join(workspace, "reward"))


def _is_check_script(argv0):
    return bool(argv0) and os.path.abspath(argv0).endswith("/reward/check.py")


def _tee_stdout(path):
    """``sys.stdout`` writes through to the real stdout first, then to ``path``."""
    import io  # already loaded: Python's own stdio is built on it

    stdout = sys.stdout
    if stdout is None or not hasattr(stdout, "buffer"):
        return
    try:
        copy_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError:
        return  # as tee: no copy, stdout unchanged

    class TeeRaw(io.RawIOBase):
        """The real stdout's raw file (kept alive here: it owns fd 1), plus the copy."""

        def __init__(self, raw):
            io.RawIOBase.__init__(self)
            self.target = raw
            self.copy_fd = copy_fd

        def writable(self):
            return True

        def fileno(self):
            return self.target.fileno()

        def isatty(self):
            return self.target.isatty()

        def write(self, data):
            written = self.target.write(data)
            if written and self.copy_fd >= 0:
                try:
                    view = memoryview(data)[:written]
                    while view:
                        view = view[os.write(self.copy_fd, view):]
                except OSError:
                    self.copy_fd = -1  # the copy is lost, stdout goes on
            return written

    buffer = stdout.buffer
    raw = getattr(buffer, "raw", None)  # None: unbuffered (-u), the text layer sits on the raw file
    tee = TeeRaw(buffer) if raw is None else io.BufferedWriter(TeeRaw(raw))
    sys.stdout = io.TextIOWrapper(tee, encoding=stdout.encoding, errors=stdout.errors, newline="\n",
                                  line_buffering=stdout.line_buffering, write_through=stdout.write_through)


def _install():
    # The import system's own frozen modules (what importlib.machinery and importlib.util re-export):
    # importing those packages here cost every verifier Python ~3 ms (contextlib, collections, ...).
    try:
        PathFinder = sys.modules["_frozen_importlib_external"].PathFinder
        module_from_spec = sys.modules["_frozen_importlib"].module_from_spec
    except (KeyError, AttributeError):  # a Python that does not bootstrap this way
        from importlib.machinery import PathFinder
        from importlib.util import module_from_spec

    here = os.path.dirname(os.path.abspath(__file__))
    workspace = os.environ.get("CLAWGYM_VERIFIER_WORKSPACE", "")
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        import site

        user_site = site.getusersitepackages()  # under $HOME: scratch space, not the installation
    except Exception:
        user_site = ""
    installed = [p for p in sys.path
                 if p and not (workspace and _inside(p, workspace)) and not (user_site and _inside(p, user_site))]

    class SystemFirstFinder(object):
        """Top-level modules the installation provides come from the installation."""

        @classmethod
        def find_spec(cls, name, path=None, target=None):
            if path is not None or "." in name:
                return None
            return PathFinder.find_spec(name, installed)

    argv0 = (getattr(sys, "argv", None) or [""])[0]
    if _guarded(argv0, workspace):
        finders = sys.meta_path
        at = next((i for i, f in enumerate(finders) if f is PathFinder), len(finders))
        finders.insert(at, SystemFirstFinder)

    check_stdout = os.environ.get("CLAWGYM_CHECK_STDOUT")
    if check_stdout and _is_check_script(argv0):
        _tee_stdout(check_stdout)

    spec = PathFinder.find_spec("sitecustomize", [p for p in sys.path if p])
    if spec is not None and spec.loader is not None and spec.origin != __file__:
        module = module_from_spec(spec)
        spec.loader.exec_module(module)


try:
    _install()
except Exception as exc:  # never break a verifier; say why it is unguarded
    sys.stderr.write("clawgym verifier guard: %s: %s\n" % (type(exc).__name__, exc))
