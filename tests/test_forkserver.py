"""Kernels forked from the warm server hold every limit a freshly started kernel holds, and behave alike
under nbgrader (interrupt on timeout, death)."""
import json
import os
import sys
import tempfile

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograder import forkserver
from autograder.execute import ExecuteContained
from autograder.sandbox import TENSORFLOW_ENVIRONMENT, SandboxedKernelManager, can_contain
from autograder.submissions import course_root

# What a kernel can see and do, as a kernel reports it; paths that differ per kernel are normalised.
FACTS = r"""
import json, os, resource, socket, sys
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
sandbox = os.path.dirname(os.getcwd())
def listing(path):
    try:
        return sorted(name.replace(os.path.basename(sandbox), "SANDBOX") for name in os.listdir(path))
    except OSError as error:
        return type(error).__name__
facts = {
    "pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "cwd": listing("."), "tmp": listing("/tmp"), "root": listing("/root"), "dev_shm": listing("/dev/shm"),
    "course": listing(%(course)r), "autograder": listing(%(course)r + "/autograder"),
    "limits": {name: resource.getrlimit(getattr(resource, name))
               for name in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CPU", "RLIMIT_CORE", "RLIMIT_NPROC")},
    "interfaces": [name for _, name in socket.if_nameindex()],
    "caps": {key: status[key].strip() for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")},
    "cgroup": "backprop-kernel-" in open("/proc/self/cgroup").read(),
    "umask": os.umask(0o077),
    "environment": sorted(key for key in os.environ if not key.startswith("JPY")),
    "home_is_private": os.environ["HOME"].startswith(sandbox),
    "numpy_imports": __import__("numpy").__version__,
    "sys_path_has_cwd": "" in sys.path or os.getcwd() in sys.path,
}
print(json.dumps(facts, sort_keys=True))
"""

pytestmark = pytest.mark.skipif(not can_contain(), reason="needs root and namespaces (as on CI)")


@pytest.fixture(scope="module")
def fork_server():
    path = os.path.join(tempfile.mkdtemp(), "server.sock")
    server = forkserver.start(path, TENSORFLOW_ENVIRONMENT)
    yield path
    server.kill()
    server.wait()


def run(notebook, fork_server: str = "", timeout: int = 60):
    """Execute `notebook` as grading does (ExecuteContained, the course's kernel sandbox); the notebook."""
    config = Config()
    config.Execute.kernel_manager_class = SandboxedKernelManager
    config.SandboxedKernelManager.update(fork_server=fork_server, course_root=str(course_root()),
                                         visible_course_paths=[".venv"])
    resources = {"metadata": {"path": tempfile.mkdtemp()}, "nbgrader": {"student": "s", "notebook": "n"}}
    ExecuteContained(config=config, timeout=timeout).preprocess(notebook, resources)
    return notebook


def running(pid: int) -> bool:
    """Zombies aside: this machine's init reaps them late."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def facts(fork_server: str = "") -> dict:
    notebook = run(new_notebook(cells=[new_code_cell(FACTS % {"course": str(course_root())})]), fork_server)
    found = json.loads(notebook.cells[0].outputs[0]["text"])
    assert not running(found["pid"]), "the kernel outlived its notebook"
    return found


def test_a_forked_kernel_is_contained_like_a_fresh_one(fork_server):
    fresh, forked = facts(), facts(fork_server)
    assert forked.pop("pid") != fresh.pop("pid")
    assert forked == fresh
    assert forked["uid"] != 0 and forked["caps"]["CapEff"] == "0000000000000000"
    assert forked["caps"]["CapBnd"] == "0000000000000000" and forked["caps"]["NoNewPrivs"] == "1"
    assert forked["interfaces"] == ["lo"] and forked["cgroup"]
    assert all(sys.base_prefix.startswith(f"/root/{name}") for name in forked["root"])  # Python's own, if there
    assert "gradebook.db" not in forked["course"] and forked["autograder"] == ["__init__.py", "grading_inputs.py", "probe.py"]


def test_a_forked_kernel_cannot_be_read_by_its_neighbours(fork_server):
    """Non-dumpable: another kernel of the same user cannot read its environment (the re-check seed)."""
    notebook = run(new_notebook(cells=[new_code_cell(
        "import ctypes\nprint(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")]), fork_server)  # PR_GET_DUMPABLE
    assert notebook.cells[0].outputs[0]["text"].strip() == "0"


def test_a_forked_kernel_is_interrupted_on_timeout_and_its_death_is_seen(fork_server):
    notebook = run(new_notebook(cells=[
        new_code_cell("while True:\n    pass"),
        new_code_cell("print('still here')"),
        new_code_cell("import os\nos._exit(3)"),
        new_code_cell("print('never')"),
    ]), fork_server, timeout=5)
    first, second, third, fourth = (cell.outputs for cell in notebook.cells)
    assert first[0]["ename"] == "CellTimeoutError", first
    assert second[0]["text"] == "still here\n"
    assert third[-1]["ename"] == "KernelDied" and fourth == [], (third, fourth)
    assert nbformat.validate(notebook) is None
