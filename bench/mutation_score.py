"""How strong are the grader's checks? Mutation testing: break the reference solution one small thing at a
time and see whether grading notices.

1. Mutants: every solution cell of the reference, mutated with `ast`, one mutation each (bench/mutants.py:
   constants, operators, comparisons, slices and ranges off by one, arguments swapped, keywords dropped,
   calls unwrapped, statements dropped or repeated, other return values, sibling functions, optimizers).
2. Mutants that do not compile are dropped, and so are equivalent ones: those that behave as the reference
   on a battery of seeded inputs written from the notebook's contract (bench/mutants.py, independent of
   the grader's checks), within float32 rounding.
3. Every other mutant is graded as grading does (`coursekit.submissions.run_in_process`: the whole
   notebook, the hidden checks judged as in real grading), in --jobs worker processes that each import
   TensorFlow once and grade one mutant at a time (run_in_process changes module state).
4. The report: per item, the mutation score (killed / graded, killed meaning the mutant lost its own cell's
   item), how many the end-to-end item caught, and every surviving mutant with its diff and the items it
   passed. Written to bench/results/mutation_score.txt (by this script only) and printed. Everything is
   seeded and the report holds no timings, so the same code gives the same report; times are printed after.

    .venv/bin/python bench/mutation_score.py                # every mutant; about 10 s per mutant per job
    .venv/bin/python bench/mutation_score.py --limit 40     # 40 mutants, spread over the cells
    .venv/bin/python bench/mutation_score.py --cells predict,regression_loss --jobs 2
"""
from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import multiprocessing
import os
import random
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "MPLBACKEND": "Agg"}  # as grading runs
for _name, _value in QUIET.items():
    os.environ.setdefault(_name, _value)  # before TensorFlow is imported; the workers inherit it

from mutants import BATTERIES, CELLS, Mutant, behaviour, compiles, difference, mutants_of  # noqa: E402
from provenance import RESULTS, measured_at  # noqa: E402

from coursekit.submissions import namespace_of, reference_answers, run_in_process  # noqa: E402

REPORT = RESULTS / "mutation_score.txt"


def own_item(cell: str) -> str:
    return f"test_{cell}"


def end_to_end_item(cell: str) -> str:
    return f"test_train_{BATTERIES[cell][1]}_converges"


# --- the worker processes: TensorFlow imported once, one mutant at a time ----------------------------------

_worker: dict = {}


def _start_worker(seed: int) -> None:
    """Import TensorFlow quietly and define the reference's functions, once per process."""
    warnings.simplefilter("ignore")  # Keras's warnings about mutants' missing gradients
    reference = reference_answers()
    with contextlib.redirect_stdout(io.StringIO()):
        namespace = namespace_of(reference)
    _worker.update(seed=seed, reference=reference, namespace=namespace, behaviours={})


def _reference_behaviour(cell: str) -> list:
    """The reference's observations on the battery, made twice: a battery that is not deterministic
    could call any mutant different, so it stops the run."""
    if cell not in _worker["behaviours"]:
        runs = [list(behaviour(cell, _worker["reference"][cell], _worker["namespace"], _worker["seed"]))
                for _ in "ab"]
        if difference(*runs) is not None:
            raise RuntimeError(f"the battery of {cell} is not deterministic: it differs at {difference(*runs)}")
        _worker["behaviours"][cell] = runs[0]
    return _worker["behaviours"][cell]


def _screen(mutant: Mutant) -> str | None:
    """None if the mutant is equivalent to the reference; else the first observation where it differs."""
    observations = behaviour(mutant.cell, mutant.source, _worker["namespace"], _worker["seed"])
    return difference(observations, _reference_behaviour(mutant.cell))


def _failure(error: BaseException) -> str:
    line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {line[:150]}"


def _grade(changes: dict[str, str]) -> tuple[dict[str, str | None], float]:
    """Each item's outcome (None: passed, else why it failed) for the reference with `changes`, and the
    seconds run_in_process took."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the notebook's own prints
        outcomes = run_in_process({**_worker["reference"], **changes})
    seconds = time.perf_counter() - started
    return {item: None if error is None else _failure(error) for item, error in outcomes.items()}, seconds


# --- the run -----------------------------------------------------------------------------------------------

@dataclass
class Graded:
    mutant: Mutant
    outcomes: dict[str, str | None]
    seconds: float

    @property
    def killed(self) -> bool:
        return self.outcomes[own_item(self.mutant.cell)] is not None

    @property
    def caught_end_to_end(self) -> bool:
        return self.outcomes[end_to_end_item(self.mutant.cell)] is not None


def _sample(mutants: list[Mutant], limit: int | None, seed: int) -> list[Mutant]:
    """All of them, or `limit` spread evenly over the cells: round robin over each cell's mutants in a
    seeded shuffle, so a small run still scores every cell. Returned in generation order."""
    if limit is None or limit >= len(mutants):
        return mutants
    rng = random.Random(seed)
    by_cell: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_cell.setdefault(mutant.cell, []).append(mutant)
    for cell_mutants in by_cell.values():
        rng.shuffle(cell_mutants)
    rounds = itertools.zip_longest(*by_cell.values())
    chosen = set([mutant for row in rounds for mutant in row if mutant is not None][:limit])
    return [mutant for mutant in mutants if mutant in chosen]


def _screen_all(pool: ProcessPoolExecutor, mutants: list[Mutant]) -> dict[Mutant, str | None]:
    started = time.perf_counter()
    print(f"screening {len(mutants)} mutants for equivalence ...", flush=True)
    differences = dict(zip(mutants, pool.map(_screen, mutants, chunksize=4)))
    equivalent = sum(difference is None for difference in differences.values())
    print(f"  {equivalent} equivalent, {len(mutants) - equivalent} not ({time.perf_counter() - started:.0f} s)",
          flush=True)
    return differences


def _check_reference(outcomes: dict[str, str | None]) -> None:
    """A reference that loses an item would make every mutant look killed: stop rather than report that."""
    lost = {item: why for item, why in outcomes.items() if why is not None}
    if lost:
        sys.exit("the reference itself loses points, so no score means anything:\n"
                 + "\n".join(f"  {item}: {why}" for item, why in lost.items()))


def _grade_all(pool: ProcessPoolExecutor, mutants: list[Mutant]) -> list[Graded]:
    """Grade every mutant, printing one line each as it finishes; returned in the order given."""
    futures = {pool.submit(_grade, {mutant.cell: mutant.source}): mutant for mutant in mutants}
    graded: dict[Mutant, Graded] = {}
    started = time.perf_counter()
    for done, future in enumerate(as_completed(futures), 1):
        mutant = futures[future]
        graded[mutant] = Graded(mutant, *future.result())
        verdict = "killed" if graded[mutant].killed else "SURVIVED"
        print(f"  [{done:>{len(str(len(mutants)))}}/{len(mutants)}] {verdict:<8} {mutant.name} "
              f"({graded[mutant].seconds:.1f} s; {time.perf_counter() - started:.0f} s elapsed)", flush=True)
    return [graded[mutant] for mutant in mutants]


# --- the report --------------------------------------------------------------------------------------------

def _fraction(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "-"


def _row(label: str, item: str, made: int, broken: int, equivalent: int, results: list[Graded]) -> str:
    killed = sum(result.killed for result in results)
    caught = sum(result.caught_end_to_end for result in results)
    return (f"{label:<30} {item:<36} {made:>5} {broken:>10} {equivalent:>10} {len(results):>6} "
            f"{_fraction(killed, len(results)):>15} {_fraction(caught, len(results)):>18}")


def _table(cells: list[str], made: dict[str, list[Mutant]], broken: list[Mutant], equivalent: list[Mutant],
           graded: list[Graded]) -> list[str]:
    """One row per cell (its own item's score) and the overall row."""
    header = (f"{'cell':<30} {'item':<36} {'made':>5} {'no compile':>10} {'equivalent':>10} {'graded':>6} "
              f"{'score (killed)':>15} {'end-to-end caught':>18}")
    rows = [_row(cell, own_item(cell), len(made[cell]), sum(m.cell == cell for m in broken),
                 sum(m.cell == cell for m in equivalent), [g for g in graded if g.mutant.cell == cell])
            for cell in cells]
    overall = _row("overall", "", sum(len(made[cell]) for cell in cells), len(broken), len(equivalent), graded)
    return [header, "-" * len(header), *rows, overall]


def report(args: argparse.Namespace, reference: dict[str, str], cells: list[str], made: dict[str, list[Mutant]],
           broken: list[Mutant], differences: dict[Mutant, str | None], graded: list[Graded]) -> str:
    equivalent = [mutant for mutant, difference in differences.items() if difference is None]
    non_equivalent = len(differences) - len(equivalent)
    sampled = (f" (--limit {args.limit}: spread over the cells, seed {args.seed}; the scores are of that sample)"
               if len(graded) < non_equivalent else "")
    lines = [
        f"Mutation score of the grader's checks: bench/mutation_score.py --seed {args.seed}"
        + (f" --limit {args.limit}" if args.limit is not None else "")
        + (f" --cells {','.join(cells)}" if cells != list(CELLS) else "") + f", {measured_at()}",
        "",
        "A mutant changes one thing in one solution cell of the reference (bench/mutants.py). It is graded as",
        "grading does (run_in_process: the whole notebook, the hidden checks judged) and killed if it loses",
        "its own cell's item. score = killed / graded; end-to-end caught: it lost its example's convergence",
        "item. Equivalent: behaves as the reference on the bench's own battery of inputs; not graded.",
        f"Graded {len(graded)} of {non_equivalent} non-equivalent mutants{sampled}.",
        "The reference loses no item.",
        "",
        *_table(cells, made, broken, equivalent, graded),
        "",
        f"Surviving mutants ({sum(not g.killed for g in graded)}): passed their own item",
    ]
    for result in graded:
        if not result.killed:
            lines += _survivor(result, reference)
    lines += ["", "Graded mutants: own item, end-to-end item",
              *(f"  {'killed' if g.killed else 'SURVIVED':<9} {'caught' if g.caught_end_to_end else 'passed':<7} "
                f"{g.mutant.name}" for g in graded)]
    lines += ["", f"Equivalent mutants dropped ({len(equivalent)}):", *(f"  {m.name}" for m in equivalent)]
    if broken:
        lines += ["", f"Mutants that do not compile ({len(broken)}):", *(f"  {m.name}" for m in broken)]
    return "\n".join(lines) + "\n"


def _survivor(result: Graded, reference: dict[str, str]) -> list[str]:
    mutant = result.mutant
    passed = [item for item in (own_item(mutant.cell), end_to_end_item(mutant.cell)) if result.outcomes[item] is None]
    lost = [f"{item} ({why})" for item, why in result.outcomes.items() if why is not None]
    return [f"  {mutant.name}",
            *(f"      {line}" for line in mutant.diff(reference[mutant.cell])),
            f"      passed: {', '.join(passed)}",
            f"      lost: {'; '.join(lost) or 'nothing'}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--limit", type=int, help="grade at most this many non-equivalent mutants")
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated solution cells (default all)")
    parser.add_argument("--seed", type=int, default=0, help="the battery's inputs and the --limit sample")
    args = parser.parse_args()
    cells = [cell for cell in args.cells.split(",") if cell]
    unknown = set(cells) - set(CELLS)
    if unknown:
        parser.error(f"unknown cells {sorted(unknown)}; the cells are {', '.join(CELLS)}")

    started = time.perf_counter()
    reference = reference_answers()
    made = {cell: mutants_of(cell, reference[cell]) for cell in cells}
    print("mutants made: " + ", ".join(f"{cell} {len(made[cell])}" for cell in cells), flush=True)
    candidates = [mutant for cell in cells for mutant in made[cell]]
    broken = [mutant for mutant in candidates if not compiles(mutant)]
    candidates = [mutant for mutant in candidates if mutant not in broken]

    context = multiprocessing.get_context("spawn")  # fresh processes: no state but what the initializer makes
    with ProcessPoolExecutor(args.jobs, mp_context=context, initializer=_start_worker, initargs=(args.seed,)) as pool:
        reference_run = pool.submit(_grade, {})
        differences = _screen_all(pool, candidates)
        _check_reference(reference_run.result()[0])
        non_equivalent = [mutant for mutant in candidates if differences[mutant] is not None]
        chosen = _sample(non_equivalent, args.limit, args.seed)
        print(f"grading {len(chosen)} mutants on {args.jobs} workers ...", flush=True)
        grading_started = time.perf_counter()
        graded = _grade_all(pool, chosen)
        grading_seconds = time.perf_counter() - grading_started

    text = report(args, reference, cells, made, broken, differences, graded)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text)
    print("\n" + text)
    if graded:
        print(f"time: grading {len(graded)} mutants took {grading_seconds:.0f} s on {args.jobs} workers, "
              f"{grading_seconds / len(graded):.1f} s per mutant; run_in_process alone "
              f"{sum(g.seconds for g in graded) / len(graded):.1f} s per mutant per worker; "
              f"whole run {time.perf_counter() - started:.0f} s. Report: {REPORT}")


if __name__ == "__main__":
    main()
