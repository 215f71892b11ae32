import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def reference_outcomes():
    """The source notebook's own solutions, run in-process: every test cell's outcome."""
    from coursekit.submissions import reference_answers, run_in_process

    return run_in_process(reference_answers())


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(items):
    """With pytest-xdist's `--dist loadgroup` (make test): the tests that share a module-scoped fixture (a graded
    class, a browser session) run on one worker, which builds it once; every other test goes wherever a worker
    is free. A parametrized fixture makes one group per parameter (the browser's two front ends)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # the long ones start first
    for item in items:
        shared = [name for name, definitions in item._fixtureinfo.name2fixturedefs.items()
                  if definitions[-1].scope == "module"]
        if shared:
            params = getattr(item, "callspec", None)
            key = item.module.__name__ + "".join(
                f"[{params.params[name]}]" for name in shared if params and name in params.params)
            item.add_marker(pytest.mark.xdist_group(key))
