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
from coursekit.submissions import course_root

# What a kernel can see and do, as a kernel reports it; paths that differ per kernel are normalised.
FACTS = r"""
import json, os, resource, site, socket, sys, sysconfig, tempfile
import matplotlib
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
sandbox = os.path.dirname(os.getcwd())
def listing(path):
    try:
        return sorted(name.replace(os.path.basename(sandbox), "SANDBOX") for name in os.listdir(path))
    except OSError as error:
        return type(error).__name__
def normalised(path):
    return str(path).replace(os.path.basename(sandbox), "SANDBOX")
def writable(directory):
    try:
        tempfile.TemporaryFile(dir=directory).close()
        return True
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
    # Read from the environment once, when first asked or when a module is imported: the kernel's own.
    "tempdir": normalised(tempfile.gettempdir()), "tempdir_writable": writable(tempfile.gettempdir()),
    "user_site": normalised(site.getusersitepackages()), "userbase": normalised(sysconfig.get_config_var("userbase")),
    "matplotlib": [normalised(matplotlib.get_configdir()), normalised(matplotlib.get_cachedir()),
                   matplotlib.get_backend()],
}
print(json.dumps(facts, sort_keys=True))
"""
# TensorFlow in the kernel: AutoGraph converts a function (it writes the converted code to a temporary file)
# and TensorFlow's logger writes where it writes in a notebook (stdout); nothing reaches stderr.
TENSORFLOW = r"""
import tensorflow as tf

@tf.function
def total(x):
    s = tf.constant(0.0)
    for _ in tf.range(3):
        if x > 0:
            s += x
    return s

print("autograph:", float(total(tf.constant(2.0))))
tf.get_logger().warning("logged by TensorFlow")
"""
# Module globals that still hold a path of the server's own (its home, its directory): none, as in a fresh kernel.
# (The notebook's own namespace, __main__, holds this cell's source and the facts above: not looked at.)
SERVER_PATHS = r"""
import json, pathlib, sys
SERVER = "backprop-" + "forkserver-"  # forkserver.start's directory
def mentions(value, depth=0):
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, (str, pathlib.PurePath)):
        return SERVER in str(value)
    if depth < 2 and isinstance(value, (list, tuple, set, frozenset)):
        return any(mentions(item, depth + 1) for item in list(value)[:1000])
    if depth < 2 and isinstance(value, dict):
        return any(mentions(item, depth + 1) for item in list(value.items())[:1000])
    return False
print(json.dumps(sorted(f"{name}.{attribute}" for name, module in list(sys.modules.items())
                        if name not in ("__main__", "__mp_main__")
                        for attribute, value in list(getattr(module, "__dict__", {}).items()) if mentions(value))))
"""

pytestmark = pytest.mark.skipif(not can_contain(), reason="needs root and namespaces (as on CI)")


@pytest.fixture(scope="module")
def fork_server():
    path = os.path.join(tempfile.mkdtemp(), "server.sock")
    server = forkserver.start(path, TENSORFLOW_ENVIRONMENT)
    yield path
    server.kill()
    server.wait()


def run(notebook, fork_server: str = "", timeout: int = 60, warm: bool = False):
    """Execute `notebook` as grading does (ExecuteContained, the course's kernel sandbox); the notebook."""
    config = Config()
    config.Execute.kernel_manager_class = SandboxedKernelManager
    config.SandboxedKernelManager.update(fork_server=fork_server, course_root=str(course_root()),
                                         visible_course_paths=[".venv"], warm_kernels=warm)
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
    notebook = run(new_notebook(cells=[new_code_cell(FACTS % {"course": str(course_root())}),
                                       new_code_cell(TENSORFLOW), new_code_cell(SERVER_PATHS)]), fork_server)
    found = json.loads(notebook.cells[0].outputs[0]["text"])
    assert not running(found["pid"]), "the kernel outlived its notebook"
    found["tensorflow"] = outputs = {}
    for output in notebook.cells[1].outputs:  # by stream; an error by its name
        key = output.get("name", output.output_type)
        outputs[key] = outputs.get(key, "") + output.get("text", output.get("ename", ""))
    found["server_paths"] = json.loads(notebook.cells[2].outputs[0]["text"])
    return found


def test_a_forked_kernel_is_contained_like_a_fresh_one(fork_server):
    fresh, forked = facts(), facts(fork_server)
    assert forked.pop("pid") != fresh.pop("pid")
    assert forked == fresh, {key: {"forked": forked.get(key), "fresh": fresh.get(key)}
                             for key in forked.keys() | fresh.keys() if forked.get(key) != fresh.get(key)}
    assert forked["uid"] != 0 and forked["caps"]["CapEff"] == "0000000000000000"
    assert forked["caps"]["CapBnd"] == "0000000000000000" and forked["caps"]["NoNewPrivs"] == "1"
    assert forked["interfaces"] == ["lo"] and forked["cgroup"]
    assert all(sys.base_prefix.startswith(f"/root/{name}") for name in forked["root"])  # Python's own, if there
    assert "gradebook.db" not in forked["course"] and forked["autograder"] == ["__init__.py", "grading_inputs.py", "probe.py"]
    # The kernel's private temporary directory, not the server's /tmp (read-only in the kernel's namespace).
    assert forked["tempdir"].endswith("/SANDBOX/tmp") and forked["tempdir_writable"] is True
    assert forked["tensorflow"] == {"stdout": "autograph: 6.0\nWARNING:tensorflow:logged by TensorFlow\n"}
    assert forked["server_paths"] == []


def test_forked_kernels_draw_their_own_random_numbers(fork_server):
    """NumPy seeded its global generator when the server imported it; each kernel's is seeded afresh, as its
    own import would have."""
    draws = [run(new_notebook(cells=[new_code_cell("import numpy\nprint(numpy.random.rand())")]), fork_server)
             .cells[0].outputs[0]["text"] for _ in range(2)]
    assert draws[0] != draws[1]


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


def test_warm_kernels_fork_from_one_server_per_grading_process():
    """The course's config (warm_kernels): plain `nbgrader autograde` forks every kernel, the re-check's too,
    from one server it starts with its first kernel."""
    parent = ("import json, os\n"
              "print(json.dumps([os.getppid(), open(f'/proc/{os.getppid()}/cmdline').read().split(chr(0))[1:3]]))")
    parents = [json.loads(run(new_notebook(cells=[new_code_cell(parent)]), warm=True).cells[0].outputs[0]["text"])
               for _ in range(2)]
    assert parents[0] == parents[1], parents
    assert parents[0][1] == ["-m", "autograder.forkserver"], parents
    assert psutil.Process(parents[0][0]).ppid() == os.getpid()
