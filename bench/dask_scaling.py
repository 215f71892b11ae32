"""How `autograder grade --scheduler` scales with the workers of a Dask cluster.

The class of bench/class_grading.py (same generation, written straight into the course as `nbgrader collect`
leaves it) is graded once per worker count, each time on a fresh copy of the released course and a fresh
`distributed.LocalCluster` (one single-threaded worker process per worker, no memory limit), started before
the clock: the wall time is the grading command's, workers' warm-up included. The workers start in an empty
directory with nothing pointing at the course: what they need comes from the grading command. Every worker
count must give the same grades.

    .venv/bin/python bench/dask_scaling.py [--size 24] [--workers 1,2,4]

Output also goes to bench/results/dask_scaling.txt.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from class_grading import (CORES, RESULTS, class_mix, course_copy, differences, grade_command, gradebook_scores,
                           released_class, require_grade_command, run_grading, sizes, tee)
from distributed import LocalCluster

from coursekit.course import _env


def grade_on_cluster(template: Path, directory: Path, workers: int) -> float:
    """Wall time of `autograder grade` on a fresh copy of the class, on a fresh cluster of `workers`."""
    root = course_copy(template, directory)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                      dashboard_address=None) as cluster:
        return run_grading(grade_command("--scheduler", cluster.scheduler_address), root,
                           f"autograder grade, Dask cluster of {workers}").wall


def print_table(size: int, walls: dict[int, float]) -> None:
    """Throughput and scaling of each worker count, against the fewest workers tried."""
    base = min(walls)
    print(f"Class of {size} submissions, autograder grade --scheduler on a LocalCluster "
          f"(one single-threaded process per worker); {CORES} cores here\n")
    print(f"{'workers':>7} {'wall':>8} {'submissions/min':>16} {f'speed-up vs {base}':>15} {'efficiency':>11}")
    for workers, wall in sorted(walls.items()):
        speedup = walls[base] / wall
        print(f"{workers:>7} {wall:>6.0f} s {size / wall * 60:>16.1f} {speedup:>14.2f}x "
              f"{speedup * base / workers:>10.0%}")


def grade_differences(directory: Path, size: int, workers: list[int]) -> list[str]:
    """Every grade that another worker count gives differently from the first."""
    first, *others = workers
    scores = {k: gradebook_scores(directory / f"workers-{k}" / "course") for k in workers}
    return [line for k in others for line in differences(list(class_mix(size)), scores[first], scores[k],
                                                          (f"{first} workers", f"{k} workers"))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=24, help="submissions in the class (default: %(default)s)")
    parser.add_argument("--workers", type=sizes, default=[1, 2, 4], help="worker counts to try (default: 1,2,4)")
    args = parser.parse_args()
    require_grade_command()
    with tempfile.TemporaryDirectory(prefix="dask-scaling-") as directory, tee(RESULTS / "dask_scaling.txt"):
        directory = Path(directory)
        template = released_class(directory / "template", args.size)
        # The workers inherit this process's environment and directory: the instructor's tools, nowhere near a course.
        os.environ.update(_env(directory / "homes" / "workers"))
        (directory / "homes" / "workers").mkdir(parents=True)
        (directory / "workers").mkdir()
        os.chdir(directory / "workers")
        walls = {k: grade_on_cluster(template, directory / f"workers-{k}", k) for k in args.workers}
        print_table(args.size, walls)
        diff = grade_differences(directory, args.size, args.workers)
        print("Grades: identical for every worker count" if not diff else
              f"GRADES DIFFER ({len(diff)}):\n  " + "\n  ".join(diff))
        print(f"Note: this machine has {CORES} cores, so no number of workers can scale past {CORES}x.")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
