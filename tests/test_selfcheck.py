"""`autograder selfcheck`: the CI subset of the corpus graded through nbgrader, and the command line."""
import subprocess
import sys

import pytest

from autograder.cli import main
from autograder.selfcheck import CI_SUBSET, expectations, run_selfcheck


@pytest.mark.slow
def test_ci_subset_is_graded_as_expected(tmp_path):
    printed = []
    rows = run_selfcheck(directory=tmp_path / "selfcheck", names=CI_SUBSET, echo=printed.append)
    assert [row.expectation.name for row in rows] == list(CI_SUBSET)
    assert all(row.ok for row in rows), "\n".join(printed)
    assert f"{len(CI_SUBSET)} of {len(CI_SUBSET)} submissions graded as expected" in printed[-1]
    summary = printed[-2].splitlines()
    assert any("attack-replayed_observation" in line and "TAMPERING" in line and "test_train_regression" in line
               for line in summary), summary


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
    done = subprocess.run([sys.executable, "-m", "autograder", "selfcheck", "--list", "--dir", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert "mistake:l1_loss" in done.stdout.splitlines() and "attack:fork_bomb" in done.stdout.splitlines()
