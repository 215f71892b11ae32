"""`autograder selfcheck`: grade known submissions through the real pipeline and compare with what they
must score: the reference, a blank notebook, correct answers in other idioms, typical mistakes and attacks.

Each submission has an expectation (the items it must lose, and the phrase each failure must say); the
self-check prints a confusion table, item by item: expected vs got, and the diagnosis given.

It grades through plain `nbgrader autograde` (`via="nbgrader"`), `autograder grade` (`via="grade"`), or both
(`via="both"`: the same course graded by one, then again by the other), and then lists every item the two
scored differently.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from .corpus import ATTACKS, IDIOMS, MISTAKES
from .course import Course, StudentResult
from .submissions import fill, reference_answers, release_notebook

# Small enough for CI: one of each kind of outcome (a late check among them), and the tampering the kernel cannot hide from the judge
# (the attacks on what lies outside the kernel are graded in tests/test_containment.py).
CI_SUBSET = ("reference", "blank", "idiom:tf_function_steps", "mistake:tf_nn_l2_loss",
             "mistake:resampled_indices", "mistake:probabilities_returned", "attack:numpy_patched",
             "mistake:steps_share_rebound_names", "attack:probe_module_replaced", "attack:replayed_observation",
             "attack:clears_failing_outputs")


@dataclass(frozen=True)
class Expectation:
    name: str
    notebook: NotebookNode
    loses: frozenset[str] | None  # None: every item
    says: dict[str, str] = field(default_factory=dict)


def expectations(course_root: Path, names: tuple[str, ...] | None = None) -> list[Expectation]:
    """The corpus as submissions with expected outcomes, in a fixed order; `names` picks some."""
    release, reference = release_notebook(), reference_answers()
    corpus = [Expectation("reference", fill(release, reference), frozenset()),
              Expectation("blank", release, None)]
    corpus += [Expectation(f"idiom:{name}", fill(release, {**reference, **answers}), frozenset())
               for name, answers in IDIOMS.items()]
    corpus += [Expectation(f"mistake:{m.name}", fill(release, {**reference, **m.answers}), m.loses, m.says)
               for m in MISTAKES]
    corpus += [Expectation(f"attack:{a.name}", a.notebook(release, reference, course_root), a.loses, a.says)
               for a in ATTACKS]
    if names is None:
        return corpus
    by_name = {e.name: e for e in corpus}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise KeyError(f"not in the corpus: {', '.join(unknown)}")
    return [by_name[name] for name in names]


def student_id(name: str) -> str:
    """nbgrader student ids cannot hold ':'; the exchange uses '+' as a separator."""
    return name.replace(":", "-")


@dataclass
class Row:
    expectation: Expectation
    result: StudentResult

    @property
    def expected(self) -> set[str]:
        loses = self.expectation.loses
        return set(self.result.items) if loses is None else set(loses)

    @property
    def diagnoses_given(self) -> dict[str, bool]:
        return {item: phrase in self.result.messages.get(item, "") for item, phrase in self.expectation.says.items()}

    @property
    def ok(self) -> bool:
        return self.result.lost == self.expected and all(self.diagnoses_given.values())


# The grading commands a self-check can go through, and what each is called in what it prints.
COMMANDS = {"nbgrader": "nbgrader autograde", "grade": "autograder grade"}
VIAS = {"nbgrader": ("nbgrader",), "grade": ("grade",), "both": ("nbgrader", "grade")}


@dataclass
class Selfcheck:
    """What a self-check found, by grading command ("nbgrader", "grade"), in the order they graded."""

    rows: dict[str, list[Row]]  # the same submissions, in the same order, under each command
    problems: dict[str, list[str]]  # each command's autograde log summary
    seconds: dict[str, float]  # each command's grading time (collect, autograde, feedback, export)

    @property
    def differences(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """Submission -> item -> command -> score, for every item whose score differs between the commands
        (None: the item has no score under that command). Empty with a single command."""
        found: dict[str, dict[str, dict[str, float | None]]] = {}
        if len(self.rows) < 2:
            return found
        for rows in zip(*self.rows.values()):
            results = {via: row.result for via, row in zip(self.rows, rows)}
            for item in sorted({item for result in results.values() for item in result.items}):
                scores = {via: result.items[item][0] if item in result.items else None
                          for via, result in results.items()}
                if len(set(scores.values())) > 1:
                    found.setdefault(rows[0].expectation.name, {})[item] = scores
        return found

    @property
    def ok(self) -> bool:
        """Every submission graded as expected under every command, and alike under both."""
        return all(row.ok for rows in self.rows.values() for row in rows) and not self.differences


def run_selfcheck(*, directory: Path = Path("selfcheck"), names: tuple[str, ...] | None = CI_SUBSET,
                  via: str = "nbgrader", echo=print) -> Selfcheck:
    """Grade the chosen corpus entries with the real nbgrader commands, through `via` ("nbgrader": plain
    `nbgrader autograde`, "grade": `autograder grade`, "both": one then the other, on the same course), and
    print the confusion table of each; with both, print every item they scored differently."""
    course = Course.create(directory)
    chosen = expectations(course.root, names)
    course.release()
    for expectation in chosen:
        course.submit(student_id(expectation.name), expectation.notebook, via_exchange=False)
    outcome = Selfcheck({}, {}, {})
    for index, command in enumerate(VIAS[via]):
        started = time.perf_counter()
        # The second command grades what the first graded: --force, or it would skip it all.
        problems = course.grade(parallel=command == "grade", force=index > 0)
        results = course.results()
        outcome.seconds[command] = time.perf_counter() - started
        outcome.rows[command] = rows = [Row(e, results[student_id(e.name)]) for e in chosen]
        outcome.problems[command] = problems
        echo(f"Graded through {COMMANDS[command]}:")
        echo(confusion_table(rows))
        echo("\n".join(["The autograde log's summary (bad input, dead kernels, limits, tampering):", *problems]))
        echo(f"{sum(r.ok for r in rows)} of {len(rows)} submissions graded as expected under {COMMANDS[command]}, "
             f"{outcome.seconds[command]:.0f} s")
    if len(outcome.rows) > 1:
        echo(comparison(outcome))
    return outcome


def comparison(outcome: Selfcheck) -> str:
    """Every submission scored differently by the commands, item by item (with what each failure said), then
    how many scored the same on every item."""
    commands = " and ".join(COMMANDS[command] for command in outcome.rows)
    differences = outcome.differences
    lines = [f"Scores that differ between {commands}, item by item:" if differences else
             f"No item scored differently under {commands}."]
    for name, items in differences.items():
        lines.append(f"  {name}")
        for item, scores in items.items():
            said = []
            for command, score in scores.items():
                result = next(row.result for row in outcome.rows[command] if row.expectation.name == name)
                maximum = result.items.get(item, (None, None))[1]
                text = "no score" if score is None else f"{score:g} of {maximum:g}"
                message = result.messages.get(item, "").splitlines()
                said.append(f"{text} under {COMMANDS[command]}" + (f" ({message[0]})" if message else ""))
            lines.append(f"    {item}: " + "; ".join(said))
    total = len(next(iter(outcome.rows.values())))
    lines.append(f"{total - len(differences)} of {total} submissions scored the same on every item under {commands}")
    return "\n".join(lines)


def confusion_table(rows: list[Row]) -> str:
    """Item by item: which items each submission was expected to lose, which it lost, what it was told."""
    items = sorted({item for row in rows for item in row.result.items})
    width = max(len(row.expectation.name) for row in rows)
    lines = ["expected to lose: x, lost: X, both: #, neither: .; then the diagnosis check",
             " " * (width + 2) + " ".join(f"{i:>2}" for i in range(len(items)))]
    for row in rows:
        marks = []
        for item in items:
            expected, lost = item in row.expected, item in row.result.lost
            marks.append({(True, True): " #", (True, False): " x", (False, True): " X", (False, False): " ."}[(expected, lost)])
        diagnosis = ("named" if all(row.diagnoses_given.values()) else "NOT NAMED") if row.diagnoses_given else ""
        lines.append(f"{row.expectation.name:<{width}}  {' '.join(marks)}  {'ok' if row.ok else 'MISMATCH'} {diagnosis}")
        for item in sorted(row.result.lost | row.expected):
            message = row.result.messages.get(item, "").splitlines()
            said = next((line for line in message if line.startswith("Likely mistake")), message[0] if message else "")
            if item in row.expectation.says or not row.ok:
                lines.append(f"{'':<{width}}    {item}: {said}")
    lines.append("items: " + ", ".join(f"{i}={item}" for i, item in enumerate(items)))
    return "\n".join(lines)
