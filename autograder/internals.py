"""Every private part of nbgrader, nbconvert, nbclient and jupyter_client the grader relies on, and why no
public API does the job. One list, so an upgrade is checked in one place: `tests/test_internals.py` fails
when a version changes one of them (gone, renamed, or called with other arguments); pyproject.toml pins the
versions they were read from.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Internal:
    path: str  # module.Class.member
    signature: str | None  # the method's, as inspect.signature shows it; None for an attribute
    used_by: str
    why: str


INTERNALS = [
    Internal("nbgrader.converters.autograde.Autograde._init_preprocessors", "(self) -> None",
             "coordinator.DistributedAutograde",
             "nbgrader registers every autograde preprocessor at once; grading on a worker needs two phases (the "
             "execution there, the gradebook writers here), so each phase registers its own"),
    Internal("nbgrader.converters.autograde.Autograde._sanitizing", None, "coordinator.DistributedAutograde",
             "the flag nbgrader's Autograde reads to pick sanitize or autograde preprocessors; set as it sets it"),
    Internal("nbgrader.converters.base.BaseConverter._format_dest",
             "(self, assignment_id: str, student_id: str, escape: bool = False) -> str",
             "coordinator.DistributedAutograde", "where nbgrader writes a student's autograded notebook"),
    Internal("nbconvert.exporters.exporter.Exporter._preprocessors", None, "coordinator.DistributedAutograde",
             "an exporter has register_preprocessor but no way to clear its list before the next phase"),
    Internal("nbclient.client.NotebookClient._async_handle_timeout",
             "(self, timeout: 'int', cell: 'NotebookNode | None' = None) -> 'None | dict[str, t.Any]'",
             "execute.ExecuteContained", "the one place a cell's timeout is seen, to name it in the feedback"),
    Internal("jupyter_client.manager.KernelManager._async_pre_start_kernel",
             "(self, *, transport_encryption: str | None = None, **kw: Any) -> Tuple[List[str], Dict[str, Any]]",
             "sandbox.SandboxedKernelManager",
             "where the kernel's command, environment and directory are settled: the sandbox wraps them there"),
    Internal("jupyter_client.manager.KernelManager._async_cleanup_resources", "(self, restart: bool = False) -> None",
             "sandbox.SandboxedKernelManager", "the kernel's private directory and cgroup go when the kernel does"),
]
