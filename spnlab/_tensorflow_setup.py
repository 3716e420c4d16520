"""TensorFlow's process-wide settings, made by `import spnlab` before TensorFlow loads.

They take effect only if TensorFlow is not imported yet (import spnlab first); each is an
`os.environ.setdefault`, so a value set by the user wins.

- `TF_CPP_MIN_LOG_LEVEL=1`: TensorFlow's C++ INFO lines are not printed; WARNING and ERROR lines
  are. Set it to 0 to see the INFO lines again.
- `TF_CPU_ALLOCATOR_USE_BFC=true`: TensorFlow's default CPU allocator hands every large buffer
  back to the OS and page-faults a fresh one in on the next step; the BFC allocator keeps and
  reuses them. On the RAT-SPN benchmark (2-core CPU) that alone takes a soft-EM step from ~1.1 s
  to ~0.7 s. Set it to false to opt out.

TensorFlow (2.21) logs through absl, and while its two shared libraries load it logs an INFO line
from each ("oneDNN custom operations are on...", port.cc), before TF_CPP_MIN_LOG_LEVEL is
applied and each after absl's notice "WARNING: All log messages before absl::InitializeLog() is
called are written to STDERR". No log level removes them; only turning oneDNN off
(`TF_ENABLE_ONEDNN_OPTS=0`, other kernels) does. In a notebook they are a red stderr box under
the first cell. So `install()` wraps the first import of TensorFlow: while it loads, the
process's stderr (file descriptor 2) goes to a temporary file, and afterwards everything in it is
written back to stderr except TensorFlow/absl log lines below TF_CPP_MIN_LOG_LEVEL and absl's
notice when no line it announces is kept (`filter_log`). Warnings, errors and anything else
written meanwhile still appear.
"""
import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

ENV_DEFAULTS = {
    "TF_CPP_MIN_LOG_LEVEL": "1",
    "TF_CPU_ALLOCATOR_USE_BFC": "true",
}

ABSL_NOTICE = ("WARNING: All log messages before absl::InitializeLog() is called are written "
               "to STDERR")
# absl's prefix: severity, MMDD hh:mm:ss.micros (before absl::InitializeLog the time reads
# "0000 00:00:<seconds since the epoch>"), thread id, file:line]
_LOG_LINE = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def min_log_level():
    """TF_CPP_MIN_LOG_LEVEL as TensorFlow reads it (0 when unset or not a number)."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def filter_log(text, level):
    """`text` less the absl-format log lines with a severity below `level` (0 INFO, 1 WARNING,
    2 ERROR, 3 FATAL) and less absl's notice wherever no kept log line follows it (before the
    next notice). Every other line is kept, in order."""
    out, notice = [], None
    for line in text.splitlines(keepends=True):
        if line.rstrip("\r\n") == ABSL_NOTICE:
            notice = line
            continue
        match = _LOG_LINE.match(line)
        if match and _SEVERITY[match.group(1)] < level:
            continue
        if match and notice is not None:
            out.append(notice)
            notice = None
        out.append(line)
    return "".join(out)


def _flush_stderr():
    for stream in (sys.stderr, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def _write_fd(fd, data):
    while data:
        data = data[os.write(fd, data):]


@contextlib.contextmanager
def filtered_stderr(level):
    """Within the block, file descriptor 2 writes to a temporary file; on leaving (also by an
    exception) its content, less what `filter_log(text, level)` drops, goes to the real stderr.
    Does nothing where descriptor 2 cannot be duplicated."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with tempfile.TemporaryFile() as tmp:
            _flush_stderr()
            os.dup2(tmp.fileno(), 2)
            try:
                yield
            finally:
                _flush_stderr()
                os.dup2(saved, 2)
                tmp.seek(0)
                kept = filter_log(tmp.read().decode("utf-8", "replace"), level)
                if kept:
                    _write_fd(2, kept.encode("utf-8"))
    finally:
        os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    """Loads a module with its usual loader, inside `filtered_stderr`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        with filtered_stderr(min_log_level()):
            self._loader.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: on the first import of `tensorflow` it takes itself off
    `sys.meta_path` and hands the usual spec back, loaded through `_QuietLoader`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        uninstall()
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def uninstall():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietTensorFlowFinder)]


def install():
    """Set the environment defaults and, if TensorFlow is not loaded yet, have its first import
    filtered (see the module docstring)."""
    for name, value in ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if "tensorflow" not in sys.modules and not any(
            isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
