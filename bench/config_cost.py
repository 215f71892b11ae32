"""What this course's nbgrader_config.py costs every nbgrader command run in the course directory.

Side by side, alternating, in one run: `nbgrader db student list` in a copy of this course and in a course
with a stock config (only the course id), each on the same empty gradebook. Prints the median wall time and
peak memory (maximum resident set size) of each, and the differences; writes bench/results/config_cost.txt.

    .venv/bin/python bench/config_cost.py [--runs 7]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coursekit.course import Course

COMMAND = ("db", "student", "list")
RESULTS = Path(__file__).resolve().parent / "results" / "config_cost.txt"


def timed(directory: Path) -> tuple[float, float]:
    """(seconds, peak MiB) of one `nbgrader db student list` in `directory`."""
    env = dict(os.environ, HOME=str(directory), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "nbgrader", *COMMAND], cwd=directory, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"nbgrader {' '.join(COMMAND)} failed in {directory}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        ours = Course.create(Path(scratch) / "ours").root
        stock = Path(scratch) / "stock"
        stock.mkdir()
        (stock / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "backprop"\n')
        for course in (ours, stock):
            timed(course)  # creates the gradebook, warms the file cache
        samples = {"this course's config": [], "stock config": []}
        for _ in range(runs):
            for label, course in (("this course's config", ours), ("stock config", stock)):
                samples[label].append(timed(course))
    medians = {label: (statistics.median(s for s, _ in timings), statistics.median(m for _, m in timings))
               for label, timings in samples.items()}
    (ours_s, ours_m), (stock_s, stock_m) = medians["this course's config"], medians["stock config"]
    lines = [f"nbgrader {' '.join(COMMAND)}, median of {runs} alternating runs each"]
    lines += [f"  {label:<22} {s:5.2f} s  {m:6.0f} MiB" for label, (s, m) in medians.items()]
    lines.append(f"  difference             {ours_s - stock_s:+5.2f} s  {ours_m - stock_m:+6.0f} MiB"
                 f"   (time ratio {ours_s / stock_s:.2f})")
    print("\n".join(lines))
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
