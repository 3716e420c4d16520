"""A JupyterLab server on loopback and a headless Chromium for the browser tests."""
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing_browser():
    """Why the browser tests cannot run here, or None."""
    if not os.path.exists(CHROMIUM):
        return (f"Chromium not found at {CHROMIUM}: install Debian's `chromium` and "
                "`chromium-driver` (.ci/run does this in CI)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the `playwright` package is not installed (pip install -e '.[test]')"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """`jupyter lab` serving `root_dir` on 127.0.0.1 with a random token."""

    def __init__(self, root_dir, log_path):
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "w")
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
               "--ip", "127.0.0.1", f"--port={self.port}", f"--ServerApp.token={self.token}",
               f"--ServerApp.root_dir={root_dir}", "--ServerApp.disable_check_xsrf=True",
               # a fresh workspace: no notebook of an earlier run reopens beside the tested one
               f"--LabApp.workspaces_dir={os.path.join(root_dir, '.workspaces')}",
               f"--LabApp.user_settings_dir={_settings(root_dir)}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class="
               "jupyterlab.NeverCheckForUpdate"]
        env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self._wait()

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def _wait(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}; "
                                   f"see {self._log.name}")
            with contextlib.suppress(OSError):
                self.api("status")
                return
            time.sleep(0.5)
        raise TimeoutError(f"jupyter lab did not answer in {timeout} s; see {self._log.name}")

    def delete_sessions(self):
        """Shut down every kernel session (between tests)."""
        for session in self.api("sessions") or []:
            self.api(f"sessions/{session['id']}", method="DELETE")

    def close(self):
        with contextlib.suppress(Exception):
            self.delete_sessions()
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def _settings(root_dir):
    """A user-settings folder that renders every cell of a notebook (JupyterLab's default
    windowing leaves cells out of sight unrendered, so the tests could not read them)."""
    folder = os.path.join(root_dir, ".settings")
    plugin = os.path.join(folder, "@jupyterlab", "notebook-extension")
    os.makedirs(plugin, exist_ok=True)
    with open(os.path.join(plugin, "tracker.jupyterlab-settings"), "w") as f:
        json.dump({"windowingMode": "none"}, f)
    # no "Would you like to get notified about news?" toast over the screenshots
    notes = os.path.join(folder, "@jupyterlab", "apputils-extension")
    os.makedirs(notes, exist_ok=True)
    with open(os.path.join(notes, "notification.jupyterlab-settings"), "w") as f:
        json.dump({"fetchNews": "false"}, f)
    return folder


def copy_notebooks(src, dst):
    for name in os.listdir(src):
        if name.endswith(".ipynb"):
            shutil.copy(os.path.join(src, name), dst)


def open_and_run_all(lab, page, name):
    """Open notebook `name` alone (`reset`: no other notebook of the workspace beside it) and
    start Run All Cells once its kernel is up."""
    page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    # Run All only works once the kernel is up (the status bar then says "Idle").
    page.wait_for_function("() => /\\|\\s*Idle/.test(document.querySelector('.jp-StatusBar-"
                           "Widget, #jp-main-statusbar').innerText)", timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    return time.monotonic()
