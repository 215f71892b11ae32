"""The private parts of nbgrader and Jupyter the grader relies on (autograder/internals.py) are still there,
as they were read: a version that changes one fails here, not in a class's grading."""
import importlib
import inspect

import pytest

from autograder.internals import INTERNALS


def _owner_and_member(path: str):
    module_path, owner_name, member = path.rsplit(".", 2)
    return getattr(importlib.import_module(module_path), owner_name), member


@pytest.mark.parametrize("internal", INTERNALS, ids=lambda internal: internal.path)
def test_an_internal_the_grader_relies_on_is_unchanged(internal):
    owner, member = _owner_and_member(internal.path)
    if internal.signature is None:  # an attribute: set on the class or in a method of it (or of a base)
        sources = "".join(inspect.getsource(cls) for cls in owner.__mro__ if cls.__module__.split(".")[0] != "builtins")
        assert hasattr(owner, member) or f"self.{member} =" in sources, internal.path
    else:
        assert str(inspect.signature(getattr(owner, member))) == internal.signature, internal.path


def test_every_private_member_the_grader_overrides_is_listed():
    """A method the grader's classes override whose name is private upstream must be in the list."""
    from autograder import coordinator, execute, sandbox

    listed = {internal.path.rsplit(".", 1)[1] for internal in INTERNALS}
    for cls in (coordinator.DistributedAutograde, execute.ExecuteContained, sandbox.SandboxedKernelManager):
        upstream = cls.__mro__[1:]
        for name, value in vars(cls).items():
            if (inspect.isfunction(value) and name.startswith("_") and not name.startswith("__")
                    and any(name in vars(base) for base in upstream)):
                assert name in listed, f"{cls.__name__}.{name} overrides a private member not in autograder/internals.py"
