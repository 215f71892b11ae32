"""Warm kernels: a server that imported TensorFlow once forks every kernel from that state.

A kernel started afresh spends 5-7 s importing TensorFlow; a kernel forked from a process that already
imported it (and ran nothing, so no TensorFlow thread pool exists yet) starts in a fraction of a second.
`SandboxedKernelManager(fork_server=SOCKET)` launches, instead of the kernel, a small relay
(`python -m autograder.forkserver --relay SOCKET SPEC`) that asks the server for a kernel and stands for it:
the kernel manager signals, polls and kills the relay as it would the kernel. The server forks; the child
joins the kernel's cgroup, enters fresh mount, network and IPC namespaces, covers the course with the same
script a fresh kernel uses (kernel_wrap.sh), takes the rlimits, drops to the sandbox user and becomes the
IPython kernel. Every kernel is a fresh fork of the same untouched state: nothing one student's kernel does
reaches the next, and each has every limit of a freshly started one.

What the warm modules read from the server's environment when the server imported them (the temporary
directory, paths under its home and its directory, matplotlib's directories and backend, where TensorFlow's
logger writes) the child derives again from the kernel's, as a fresh kernel's own imports would have: a
forked kernel sees what a freshly started one sees (tests/test_forkserver.py compares the two).

The server is single-threaded (fork in a threaded process could copy a held lock) and exits, killing its
kernels, when the process that started it goes away.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import selectors
import signal
import socket
import subprocess
import sys
from pathlib import Path

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC = 0x00020000, 0x40000000, 0x08000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
# What kernels import first; the environment that shapes them (TensorFlow reads it when imported) is the
# kernels' own, given to the server when it starts.
WARM_MODULES = ("numpy", "tensorflow", "ipykernel.kernelapp")
POLL_SECONDS = 0.1


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _send(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


# --- the child: from a fork of the server to a contained kernel -------------------------------------------

def _contain(spec: dict) -> None:
    """Everything `unshare`, kernel_wrap.sh and setpriv do for a fresh kernel, done to this process."""
    for procs in spec["cgroup_procs"]:
        Path(procs).write_text(str(os.getpid()))
    libc = _libc()
    if spec["namespaces"]:
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | (0 if spec["network"] else CLONE_NEWNET)), "unshare")
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
        # The covers go on in this mount namespace; the script's last step runs `true` as the user.
        subprocess.run(spec["cover_command"], check=True, stdin=subprocess.DEVNULL)
    os.chdir(spec["cwd"])
    os.umask(spec["umask"])
    for limit, value in spec["limits"]:
        resource.setrlimit(limit, (value, value))
    os.environ.clear()
    os.environ.update(spec["env"], PWD=spec["cwd"])  # as the shell of a fresh kernel's start sets it
    if spec["uid"] is not None:
        cap = 0
        while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
            cap += 1
        os.setgroups([])
        os.setresgid(spec["gid"], spec["gid"], spec["gid"])
        os.setresuid(spec["uid"], spec["uid"], spec["uid"])
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # Not dumpable: other kernels of the same user cannot read this one's /proc files (its environment,
    # its memory) nor attach to it. A freshly exec'd kernel would be dumpable again; this one never execs.
    _check(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")


def _become_kernel(spec: dict, stdio: list[int]) -> None:
    """In the forked child: take the relay's stdin/stdout/stderr, get contained, run the IPython kernel."""
    for number, fd in enumerate(stdio):
        os.dup2(fd, number)
        os.close(fd)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    server = {"home": os.path.expanduser("~"), "cwd": os.getcwd()}
    _contain(spec)
    _rederive_from_environment(server)
    import importlib.util

    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *spec["kernel_args"]]
    from ipykernel import kernelapp
    app = kernelapp.IPKernelApp.instance()  # kernelapp.launch_new_instance(), with a step between
    app.initialize()
    _rederive_from_kernel_streams()
    app.start()


# --- the child: what the warm modules read from the server's environment, read again from the kernel's -----

# Module globals the warm modules set, when imported, to a path under the server's home or directory: the
# same path under the kernel's (`tests/test_forkserver.py` looks for any left over). Absent ones are skipped.
HOME_PATHS = (
    ("tensorflow", "_site_packages_dirs"), ("tensorflow", "_s"), ("tensorflow", "_plugin_dir"),  # site.USER_SITE
    ("tensorflow.python.framework.error_interpolation", "_FRAMEWORK_PATH_PREFIXES"),  # site.USER_SITE/keras
    ("keras.src.backend.config", "_keras_base_dir"), ("keras.src.backend.config", "_KERAS_DIR"),
    ("keras.src.backend.config", "_config_path"),  # ~/.keras (its home is writable, as the kernel's is)
    ("tensorflow.python.keras.backend", "_keras_base_dir"), ("tensorflow.python.keras.backend", "_keras_dir"),
    ("tensorflow.python.keras.backend", "_config_path"),
    ("matplotlib.font_manager", "_HOME"), ("matplotlib.font_manager", "MSUserFontDirectories"),
    ("matplotlib.font_manager", "X11FontDirectories"), ("matplotlib.font_manager", "OSXFontDirectories"),
)
CWD_PATHS = (("multiprocessing.process", "ORIGINAL_DIR"), ("rich", "_IMPORT_CWD"))


def _under(path, directory: str) -> bool:
    return isinstance(path, (str, Path)) and (str(path) + "/").startswith(directory.rstrip("/") + "/")


def _rebase(value, old: str, new: str):
    """`value` (a path, or a list or tuple of them) with `old`, where a path starts with it, replaced by `new`."""
    if isinstance(value, list):
        value[:] = [_rebase(item, old, new) for item in value]
        return value
    if isinstance(value, tuple):
        return tuple(_rebase(item, old, new) for item in value)
    if _under(value, old):
        return type(value)(new + str(value)[len(old.rstrip("/")):])
    return value


def _rederive_from_environment(server: dict) -> None:
    """Contained, as the kernel's user, in its environment: what the server's imports read from the server's
    environment, read again from the kernel's (its HOME, TMPDIR, MPLCONFIGDIR, MPLBACKEND, directory)."""
    import site
    import sysconfig
    import tempfile

    # Read on first use and kept: the server's was /tmp (no TMPDIR), read-only in the kernel's namespace,
    # where AutoGraph could not write the code it converts a tf.function to.
    tempfile.tempdir = None
    site.USER_BASE = site.USER_SITE = None  # read from HOME when Python started
    site.getusersitepackages()
    config_vars = getattr(sysconfig, "_CONFIG_VARS", None)
    if config_vars and "userbase" in config_vars and hasattr(sysconfig, "_getuserbase"):
        config_vars["userbase"] = sysconfig._getuserbase()
    home, cwd = os.path.expanduser("~"), os.getcwd()
    for table, old, new in ((HOME_PATHS, server["home"], home), (CWD_PATHS, server["cwd"], cwd)):
        for module_name, attribute in table:
            module = sys.modules.get(module_name)
            if module is not None and hasattr(module, attribute):
                setattr(module, attribute, _rebase(getattr(module, attribute), old, new))
    for path in [path for path in sys.path_importer_cache if _under(path, server["cwd"]) or _under(path, server["home"])]:
        del sys.path_importer_cache[path]  # the finder of the server's directory, on sys.path when it started
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        for getter in (matplotlib.get_configdir, matplotlib.get_cachedir):  # cached on first call
            _forget(getter)
            getter()  # as matplotlib's import did: makes the directory (MPLCONFIGDIR), the kernel's own
        style = sys.modules.get("matplotlib.style")
        if style is not None and isinstance(getattr(style, "USER_LIBRARY_PATHS", None), list):
            style.USER_LIBRARY_PATHS[:] = [os.path.join(matplotlib.get_configdir(), "stylelib")]
        if os.environ.get("MPLBACKEND"):  # as matplotlib's import does; pyplot picks its backend on first use
            matplotlib.rcParams["backend"] = os.environ["MPLBACKEND"]
    random = sys.modules.get("numpy.random")
    if random is not None:  # seeded from the OS when imported (not by the server today; were it, once for all)
        random.seed()


def _forget(cached) -> None:
    """Make a function memoised by `functools.cache` or matplotlib's `_logged_cached` compute again."""
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()
        return
    cells = dict(zip(cached.__code__.co_freevars, cached.__closure__ or ()))
    if "called" in cells:
        cells["called"].cell_contents = False


def _rederive_from_kernel_streams() -> None:
    """Once the kernel's stdout and stderr are the notebook's: what the server's imports bound to the server's.

    TensorFlow configures its logger when imported: in a kernel (sys.ps1 is set) to INFO on stdout, in the
    server to WARNING on stderr, where its warnings would score a test cell 0. Configure it as a fresh kernel's
    import does. Other handlers made by the imports on the server's stderr (absl's) write to the kernel's.
    """
    import logging

    tf_logging = sys.modules.get("tensorflow.python.platform.tf_logging")
    if tf_logging is not None and getattr(tf_logging, "_logger", None) is not None:
        logger = tf_logging._logger
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        tf_logging._logger = None
        tf_logging.get_logger()
    for handler in _IMPORTED_HANDLERS:
        if "stream" in vars(handler):
            for original, current in ((sys.__stderr__, sys.stderr), (sys.__stdout__, sys.stdout)):
                if handler.stream is original and current is not original:
                    handler.setStream(current)


# --- the server ------------------------------------------------------------------------------------------

class ForkServer:
    """Accept relay connections; fork a kernel for each; report each kernel's exit to its relay."""

    def __init__(self, path: str):
        self.parent = os.getppid()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        os.chmod(path, 0o600)
        self.listener.listen(64)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.kernels: dict[int, socket.socket] = {}  # pid -> its relay's connection

    def serve(self) -> None:
        try:
            while os.getppid() == self.parent:
                for key, _ in self.selector.select(POLL_SECONDS):
                    if key.fileobj is self.listener:
                        self._launch(self.listener.accept()[0])
                    else:
                        self._relay_gone(key.fileobj)
                self._reap()
        finally:
            for pid in self.kernels:
                _kill(pid, signal.SIGKILL)

    def _launch(self, connection: socket.socket) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
            spec = json.loads(message)
        except (OSError, ValueError):
            connection.close()
            return
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                self.selector.close()
                self.listener.close()
                for other in self.kernels.values():
                    other.close()
                connection.close()
                _become_kernel(spec, fds)
                status = 0
            except SystemExit as exit:
                status = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
            except BaseException as error:  # noqa: BLE001 - the child must never return into the server
                print(f"autograder.forkserver: the kernel failed: {error!r}", file=sys.stderr, flush=True)
            finally:
                os._exit(status)
        for fd in fds:
            os.close(fd)
        self.kernels[pid] = connection
        self.selector.register(connection, selectors.EVENT_READ)
        _send(connection, {"pid": pid})

    def _relay_gone(self, connection: socket.socket) -> None:
        """A relay never sends after its request: readable means it is gone (killed): so goes its kernel."""
        for pid, relay in list(self.kernels.items()):
            if relay is connection:
                _kill(pid, signal.SIGKILL)
                self.selector.unregister(connection)

    def _reap(self) -> None:
        while self.kernels:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            connection = self.kernels.pop(pid, None)
            if connection is None:
                continue
            try:
                _send(connection, {"exit": os.waitstatus_to_exitcode(status)})
            except OSError:
                pass
            try:
                self.selector.unregister(connection)
            except (KeyError, ValueError):
                pass
            connection.close()


def _kill(pid: int, signum: int) -> None:
    """Signal the kernel's process group (its own session), or the kernel alone before it made one."""
    for send in (os.killpg, os.kill):
        try:
            return send(pid, signum)
        except ProcessLookupError:
            continue


_IMPORTED_HANDLERS: list = []  # the logging handlers the server's imports made


def serve(path: str) -> None:
    """Import what kernels import, then serve forks at `path` until the parent process goes."""
    import importlib
    import logging

    if sys.path[0] == os.getcwd():  # as ipykernel_launcher does: the kernel puts its own directory back
        del sys.path[0]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the grader; it shuts its kernels down itself
    for name in WARM_MODULES:
        importlib.import_module(name)
    _IMPORTED_HANDLERS[:] = [handler for handler in (ref() for ref in logging._handlerList) if handler is not None]
    ForkServer(path).serve()


def start(path: str, environment: dict[str, str], timeout: float = 120) -> subprocess.Popen:
    """A fork server at `path`, child of this process, ready to fork kernels: returns once it listens."""
    import tempfile
    import time

    home = tempfile.mkdtemp(prefix="backprop-forkserver-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": os.environ.get("LANG", "C.UTF-8"),
           "HOME": home, **environment}
    server = subprocess.Popen([sys.executable, "-m", "autograder.forkserver", path], env=env, cwd=home,
                              stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the kernel fork server did not start (exit {server.poll()}); see its output above")
        time.sleep(0.05)
    return server


_this_process: tuple[subprocess.Popen, str] | None = None  # (server, socket path) of `shared`


def shared(environment: dict[str, str]) -> str:
    """This process's own fork server, started on first use (and again if it died): its socket's path. One per
    grading process: a plain `nbgrader autograde` batch or an `autograder grade` worker pays TensorFlow's
    import once, not once per kernel."""
    global _this_process
    if _this_process is None or _this_process[0].poll() is not None:
        import tempfile

        path = os.path.join(tempfile.mkdtemp(prefix="backprop-forks-"), "server.sock")
        _this_process = (start(path, environment), path)
    return _this_process[1]


# --- the relay: what the kernel manager starts in the kernel's place --------------------------------------

def relay(path: str, spec_file: str) -> int:
    """Ask the server for a kernel, pass it our stdio, forward signals to it, exit with its exit code."""
    spec = json.loads(Path(spec_file).read_text())
    os.unlink(spec_file)  # it holds the kernel's environment: read once, by root
    # What the kernel manager tells a kernel it starts (its parent, its interrupt event) goes on to it.
    # (ipykernel read its default from the environment when the server imported it: say it again.)
    spec["env"].update({name: os.environ[name] for name in ("JPY_PARENT_PID", "JPY_INTERRUPT_EVENT")
                        if name in os.environ})
    if "JPY_PARENT_PID" in os.environ:
        spec["kernel_args"].append(f"--IPKernelApp.parent_handle={os.environ['JPY_PARENT_PID']}")
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(path)
    socket.send_fds(connection, [json.dumps(spec).encode()], [0, 1, 2])
    replies = connection.makefile("r")
    pid = json.loads(replies.readline())["pid"]
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, lambda received, _frame: _kill(pid, received))
    line = replies.readline()
    return json.loads(line)["exit"] if line else 1


if __name__ == "__main__":
    if sys.argv[1] == "--relay":
        code = relay(sys.argv[2], sys.argv[3])
        raise SystemExit(code if code >= 0 else 128 - code)
    serve(sys.argv[1])
