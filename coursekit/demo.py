"""The demo class: the reference solution, a blank notebook and typical mistakes, graded by nbgrader."""
from __future__ import annotations

import time
from pathlib import Path

from .course import Course, StudentResult
from .corpus import BY_NAME, MISTAKES
from .submissions import fill, reference_answers, release_notebook

DEMO_MISTAKES = ("l1_loss", "momentum", "gradient_ascent", "swapped_labels_logits", "threshold_x")


def demo_class(mistakes: tuple[str, ...] = DEMO_MISTAKES) -> dict:
    """Student id -> the notebook that student submits."""
    release, reference = release_notebook(), reference_answers()
    notebooks = {"reference": fill(release, reference), "blank": release}
    for name in mistakes:
        notebooks[name] = fill(release, {**reference, **BY_NAME[name].answers})
    return notebooks


def run_demo(*, directory: Path = Path("demo"), mistakes: tuple[str, ...] = DEMO_MISTAKES, echo=print) -> dict[str, StudentResult]:
    """Release the assignment, submit the demo class as its students, grade it, and print the grades."""
    started = time.perf_counter()
    course = Course.create(directory)
    echo(f"Course in {course.root}; releasing the assignment")
    course.release()
    for student_id, notebook in demo_class(mistakes).items():
        echo(f"  {student_id} fetches, answers and submits")
        course.submit(student_id, notebook)
    echo("Collecting, autograding (autograder grade: every submission in parallel), generating feedback, "
         "exporting grades ...")
    course.grade(parallel=True)
    results = course.results()
    echo(grade_table(results))
    echo(f"\nFeedback (HTML, one per student): {course.root / 'feedback'}/<student>/backprop/backprop.html")
    echo(f"Grades: {course.root / 'grades.csv'}; done in {time.perf_counter() - started:.0f} s")
    return results


def grade_table(results: dict[str, StudentResult]) -> str:
    """One line per student: autograded score, then each lost item with the grader's first words on it."""
    described = {m.name: m.description for m in MISTAKES}
    lines = [f"{'student':<24} {'auto score':>10}  lost items"]
    for student_id, result in results.items():
        lines.append(f"{student_id:<24} {result.auto_score:>5g}/{result.auto_max:<4g}  "
                     f"{', '.join(sorted(result.lost)) or '-'}")
        if student_id in described:
            lines.append(f"{'':<24} {'':>10}  (made: {described[student_id]})")
        for item in sorted(result.lost):
            message = result.messages.get(item, "").splitlines()
            likely = next((line for line in message if line.startswith("Likely mistake")), message[0] if message else "")
            lines.append(f"{'':<24} {'':>10}    {item}: {likely}")
    manual = sorted({item for r in results.values() for item in r.manual})
    if manual:
        lines.append(f"\nGraded by hand, not in the auto score: {', '.join(manual)} (a blank answer scores 0 already)")
    return "\n".join(lines)
