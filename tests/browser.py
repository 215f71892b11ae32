"""Real browser tests' machinery: a real Jupyter server (JupyterLab or Notebook 7, the versions pinned in
pyproject.toml, from this venv) on loopback with a random token, and Debian's headless Chromium driven through
Playwright. No mocks: what passes here is what a student sees in their browser.

The server runs with its own empty Jupyter config, data and runtime directories (nothing of the user's
~/.jupyter or ~/.local/share/jupyter), plus user settings that turn off JupyterLab's news and update checks
(no network here) and notebook windowing (so every cell stays in the page). Stopping it kills the server's
process group and every kernel it started (each kernel leads its own process group), even after a failure."""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin: jupyter, and the python3 kernel (ipykernel) with it
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "build" / "screenshots"  # build/screenshots/<kind>/<name>.png
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
START_TIMEOUT = 90  # seconds for the server to answer
STOP_TIMEOUT = 15  # seconds for a stopped server's processes to exit

# The two front ends, and where each opens a notebook.
KINDS = {"lab": ("lab", "/lab/tree/{path}"), "notebook7": ("notebook", "/notebooks/{path}")}

# User settings (JSON5 files under lab/user-settings), read by JupyterLab and Notebook 7 alike.
USER_SETTINGS = {
    # No "receive official Jupyter news?" toast, no update check: nothing here reaches the internet.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
    # Every cell in the DOM, rendered, whatever the scroll position: the tests look at all of them.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    """A loopback TCP port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require_chromium() -> Path:
    """Debian's Chromium, or a clear error: these tests must run in CI, never skip."""
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium); "
                           ".ci/run does")
    return CHROMIUM


# --- processes --------------------------------------------------------------------------------------------

def _stat(pid_dir: Path) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of one /proc entry, None if it has exited meanwhile."""
    try:
        state, ppid, group = (pid_dir / "stat").read_text().rsplit(")", 1)[1].split()[:3]
    except (OSError, IndexError):
        return None
    return state, int(ppid), int(group)


def live_processes() -> dict[int, tuple[int, int]]:
    """{pid: (parent pid, process group)} of every live process (zombies hold nothing and are left out)."""
    live = {}
    for pid_dir in Path("/proc").glob("[0-9]*"):
        stat = _stat(pid_dir)
        if stat is not None and stat[0] != "Z":
            live[int(pid_dir.name)] = stat[1:]
    return live


def descendant_groups(pid: int) -> set[int]:
    """The process groups of `pid`'s descendants: kernels start in their own session, outside the server's."""
    processes = live_processes()
    found, frontier = set(), {pid}
    while frontier:
        children = {child for child, (parent, _) in processes.items() if parent in frontier} - found
        found |= children
        frontier = children
    return {processes[child][1] for child in found}


def kill_groups(groups: set[int], what: str) -> None:
    """SIGKILL whole process groups and wait until every process in them has exited."""
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + STOP_TIMEOUT
    while survivors := [pid for pid, (_, group) in live_processes().items() if group in groups]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} still running after being killed: processes {survivors}")
        time.sleep(0.05)


# --- the Jupyter server -----------------------------------------------------------------------------------

@dataclass
class JupyterServer:
    kind: str  # "lab" or "notebook7"
    url: str  # http://127.0.0.1:<port>
    token: str
    root: Path  # the server's root directory, where the notebooks are
    log: Path
    process: subprocess.Popen

    def page_url(self, path: str) -> str:
        """The front end's page for the file `path` (relative to root), with the token."""
        return self.url + KINDS[self.kind][1].format(path=path) + f"?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 10):
        """A REST call to the server (JSON in, JSON out)."""
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def _write_settings(config_dir: Path) -> None:
    for name, settings in USER_SETTINGS.items():
        path = config_dir / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))


def _wait_until_up(server: JupyterServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter {server.kind} exited with {server.process.returncode} before answering; "
                               f"its log:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status?token={server.token}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"jupyter {server.kind} did not answer within {START_TIMEOUT} s; its log:\n"
                               f"{server.log_tail()}")
        time.sleep(0.2)


def stop_server(server: JupyterServer) -> None:
    """Ask the server to shut down (it stops its kernels), then kill whatever is left: the server's process
    group and the process group of every process it started (kernels lead their own)."""
    groups = {server.process.pid} | descendant_groups(server.process.pid)
    if server.process.poll() is None:
        try:
            server.api("/api/shutdown", method="POST", timeout=5)
            server.process.wait(STOP_TIMEOUT)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            pass
    groups |= descendant_groups(server.process.pid) if server.process.poll() is None else set()
    kill_groups(groups, f"jupyter {server.kind}")
    server.process.wait(STOP_TIMEOUT)


@contextmanager
def jupyter_server(kind: str, root: Path, home: Path) -> Iterator[JupyterServer]:
    """`jupyter lab` (kind "lab") or `jupyter notebook` (kind "notebook7") serving `root`, on 127.0.0.1, a free
    port and a random token; its working directory is `root` (nbgrader's validate handler reads an
    nbgrader_config.py there). `home` holds its private config, data and runtime directories and its log."""
    command, _ = KINDS[kind]
    token = secrets.token_hex(24)
    port = free_port()
    config_dir, data_dir, runtime_dir, ipython_dir = (home / name for name in ("config", "data", "runtime", "ipython"))
    for directory in (config_dir, data_dir, runtime_dir, ipython_dir):
        directory.mkdir(parents=True, exist_ok=True)
    _write_settings(config_dir)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_DATA_DIR": str(data_dir),
           "JUPYTER_RUNTIME_DIR": str(runtime_dir), "IPYTHONDIR": str(ipython_dir),
           "JUPYTER_PLATFORM_DIRS": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MPLBACKEND", None)  # the kernel's default (inline) backend, as a student's would have
    env.pop("JUPYTER_PATH", None)
    log = home / f"jupyter-{kind}.log"
    arguments = [str(BIN / "jupyter"), command, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                 f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                 f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False"]
    with open(log, "w") as log_file:
        process = subprocess.Popen(arguments, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = JupyterServer(kind, f"http://127.0.0.1:{port}", token, root, log, process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        stop_server(server)


# --- the notebook the tests open --------------------------------------------------------------------------

def write_assignment(directory: Path, release: Path | None = None, notebook=None) -> Path:
    """The released assignment with the reference answers filled in (or the NotebookNode `notebook`), as
    `backprop.ipynb` in `directory`, beside a copy of every other file of the release folder (the helper
    modules, symbolic links followed). Returns the notebook's path."""
    import nbformat
    from coursekit.submissions import fill, reference_answers, release_notebook

    release = release or REPO / "release" / "backprop"
    for item in release.iterdir():
        if item.name == "__pycache__" or item.name == "backprop.ipynb":
            continue
        if item.is_dir():
            shutil.copytree(item, directory / item.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(item, directory / item.name)
    path = directory / "backprop.ipynb"
    nbformat.write(notebook if notebook is not None else fill(release_notebook(), reference_answers()), path)
    return path


def write_student_setup(root: Path, exchange: Path, release: Path | None = None) -> None:
    """A student's side of the course as nbgrader sees it: `root/nbgrader_config.py` naming the course and
    the exchange (the server runs in `root`, where nbgrader's server extensions read it), and an exchange
    holding the release as `nbgrader release_assignment` lays it out (outbound/backprop), and an inbound
    folder for submissions."""
    release = release or REPO / "release" / "backprop"
    course = exchange / "backprop"
    shutil.copytree(release, course / "outbound" / "backprop", ignore=shutil.ignore_patterns("__pycache__"))
    (course / "inbound").mkdir()
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'backprop'\nc.Exchange.root = {str(exchange)!r}\n")


# --- the browser ------------------------------------------------------------------------------------------

@contextmanager
def chromium() -> Iterator:
    """Debian's headless Chromium under Playwright (a fresh, empty profile: Playwright's launch() makes one)."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, kind: str, name: str) -> Path:
    """The page as it is now, saved as build/screenshots/<kind>/<name>.png."""
    path = SCREENSHOTS / kind / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


# The state of a notebook's code cells, read from the page: each cell's prompt ("[3]:", "[*]:", "[ ]:").
PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt'))
                   .map(prompt => prompt.textContent.trim())"""
# Outputs that mean something went wrong: stderr streams and errors (JupyterLab renders both with this type).
ERROR_OUTPUTS = ('.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
                 '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')


def kernel_state(server: JupyterServer, path: str = "backprop.ipynb") -> str | None:
    """The execution state of the kernel of the session open on `path` ("idle", "busy", "starting"...)."""
    for session in server.api("/api/sessions"):
        if session.get("path") == path and session.get("kernel"):
            return session["kernel"].get("execution_state")
    return None


def wait_for_kernel_idle(server: JupyterServer, path: str = "backprop.ipynb", timeout: float = 120) -> None:
    """Wait (polling the server) until the notebook's kernel exists and is idle."""
    deadline = time.monotonic() + timeout
    state = None
    while (state := kernel_state(server, path)) != "idle":
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel of {path} is {state!r}, not idle, after {timeout} s")
        time.sleep(0.2)


def open_notebook(page, server: JupyterServer, path: str = "backprop.ipynb") -> None:
    """Open `path` in the front end and wait until its cells are shown and its kernel is idle; a "Select
    Kernel" dialog, if one comes up, is answered with the default (Python 3)."""
    page.goto(server.page_url(path))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    deadline = time.monotonic() + 120
    while kernel_state(server, path) != "idle":
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "kernel" in dialog.inner_text().lower():
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel of {path} did not become idle: {kernel_state(server, path)!r}")
        page.wait_for_timeout(200)
    # The page's own view of the kernel (its toolbar's status item) says idle too: it is connected.
    page.wait_for_function("""() => {
        const item = document.querySelector('.jp-NotebookPanel-toolbar [data-jp-item-name="executionProgress"]');
        const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
        return (item !== null && /Idle/.test(item.textContent)) || indicator?.dataset.status === 'idle';
    }""", timeout=60_000)


def menu_command(page, menu: str, item: str) -> None:
    """Click `menu` in the menu bar, then its item labelled `item` (JupyterLab and Notebook 7 alike)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    label = page.locator(".lm-MenuBar-menu .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
    label.click()


def run_all_cells(page, timeout: float = 180) -> list[str]:
    """Run → Run All Cells from the menu bar, and wait until every code cell has run (or one failed and the
    rest were not run). Returns the cells' prompts."""
    menu_command(page, "Run", "Run All Cells")
    # Done: nothing queued or running, and the last code cell has a number, or an error stopped the run.
    page.wait_for_function(
        """([errors]) => {
            const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt'))
                .map(prompt => prompt.textContent.trim());
            if (prompts.length === 0 || prompts.some(text => text.includes('*'))) return false;
            return /\\[\\d+\\]/.test(prompts[prompts.length - 1]) || document.querySelector(errors) !== null;
        }""", arg=[ERROR_OUTPUTS], timeout=timeout * 1000, polling=250)
    return page.evaluate(PROMPTS_JS)


def error_outputs(page) -> list[str]:
    """The text of every stderr or error output in the notebook."""
    return page.locator(ERROR_OUTPUTS).all_inner_texts()
