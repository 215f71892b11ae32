"""What `autograder grade` shows: a bar on a terminal, a line per submission otherwise, the summary."""
import io
import logging

from autograder.coordinator import Outcome
from autograder.progress import Progress, summary

CLASS = [Outcome("alice", "graded", 3.0, 17.0, 21.0), Outcome("bob", "failed", 4.0, reason="the grading worker died twice"),
         Outcome("carol", "graded", 2.5, 21.0, 21.0)]


def test_a_terminal_gets_one_bar_redrawn_with_rate_and_eta():
    screen = io.StringIO()
    progress = Progress(4, stream=screen, interactive=True)
    progress.started -= 90  # as if grading began a minute and a half ago
    for outcome in CLASS:
        progress.done(outcome)
    drawn = screen.getvalue().split("\r")[1:]
    assert len(drawn) == 3 and "\n" not in "".join(drawn)  # redrawn in place
    assert drawn[-1].startswith("[" + "#" * 18 + "." * 6 + "] 3/4, 1 failed  2.0/min  elapsed 1:30  ETA 0:30"), drawn


def test_log_lines_print_above_the_bar():
    screen = io.StringIO()
    progress = Progress(2, stream=screen, interactive=True)
    progress.done(CLASS[0])
    progress.handler.handle(logging.LogRecord("grade", logging.WARNING, "", 0, "Student bob: a warning", (), None))
    after_warning = screen.getvalue().rsplit("Student bob: a warning\n", 1)[1]
    assert after_warning.startswith("\r[") and "1/2" in after_warning


def test_elsewhere_one_plain_line_per_submission():
    log = io.StringIO()
    progress = Progress(3, stream=log, interactive=False)
    for outcome in CLASS:
        progress.done(outcome)
    assert log.getvalue().splitlines() == [
        "[1/3] alice: graded 17/21 (3.0 s)",
        "[2/3] bob: failed the grading worker died twice (4.0 s)",
        "[3/3] carol: graded 21/21 (2.5 s)",
    ]


def test_the_summary_counts_and_says_why_each_failed():
    text = summary([*CLASS, Outcome("dave", "skipped"), Outcome("erin", "interrupted", reason="cancelled")], 61.0, 2)
    assert "graded           2" in text and "skipped          1" in text and "failed           1" in text
    assert "interrupted      1" in text and "1:01" in text and "30.5 s per graded submission" in text
    assert [line.split()[:2] for line in text.splitlines()[-2:]] == [["bob", "failed"], ["erin", "interrupted"]]
