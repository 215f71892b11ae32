"""A kernel manager that contains student code: another user, a private directory, resource limits.

nbgrader starts one kernel per submission through its Execute preprocessor; nbgrader_config.py sets
`Execute.kernel_manager_class` to `SandboxedKernelManager`, so plain `nbgrader autograde` uses it. The
kernel then:

- runs in a fresh private directory (its cwd, HOME and TMPDIR), holding only the assignment's own helper
  files, copied from the submission's directory; a student's extra files (a `numpy.py`, say) stay behind;
- runs as the unprivileged user `sandbox_user`, in its own mount namespace where the course directory and
  the grading packages' repository are covered by an empty file system but for what the kernel needs to
  run (the virtualenv, and the few modules the hidden checks import there: `kernel_modules`, read-only),
  and `/root` shows nothing but the Python installation: no submission, gradebook, source, feedback,
  reference solution or verdict code is there to read or write;
- has no network (its own empty network namespace; the kernel talks to nbgrader over unix sockets);
- is limited in memory (RLIMIT_AS, so a bomb raises MemoryError instead of swapping or waking the OOM
  killer), processes (a fork bomb), file size and CPU time; where the machine has cgroups, a cgroup caps
  the memory and processes of the kernel and all its children together, and nothing of it outlives it.

Where the machine does not allow a part (not root: no user switch, no namespaces), that part is skipped
with one warning in the log and the rest still holds; the README says which protection holds where.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import pwd
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Dict, Integer, List, Unicode

from . import forkserver
from .grading_inputs import SEED_VARIABLE, configured_seed

GiB, MiB = 2**30, 2**20
WRAPPER = Path(__file__).with_name("kernel_wrap.sh")
# What shapes TensorFlow in a kernel, read when it is imported: a fork server imports it with the same.
TENSORFLOW_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "MALLOC_ARENA_MAX": "2",  # glibc arenas per thread inflate the address space TF's threads use
}


@functools.cache
def can_contain() -> bool:
    """Whether this process may switch users and make namespaces (it is root, and unshare works)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        return False
    return subprocess.run(["unshare", "--mount", "--net", "--", "true"], capture_output=True).returncode == 0


def ensure_user(name: str) -> pwd.struct_passwd:
    """The sandbox user, created as a system user without a home or a shell if it does not exist."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


class KernelCgroup:
    """Memory and process caps for one kernel and all it starts, where the machine has cgroups (v1 or v2).

    RLIMIT_AS caps each process; the cgroup caps their sum, so even forked children cannot make the machine
    swap or wake the OOM killer for anyone else, and no process of the kernel outlives it.
    """

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, directories: list[Path]):
        self.directories = directories

    @classmethod
    def create(cls, name: str, memory: int, processes: int) -> "KernelCgroup | None":
        unified = (cls.ROOT / "cgroup.controllers").is_file() and "memory" in (cls.ROOT / "cgroup.controllers").read_text()
        settings = ({cls.ROOT / name: {"memory.max": memory, "memory.swap.max": 0, "pids.max": processes}}
                    if unified else
                    {cls.ROOT / "memory" / name: {"memory.limit_in_bytes": memory, "memory.memsw.limit_in_bytes": memory},
                     cls.ROOT / "pids" / name: {"pids.max": processes}})
        made = []
        try:
            for directory, values in settings.items():
                directory.mkdir()
                made.append(directory)
                for key, value in values.items():
                    if (directory / key).exists():
                        (directory / key).write_text(str(value))
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

    @property
    def procs_files(self) -> str:
        return ":".join(str(d / "cgroup.procs") for d in self.directories)

    def remove(self) -> None:
        """Kill whatever is left in the cgroup, then remove it."""
        for directory in self.directories:
            for _ in range(50):
                try:
                    for pid in (directory / "cgroup.procs").read_text().split():
                        os.kill(int(pid), 9)
                    directory.rmdir()
                    break
                except ProcessLookupError:
                    continue
                except OSError:
                    time.sleep(0.1)


def _runtime_paths(modules: list[str]) -> list[str]:
    """What the kernel needs to run: the Python installation, the virtualenv, and the files of `modules`
    (with their packages' __init__), not the rest of their packages."""
    files = []
    for name in modules:
        parts = name.split(".")
        files += [importlib.util.find_spec(".".join(parts[:i])).origin for i in range(1, len(parts) + 1)]
    return [str(Path(p).resolve()) for p in (sys.base_prefix, sys.prefix, *dict.fromkeys(files))]


def _package_root(modules: list[str]) -> str:
    """Where the grading packages live (the repository): out of sight but for `modules`, like the course."""
    return str(Path(importlib.util.find_spec(modules[0].split(".")[0]).origin).resolve().parent.parent)


def _inside(directory: str, paths: list[str]) -> list[str]:
    return [path for path in paths if path.startswith(directory.rstrip("/") + "/")]


def _set_limits(limits: list[tuple[int, int]]):
    def preexec() -> None:  # runs in the child between fork and exec
        for limit, value in limits:
            resource.setrlimit(limit, (value, value))
    return preexec


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels cannot reach the course or each other."""

    sandbox_user = Unicode("backprop-grader", help="unprivileged user the kernel runs as").tag(config=True)
    memory_limit = Integer(4 * GiB, help="address-space limit of the kernel, bytes (RLIMIT_AS)").tag(config=True)
    max_processes = Integer(256, help="processes and threads of the sandbox user (RLIMIT_NPROC)").tag(config=True)
    max_file_size = Integer(256 * MiB, help="largest file the kernel may write, bytes (RLIMIT_FSIZE)").tag(config=True)
    cpu_seconds = Integer(600, help="CPU time of one kernel, all cells together (RLIMIT_CPU)").tag(config=True)
    network = Bool(False, help="let the kernel reach the network").tag(config=True)
    assignment_files = List(Unicode(), help="files of the assignment copied into the kernel's directory").tag(config=True)
    course_root = Unicode("", help="the course directory, covered in the kernel's namespace").tag(config=True)
    visible_course_paths = List(Unicode(), help="paths in the course directory the kernel still sees, "
                                "read-only").tag(config=True)
    kernel_modules = List(Unicode(), ["autograder.probe", "autograder.grading_inputs", "backprop_ref.problem",
                                      "backprop_ref.stand_ins"],
                          help="modules the hidden checks import in the kernel; nothing else of their packages "
                          "(the reference solution, the verdicts) is visible there").tag(config=True)
    grading_env = Dict(Unicode(), help="environment variables the grader sets for the kernel").tag(config=True)
    fork_server = Unicode("", help="unix socket of a warm kernel server (autograder.forkserver): kernels are "
                          "forked from it, TensorFlow already imported, instead of started afresh").tag(config=True)
    warm_kernels = Bool(False, help="without a fork_server, fork kernels from a server this process starts on its "
                        "first kernel (forkserver.shared): a batch of plain `nbgrader autograde` imports TensorFlow "
                        "once, not twice per submission").tag(config=True)

    _sandbox: Path | None = None
    _cgroup: KernelCgroup | None = None
    _warned = False
    _no_warm_server = False  # forkserver.shared failed in this process: its kernels start afresh

    async def _async_pre_start_kernel(self, **kw):
        contained = can_contain()
        if not contained and not SandboxedKernelManager._warned:
            SandboxedKernelManager._warned = True
            self.log.warning("Kernel sandbox: not root or no namespaces here; kernels run as this user, "
                             "with a private directory and resource limits only.")
        user = ensure_user(self.sandbox_user) if contained else pwd.getpwuid(os.getuid())
        if self._sandbox is None:
            self._sandbox = self._make_directories(user)
            self.connection_file = str(self._sandbox / "runtime" / "kernel.json")
            if contained:
                self.transport, self.ip = "ipc", str(self._sandbox / "runtime" / "ipc")
                self._cgroup = KernelCgroup.create(self._sandbox.name, self.memory_limit, self.max_processes)
        self._copy_assignment_files(Path(kw.get("cwd") or "."), self._sandbox / "work", user)
        kw["env"] = self._environment(user)
        kw["cwd"] = str(self._sandbox / "work")
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        os.chown(self.connection_file, user.pw_uid, user.pw_gid)
        limits = [
            (resource.RLIMIT_AS, self.memory_limit),
            (resource.RLIMIT_FSIZE, self.max_file_size),
            (resource.RLIMIT_CPU, self.cpu_seconds),
            (resource.RLIMIT_CORE, 0),
        ]
        if contained and self._cgroup is None:
            # RLIMIT_NPROC counts every process of the sandbox user, so kernels running side by side would
            # share it (one's fork bomb starves the others); the cgroup's pids.max is the kernel's own.
            limits.append((resource.RLIMIT_NPROC, self.max_processes))
        covers = self._covers() if contained else []
        cgroup = self._cgroup.procs_files if self._cgroup else ""
        server = self._fork_server()
        if server and cmd[1:3] == ["-m", "ipykernel_launcher"]:
            return self._relay_command(server, cmd[3:], kw, limits, user if contained else None, covers, cgroup), kw
        kw["preexec_fn"] = _set_limits(limits)
        kw["umask"] = 0o077
        if contained:
            namespaces = ["--mount", "--ipc"] + ([] if self.network else ["--net"])
            cmd = ["unshare", *namespaces, "--", "/bin/sh", str(WRAPPER), str(user.pw_uid), str(user.pw_gid),
                   cgroup, *covers, "--", *cmd]
        return cmd, kw

    def _fork_server(self) -> str:
        """The socket of the server to fork this kernel from, or "" to start it afresh."""
        if self.fork_server or not self.warm_kernels or SandboxedKernelManager._no_warm_server:
            return self.fork_server
        try:
            return forkserver.shared(TENSORFLOW_ENVIRONMENT)
        except (OSError, RuntimeError) as error:  # kernels still start, afresh: slower, graded alike
            SandboxedKernelManager._no_warm_server = True
            self.log.warning("Warm kernels: the fork server did not start (%s); kernels start afresh", error)
            return ""

    def _covers(self) -> list[str]:
        """kernel_wrap.sh's COVER KEEPS pairs: what the kernel must not see, and what it still needs there."""
        # /root holds nothing for the kernel; world-writable places would let one kernel leave files for
        # the next (each gets its own, empty view); the course directory holds everyone's work.
        runtime = _runtime_paths(self.kernel_modules)
        hidden = [("/root", []), (tempfile.gettempdir(), [f"+{self._sandbox}"]), ("/var/tmp", []),
                  ("/dev/shm", []), (_package_root(self.kernel_modules), [])]
        if self.course_root:
            root = str(Path(self.course_root).resolve())
            hidden.append((root, [f"{root}/{path}" for path in self.visible_course_paths]))
        covers = []
        for cover, keep in dict(hidden).items():
            covers += [cover, ":".join(dict.fromkeys(keep + _inside(cover, runtime)))]
        return covers

    def _relay_command(self, server: str, kernel_args: list[str], kw: dict, limits: list,
                       user: pwd.struct_passwd | None, covers: list[str], cgroup: str) -> list[str]:
        """The fork server's relay in the kernel's place, and what the server needs to contain the kernel,
        in a file only root can read (it holds the kernel's environment)."""
        spec = {
            "kernel_args": kernel_args, "cwd": kw["cwd"], "env": kw.pop("env"), "umask": 0o077, "limits": limits,
            "uid": user and user.pw_uid, "gid": user and user.pw_gid, "namespaces": user is not None,
            "network": self.network, "cgroup_procs": [path for path in cgroup.split(":") if path],
            "cover_command": ["/bin/sh", str(WRAPPER), str(user and user.pw_uid), str(user and user.pw_gid), "",
                              *covers, "--", "/bin/true"],
        }
        spec_file = self._sandbox / "kernel-spec.json"
        spec_file.touch(mode=0o600)
        spec_file.write_text(json.dumps(spec))
        kw["env"] = {"PATH": spec["env"]["PATH"], "LANG": spec["env"]["LANG"]}
        return [sys.executable, "-m", "autograder.forkserver", "--relay", server, str(spec_file)]

    def _make_directories(self, user: pwd.struct_passwd) -> Path:
        """The kernel's directories, in a base it cannot write: it may empty them, but not remove them."""
        base = Path(tempfile.mkdtemp(prefix="backprop-kernel-"))
        base.chmod(0o755)
        for sub in ("work", "home", "runtime", "tmp"):
            (base / sub).mkdir(mode=0o700)
            os.chown(base / sub, user.pw_uid, user.pw_gid)
        return base

    def _copy_assignment_files(self, source: Path, work: Path, user: pwd.struct_passwd) -> None:
        for name in self.assignment_files:
            if (source / name).is_file():
                shutil.copy(source / name, work / name)
                os.chown(work / name, user.pw_uid, user.pw_gid)

    def _environment(self, user: pwd.struct_passwd) -> dict[str, str]:
        """A minimal environment: nothing of the grader's own (tokens, paths) reaches the kernel."""
        base, home = self._sandbox, self._sandbox / "home"
        return {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "HOME": str(home), "USER": user.pw_name, "LOGNAME": user.pw_name,
            "TMPDIR": str(base / "tmp"),
            "IPYTHONDIR": str(home / ".ipython"),
            "MPLCONFIGDIR": str(home / ".matplotlib"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
            "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
            **TENSORFLOW_ENVIRONMENT,
            "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", ""),
            SEED_VARIABLE: str(configured_seed(self.config)),  # the re-check's own, in grading_env, comes after
            **self.grading_env,
        }

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._sandbox is not None:
            if self._cgroup is not None:
                self._cgroup.remove()
                self._cgroup = None
            shutil.rmtree(self._sandbox, ignore_errors=True)
            self._sandbox = None

    cleanup_resources = _async_cleanup_resources
