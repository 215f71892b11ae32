"""Are the mistakes caught and named on every grading seed, and do the honest items of the same
submission keep passing? Each corpus mistake is checked on --seeds grading seeds, in-process.

For every mistake, the items whose failure must name it (`says` in coursekit/known/mistakes/, end-to-end items
included) are checked on each seed: "passed" counts seeds where the mistake slipped through (target 0),
"named" seeds where the message named it. Every other item the mistake must not lose is checked too
("collateral", target 0), but for the end-to-end items, which bench/seed_sweep.py and the real-pipeline
tests cover. Mistakes are shared out among --jobs processes.

    .venv/bin/python bench/mistake_sweep.py --seeds 100    # writes bench/results/mistake_sweep_100.txt
"""
from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("MPLBACKEND", "Agg")

from provenance import RESULTS, measured_at  # noqa: E402  (bench/ is on sys.path when run as a script)

from autograder import checks, grading_inputs  # noqa: E402
from autograder.registry import item_checks  # noqa: E402
from coursekit.corpus import BY_NAME, MISTAKES  # noqa: E402
from coursekit.submissions import namespace_of, reference_answers  # noqa: E402


def sweep_mistake(name: str, seeds: int) -> list[tuple[str, int, int, int]]:
    """(item, seeds it passed, seeds its message named the mistake, honest-item failures) per named item."""
    mistake = BY_NAME[name]
    items = item_checks(namespace_of({**reference_answers(), **mistake.answers}), end_to_end=True)
    honest = [item for item in items if item not in mistake.loses and not item.endswith("_converges")]
    grading_seeds = range(grading_inputs.DEFAULT_SEED, grading_inputs.DEFAULT_SEED + seeds)
    rows = []
    for item, phrase in mistake.says.items():
        passed = named = 0
        for seed in grading_seeds:
            try:
                items[item](seed)
                passed += 1
            except checks.GradingFailure as failure:
                named += phrase in str(failure)
        rows.append((item, passed, named))
    collateral = 0
    for seed in grading_seeds:
        for item in honest:
            try:
                items[item](seed)
            except checks.GradingFailure:
                collateral += 1
    return [(item, passed, named, collateral) for item, passed, named in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    lines = [f"{'mistake':<26} {'item':<36} {'passed':>8} {'named':>8} {'collateral':>10}"]
    print(lines[0], flush=True)
    totals = {"passed": 0, "named": 0, "checked": 0, "collateral": 0}
    names = [m.name for m in MISTAKES]
    with ProcessPoolExecutor(args.jobs) as pool:
        for name, rows in zip(names, pool.map(sweep_mistake, names, [args.seeds] * len(names))):
            for item, passed, named, collateral in rows:
                totals["passed"] += passed
                totals["named"] += named
                totals["checked"] += args.seeds
                lines.append(f"{name:<26} {item:<36} {passed:>8} {named:>8} {collateral:>10}")
                print(lines[-1], flush=True)
            totals["collateral"] += rows[0][3] if rows else 0
    caught = totals["checked"] - totals["passed"]
    lines.append(f"\n{len(MISTAKES)} mistakes on {args.seeds} seeds each, {time.perf_counter() - started:.0f} s, "
                 f"{args.jobs} processes, {measured_at()}: mistakes passed {totals['passed']} of {totals['checked']} (target 0); "
                 f"diagnosis named {totals['named']} of {caught} caught ({totals['named'] / max(1, caught):.1%}); "
                 f"honest items failed alongside {totals['collateral']} (target 0)")
    print(lines[-1])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"mistake_sweep_{args.seeds}.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
