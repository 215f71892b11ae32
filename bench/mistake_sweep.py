"""Are the mistakes caught and named on every grading seed, and do the honest items of the same
submission keep passing? Each corpus mistake is checked on --seeds grading seeds, in-process.

For every mistake, the items whose failure must name it (`says` in autograder/corpus.py) are checked on
each seed: "passed" counts seeds where the mistake slipped through (target 0), "named" seeds where the
message named it. Every other item the mistake must not lose is checked too ("collateral", target 0).
The end-to-end convergence items are left to bench/seed_sweep.py and the real-pipeline tests.

    .venv/bin/python bench/mistake_sweep.py --seeds 100
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

from seed_sweep import item_checks  # noqa: E402  (bench/ is on sys.path when run as a script)

from autograder import checks, grading_inputs  # noqa: E402
from autograder.corpus import MISTAKES  # noqa: E402
from autograder.submissions import namespace_of, reference_answers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    reference = reference_answers()
    seeds = range(grading_inputs.DEFAULT_SEED, grading_inputs.DEFAULT_SEED + args.seeds)
    started = time.perf_counter()
    print(f"{'mistake':<26} {'item':<36} {'passed':>8} {'named':>8} {'collateral':>10}")
    totals = {"passed": 0, "named": 0, "checked": 0, "collateral": 0}
    for mistake in MISTAKES:
        items = item_checks(namespace_of({**reference, **mistake.answers}))
        honest = [item for item in items if item not in mistake.loses]
        collateral = 0
        for item, phrase in mistake.says.items():
            passed = named = 0
            for seed in seeds:
                try:
                    items[item](seed)
                    passed += 1
                except checks.GradingFailure as failure:
                    named += phrase in str(failure)
            totals["passed"] += passed
            totals["named"] += named
            totals["checked"] += len(seeds)
            print(f"{mistake.name:<26} {item:<36} {passed:>8} {named:>8}", end="")
        for seed in seeds:
            for item in honest:
                try:
                    items[item](seed)
                except checks.GradingFailure:
                    collateral += 1
        totals["collateral"] += collateral
        print(f" {collateral:>10}", flush=True)
    print(f"\n{len(MISTAKES)} mistakes on {args.seeds} seeds each, {time.perf_counter() - started:.0f} s: "
          f"mistakes passed {totals['passed']} of {totals['checked']} (target 0); diagnosis named "
          f"{totals['named']} of {totals['checked'] - totals['passed']} caught ({totals['named'] / max(1, totals['checked'] - totals['passed']):.1%}); "
          f"honest items failed alongside {totals['collateral']} (target 0)")


if __name__ == "__main__":
    main()
