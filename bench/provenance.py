"""Which commit a results file measured, so that a figure in bench/results/ can be traced to the checks it measured."""
from __future__ import annotations

import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
GRADED_CODE = ("autograder", "coursekit", "backprop_ref", "source")  # what a verdict depends on


def measured_at() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=RESULTS.parent, capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", *GRADED_CODE)
    return f"measured at {git('rev-parse', '--short', 'HEAD')}" + (" with uncommitted changes" if dirty else "")
