"""The test services are real and can fail: nbgrader's gradebook works on the PostgreSQL server, Dask runs
tasks in separate worker processes, retries a task whose worker was killed, gives up on one that kills every
worker, and nothing is left running afterwards."""
import os
import signal
import time
from pathlib import Path

import psutil
import psycopg2
import pytest
import sqlalchemy
from distributed import Client, KilledWorker

import services
from services import dask_cluster, live_processes, postgres_server

TIMEOUT = 30  # seconds: a hang fails the test instead of blocking it
# The scheduler and workers import this module to unpickle its task functions, and it is not installed: it
# travels in PYTHONPATH (so keep its imports light: nbgrader is imported where it is used).
WORKER_ENV = {"PYTHONPATH": str(Path(__file__).parent), "SERVICES_TEST_MARK": "from the test"}


def listening_addresses(pids: list[int]) -> set[str]:
    """The IP addresses the processes accept connections on."""
    return {connection.laddr.ip for pid in pids for connection in psutil.Process(pid).net_connections("inet")
            if connection.status == psutil.CONN_LISTEN}


def wait_for(condition, what: str):
    """Poll until `condition()` is truthy and return it, or fail after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


@pytest.fixture
def postgres_url(tmp_path):
    with postgres_server(tmp_path) as url:
        yield url


@pytest.fixture
def cluster():
    with dask_cluster(2, env=WORKER_ENV) as (address, worker_pids):
        with Client(address, timeout=TIMEOUT) as client:
            yield client, worker_pids


def test_nbgrader_gradebook_lives_on_the_postgres_server(postgres_url):
    from nbgrader.api import Gradebook  # seconds to import: not at the top, which every Dask worker runs

    with Gradebook(postgres_url, "backprop") as gradebook:
        gradebook.add_assignment("a")
        gradebook.add_student("s")
    with Gradebook(postgres_url, "backprop") as gradebook:
        assert [assignment.name for assignment in gradebook.assignments] == ["a"]
        assert [student.id for student in gradebook.students] == ["s"]
    engine = sqlalchemy.create_engine(postgres_url)
    with engine.connect() as connection:
        version, user, address = connection.execute(
            sqlalchemy.text("SELECT version(), current_user, host(inet_server_addr())")).one()
    engine.dispose()
    assert "PostgreSQL" in version
    assert (user, address) == ("grader", "127.0.0.1")


def test_postgres_server_wants_the_password(postgres_url):
    url = sqlalchemy.make_url(postgres_url)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(host=url.host, port=url.port, user=url.username, password="wrong", dbname=url.database,
                         connect_timeout=TIMEOUT)


def test_postgres_server_listens_on_loopback_only_and_stops_on_exit(tmp_path):
    with postgres_server(tmp_path) as url:
        postmaster = int((tmp_path / "data" / "postmaster.pid").read_text().split()[0])
        assert listening_addresses([postmaster]) == {"127.0.0.1"}
    assert postmaster not in live_processes()
    port = sqlalchemy.make_url(url).port
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=port, dbname="postgres", connect_timeout=TIMEOUT)


def test_missing_postgres_is_an_error_that_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "POSTGRES_ROOT", tmp_path / "nowhere")
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        with postgres_server(tmp_path):
            pass


def pid_and_mark():
    """Which process ran the task, and what environment it was given."""
    return os.getpid(), os.environ.get("SERVICES_TEST_MARK")


def test_a_task_runs_in_a_worker_process_with_the_given_environment(cluster):
    client, worker_pids = cluster
    pids = worker_pids()
    assert len(pids) == 2
    pid, mark = client.submit(pid_and_mark).result(timeout=TIMEOUT)
    assert pid in pids.values() and pid != os.getpid()
    assert mark == "from the test"


def sleep_the_first_time(starts: Path) -> int:
    """Record which process started the task; the first start sleeps long enough to be killed."""
    with open(starts, "a") as log:
        log.write(f"{os.getpid()}\n")
    if len(starts.read_text().split()) == 1:
        time.sleep(10 * TIMEOUT)
    return os.getpid()


def test_a_killed_workers_task_is_retried_on_the_other_worker(cluster, tmp_path):
    client, worker_pids = cluster
    starts = tmp_path / "starts"
    future = client.submit(sleep_the_first_time, starts)
    killed = int(wait_for(lambda: starts.exists() and starts.read_text().split(), "the task to start")[0])
    (other,) = set(worker_pids().values()) - {killed}
    os.kill(killed, signal.SIGKILL)
    assert future.result(timeout=TIMEOUT) == other
    assert starts.read_text().split() == [str(killed), str(other)]
    restarted = wait_for(lambda: len(pids := worker_pids()) == 2 and pids, "the nanny to restart the worker")
    assert killed not in restarted.values()


def exit_at_once(starts: Path):
    """Record which process started the task, then kill it, as a submission that exits its worker does."""
    with open(starts, "a") as log:
        log.write(f"{os.getpid()}\n")
    os._exit(1)


def test_a_task_that_kills_every_worker_fails_after_two_deaths(cluster, tmp_path):
    client, _ = cluster
    starts = tmp_path / "starts"
    with pytest.raises(KilledWorker):
        client.submit(exit_at_once, starts).result(timeout=TIMEOUT)
    deaths = starts.read_text().split()
    assert len(deaths) == len(set(deaths)) == 2


def test_dask_cluster_listens_on_loopback_only_and_leaves_nothing_running():
    with dask_cluster(2) as (address, worker_pids):
        workers = list(worker_pids().values())
        nannies = [psutil.Process(pid).ppid() for pid in workers]
        with Client(address, timeout=TIMEOUT) as client:
            pids = [client.run_on_scheduler(os.getpid), *nannies, *workers]
        assert listening_addresses(pids) == {"127.0.0.1"}
    assert not live_processes().keys() & pids
