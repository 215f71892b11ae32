import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def reference_outcomes():
    """The source notebook's own solutions, run in-process: every test cell's outcome."""
    from autograder.submissions import reference_answers, run_in_process

    return run_in_process(reference_answers())
