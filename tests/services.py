"""Real servers for tests, started and stopped by context managers: a PostgreSQL server for an nbgrader
gradebook (`db_url`) and a Dask cluster of separate scheduler and worker processes. No mocks: what passes
here runs the same way against the services a course uses for real."""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path

import psycopg2
from distributed import Client

POSTGRES_ROOT = Path("/usr/lib/postgresql")
POSTGRES_USER = "postgres"  # the system user the server runs as when the tests run as root
ROLE, DATABASE = "grader", "gradebook"
START_TIMEOUT = 30  # seconds, for each service to come up
STOP_TIMEOUT = 10  # seconds for a stopped service's processes to exit


def free_port() -> int:
    """A loopback TCP port nothing listens on now (the OS picks it, so never a fixed one like 5432)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path:
    """The newest Debian PostgreSQL's binaries; a clear error (not a skip: CI must run these tests) if absent."""
    versions = [path.parents[1] for path in POSTGRES_ROOT.glob("*/bin/postgres")]
    if not versions:
        raise RuntimeError(f"no PostgreSQL server under {POSTGRES_ROOT}: install Debian's package "
                           "(apt-get install postgresql); .ci/run does")
    newest = max(versions, key=lambda path: tuple(int(part) for part in path.name.split(".")))
    return newest / "bin"


def as_postgres(*owned: Path) -> list[str]:
    """The command prefix that runs a PostgreSQL tool as a non-root user, and gives it the `owned` paths.

    PostgreSQL refuses to run as root, so as root it runs as the postgres system user (created if missing).
    That user cannot enter root's private directories (pytest's tmp is 0700), so it keeps one capability,
    CAP_DAC_READ_SEARCH, rather than having permissions changed on directories that are not ours."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", POSTGRES_USER], check=True)
    for path in owned:
        shutil.chown(path, POSTGRES_USER, POSTGRES_USER)
    return ["setpriv", f"--reuid={POSTGRES_USER}", f"--regid={POSTGRES_USER}", "--init-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--"]


def run(command: list, what: str, log: Path | None = None) -> None:
    """Run a server tool; if it fails, an error with its output (and the server's log, which says why)."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=START_TIMEOUT)
    if result.returncode != 0:
        server_log = log.read_text() if log is not None and log.exists() else "(none)"
        raise RuntimeError(f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
                           f"--- server log ---\n{server_log}")


def create_gradebook_database(sockets: Path, port: int) -> str:
    """A login role with a password and a database it owns (PostgreSQL 15+ lets only the owner create tables
    in `public`); the superuser connects over the unix socket, where initdb set trust. Returns the password."""
    password = secrets.token_hex(16)
    with closing(psycopg2.connect(host=str(sockets), port=port, user=POSTGRES_USER, dbname="postgres")) as admin:
        admin.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD %s", (password,))
            cursor.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
    return password


def live_processes() -> dict[int, int]:
    """{pid: process group} of every live process. A zombie (exited, waiting for init to reap it) holds nothing
    and is left out: init here reaps orphans late."""
    live = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:  # it exited meanwhile
            continue
        if state != "Z":
            live[int(stat.parent.name)] = int(group)
    return live


def wait_for_groups_to_exit(groups: set[int], what: str) -> None:
    """Wait until every process of the process `groups` has exited: a killed process takes a moment to die."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while survivors := [pid for pid, group in live_processes().items() if group in groups]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} still running after being stopped: processes {survivors}")
        time.sleep(0.05)


def stop_postgres(pg_ctl: list[str], data: Path) -> None:
    """Stop the server at once (its data is thrown away) and wait until it has exited. The postmaster leads its
    own process group (pg_ctl starts it with setsid) and outlives its children, which have their own."""
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():  # it never started
        return
    postmaster = int(pid_file.read_text().split()[0])
    run([*pg_ctl, "-m", "immediate", "-w", "stop"], "stopping PostgreSQL")
    wait_for_groups_to_exit({postmaster}, "PostgreSQL")


@contextmanager
def postgres_server(directory: Path) -> Iterator[str]:
    """A fresh PostgreSQL server with its data, socket and log in `directory`, listening only on 127.0.0.1 on a
    free port (so it never meets a cluster apt may have started on 5432). Yields the SQLAlchemy URL of an empty
    database that nbgrader's Gradebook takes: postgresql+psycopg2://grader:<password>@127.0.0.1:<port>/gradebook
    (the driver is named because SQLAlchemy 2.1 reads plain postgresql:// as psycopg 3, which is not installed).

    Password authentication over TCP, like a real course's server: a URL that loses its password on the way
    (str() of a SQLAlchemy URL prints it as ***) fails here too. No fsync: only a crash would notice."""
    bin_dir = postgres_bin()
    data, sockets, log = directory / "data", directory / "sockets", directory / "server.log"
    sockets.mkdir()
    prefix = as_postgres(directory, sockets)
    run([*prefix, bin_dir / "initdb", "-D", data, "-U", POSTGRES_USER, "--auth-local=trust",
         "--auth-host=scram-sha-256", "--no-locale", "--encoding=UTF8", "--no-sync"], "initdb")
    port = free_port()
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n"
                   "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        run([*pg_ctl, "-l", log, "-w", "-t", START_TIMEOUT, "start"], "starting PostgreSQL", log)
        password = create_gradebook_database(sockets, port)
        yield f"postgresql+psycopg2://{ROLE}:{password}@127.0.0.1:{port}/{DATABASE}"
    finally:
        stop_postgres(pg_ctl, data)


def spawn(command: list, env: dict) -> subprocess.Popen:
    """A service process in its own process group, so stopping it also stops what it started (a nanny's
    worker). Its log goes to the test's stderr, which pytest shows when the test fails."""
    return subprocess.Popen([str(part) for part in command], env=env, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def stop_groups(processes: list[subprocess.Popen]) -> None:
    """SIGKILL every process group, reap the leaders and wait for the rest (a nanny's worker). Not SIGTERM: a
    nanny that gets it while restarting a killed worker waits for the new worker, which hangs on the stopped
    scheduler; and nothing here is worth a clean shutdown."""
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:  # the whole group has already exited
            pass
    for process in processes:
        process.wait(STOP_TIMEOUT)
    wait_for_groups_to_exit({process.pid for process in processes}, "Dask")


def worker_pids(address: str) -> dict[str, int]:
    """Each live worker's address and process id (a restarted worker has a new one), asked of the workers; a
    worker that has just died, and that the scheduler still lists, is left out."""
    with Client(address, timeout=START_TIMEOUT) as client:
        return client.run(os.getpid, on_error="ignore")


def wait_for_workers(address: str, n_workers: int, processes: list[subprocess.Popen]) -> None:
    """Return once all workers have joined the scheduler; an error naming dead processes if they do not."""
    try:
        with Client(address, timeout=START_TIMEOUT) as client:
            client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
    except Exception as error:
        exited = [f"dask {process.args[1]} (exit {process.returncode})" for process in processes
                  if process.poll() is not None]
        raise RuntimeError(f"Dask cluster at {address} did not start ({error!r}); exited: {exited}") from error


@contextmanager
def dask_cluster(n_workers: int, env: dict | None = None) -> Iterator[tuple[str, Callable[[], dict[str, int]]]]:
    """A `dask scheduler` and `n_workers` separate `dask worker` processes (one thread each, under a nanny that
    restarts a killed worker, no memory limit so Dask never kills a grading worker), all on loopback. The
    scheduler gives up on a task after it killed 2 workers (allowed-failures 1): KilledWorker, not a loop.

    `env` is added to every process's environment. Yields the scheduler's address, tcp://127.0.0.1:<port>,
    and a function returning {worker address: worker pid}; on exit every process is gone."""
    environment = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1", **(env or {})}
    dask = Path(sys.executable).parent / "dask"
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # --no-dashboard only drops the dashboard's pages: the HTTP server (health, metrics) still listens on
    # --dashboard-address, 0.0.0.0:8787 by default, so it gets a free loopback port.
    http = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    processes = [spawn([dask, "scheduler", "--host", "127.0.0.1", "--port", port, *http], environment)]
    try:
        processes += [spawn([dask, "worker", address, "--host", "127.0.0.1", "--nthreads", 1, "--nworkers", 1,
                             "--nanny", "--memory-limit", 0, *http], environment)
                      for _ in range(n_workers)]
        wait_for_workers(address, n_workers, processes)
        yield address, partial(worker_pids, address)
    finally:
        stop_groups(processes)
