"""`autograder selfcheck`: the CI subset of the corpus graded through nbgrader, the answers whose kernel matters
graded through both grading commands, and the command line."""
import subprocess
import sys

import pytest

from coursekit.cli import main
from coursekit.course import StudentResult
from coursekit.selfcheck import CI_SUBSET, Expectation, Row, Selfcheck, comparison, expectations, run_selfcheck


@pytest.mark.slow
def test_ci_subset_is_graded_as_expected(tmp_path):
    printed = []
    outcome = run_selfcheck(directory=tmp_path / "selfcheck", names=CI_SUBSET, echo=printed.append)
    assert list(outcome.rows) == ["nbgrader"] and outcome.differences == {}
    rows = outcome.rows["nbgrader"]
    assert [row.expectation.name for row in rows] == list(CI_SUBSET)
    assert all(row.ok for row in rows), "\n".join(printed)
    assert f"{len(CI_SUBSET)} of {len(CI_SUBSET)} submissions graded as expected" in printed[-1]
    summary = printed[-2].splitlines()
    assert any("attack-replayed_observation" in line and "TAMPERING" in line and "test_train_regression" in line
               for line in summary), summary


# Correct answers whose grading depends on the kernel's environment: AutoGraph writes the code it converts a
# tf.function to in the temporary directory, and a compiled function's trace lives on from cell to cell;
# tf.print writes to stderr.
KERNEL_MATTERS = ("reference", "idiom:compiled_gradient_helper", "idiom:compiled_loops", "idiom:tf_print_progress")


@pytest.mark.slow
def test_correct_answers_score_full_marks_and_alike_through_both_commands(tmp_path):
    """A kernel forked by `autograder grade` grades as a freshly started one under `nbgrader autograde` does."""
    printed = []
    outcome = run_selfcheck(directory=tmp_path / "selfcheck", names=KERNEL_MATTERS, via="both", echo=printed.append)
    print("\n".join(printed))  # shown by pytest when the test fails (or with -rP)
    assert list(outcome.rows) == ["nbgrader", "grade"]
    assert all([row.expectation.name for row in rows] == list(KERNEL_MATTERS) for rows in outcome.rows.values())
    assert outcome.differences == {}, "\n".join(printed)
    assert printed[-1].splitlines()[-1] == (f"{len(KERNEL_MATTERS)} of {len(KERNEL_MATTERS)} submissions scored the "
                                            "same on every item under nbgrader autograde and autograder grade")
    lost = {(command, row.expectation.name): {item: row.result.messages.get(item) for item in sorted(row.result.lost)}
            for command, rows in outcome.rows.items() for row in rows if row.result.lost}
    assert lost == {}, "\n".join(printed)
    assert all(row.result.items and row.result.auto_score == row.result.auto_max
               for rows in outcome.rows.values() for row in rows)
    assert outcome.ok


def test_comparison_names_every_item_scored_differently():
    def row(name, b, message=""):
        return Row(Expectation(name, None, frozenset()),
                   StudentResult(name, {"test_a": (2.0, 2.0), "test_b": (b, 1.0)},
                                 messages={"test_b": message} if message else {}))
    outcome = Selfcheck({"nbgrader": [row("x", 1.0), row("y", 1.0)],
                         "grade": [row("x", 1.0), row("y", 0.0, "AssertionError: wrong\nmore")]}, {}, {})
    assert outcome.differences == {"y": {"test_b": {"nbgrader": 1.0, "grade": 0.0}}} and not outcome.ok
    assert comparison(outcome).splitlines() == [
        "Scores that differ between nbgrader autograde and autograder grade, item by item:",
        "  y",
        "    test_b: 1 of 1 under nbgrader autograde; 0 of 1 under autograder grade (AssertionError: wrong)",
        "1 of 2 submissions scored the same on every item under nbgrader autograde and autograder grade"]


def test_corpus_is_large_and_names_are_unique(tmp_path):
    names = [e.name for e in expectations(tmp_path)]
    assert len(names) == len(set(names))
    assert sum(name.startswith("mistake:") for name in names) >= 20
    assert sum(name.startswith("attack:") for name in names) >= 20
    assert set(CI_SUBSET) <= set(names)


def test_unknown_entry_is_refused_before_anything_runs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["selfcheck", "--dir", str(tmp_path / "x"), "--only", "mistake:no_such_thing"])
    assert exit_.value.code == 2
    assert "not in the corpus: mistake:no_such_thing" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_list_prints_the_corpus(tmp_path):
    done = subprocess.run([sys.executable, "-m", "coursekit", "selfcheck", "--list", "--dir", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert "mistake:l1_loss" in done.stdout.splitlines() and "attack:fork_bomb" in done.stdout.splitlines()


def test_a_known_submission_with_a_field_missing_or_unknown_is_refused_naming_its_file(tmp_path, monkeypatch):
    from coursekit import corpus

    monkeypatch.setattr(corpus, "KNOWN", tmp_path)
    (tmp_path / "mistakes").mkdir()
    good = 'description = "x"\nloses = ["test_predict"]\n\n[answers]\npredict = \'\'\'\ndef predict(x_vals, A):\n    return 0\n\'\'\'\n'
    (tmp_path / "mistakes" / "good.toml").write_text(good)
    assert corpus._answers(corpus._load("mistakes")["good"]) == {"predict": "def predict(x_vals, A):\n    return 0"}
    (tmp_path / "mistakes" / "typo.toml").write_text(good.replace("loses", "looses"))
    with pytest.raises(ValueError, match=r"typo\.toml: fields \['answers', 'description', 'looses'\]"):
        corpus._load("mistakes")
