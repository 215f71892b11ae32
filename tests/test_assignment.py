"""The assignment as nbgrader sees it: the committed release is what the source generates, it reveals
nothing, it keeps the student-facing contract, and nbgrader validates both versions as expected."""
import filecmp
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit.course import Course
from coursekit.submissions import course_root, grade_id, is_solution, reference_answers, source_notebook

ROOT = course_root()
RELEASE = ROOT / "release" / "backprop"
STUDENT_FUNCTIONS = [
    "regression_loss", "make_regression_optimizer", "regression_train_step", "train_regression",
    "classification_loss", "make_classification_optimizer", "classification_train_step", "train_classification",
    "predict",
]


def nbgrader(*args, cwd):
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": bin_dir + ":/usr/bin:/bin", "HOME": str(cwd)})


def test_committed_release_is_what_the_source_generates(tmp_path):
    course = Course.create(tmp_path)
    course.instructor("generate_assignment", "backprop", "--force")
    generated = course.root / "release" / "backprop"
    comparison = filecmp.dircmp(generated, RELEASE)
    assert comparison.left_only == [] and comparison.right_only == [], "regenerate release/ with nbgrader"
    for name in comparison.common_files:
        assert (generated / name).read_bytes() == (RELEASE / name).read_bytes(), (
            f"release/backprop/{name} is stale: run `nbgrader generate_assignment backprop --force`")


def test_release_reveals_no_solution_and_no_hidden_test():
    solution_lines = {line.strip() for answer in reference_answers().values() for line in answer.splitlines()
                      if line.strip() and not line.strip().startswith(("def ", '"""'))}
    for path in RELEASE.iterdir():
        if not path.is_file():  # __pycache__, left by a test that imports the shipped helpers
            continue
        text = path.read_text()
        for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "from autograder", "probe.observe_", "backprop_ref"):
            assert marker not in text, f"{path.name} holds {marker!r}"
        if path.suffix == ".ipynb":
            sources = "\n".join(cell.source for cell in nbformat.read(str(path), as_version=4).cells)
            leaked = [line for line in solution_lines if line in sources]
            assert leaked == [], f"solution lines in the release: {leaked}"


def test_student_api_contract():
    cells = source_notebook().cells
    solutions = [grade_id(c) for c in cells if is_solution(c) and c.cell_type == "code"]
    assert solutions == STUDENT_FUNCTIONS
    for cell in cells:
        if is_solution(cell) and cell.cell_type == "code":
            assert f"def {grade_id(cell)}(" in cell.source
    tests = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade") and not is_solution(c)]
    for cell in tests:
        assert any(grade_id(cell).startswith(f"test_{name}") for name in STUDENT_FUNCTIONS), grade_id(cell)
        assert cell.metadata.nbgrader.locked and cell.metadata.nbgrader.points > 0
    assert {grade_id(c) for c in tests} >= {f"test_{name}" for name in STUDENT_FUNCTIONS}
    written = [c for c in cells if is_solution(c) and c.cell_type == "markdown"]
    assert [grade_id(c) for c in written] == ["explain_classification_optimum"]
    setup = next(c for c in cells if grade_id(c) == "setup")
    assert setup.metadata.nbgrader.locked
    assert "def regression_model(x, A):\n" in setup.source and "return x * A" in setup.source
    assert "def classification_model(x, A):\n" in setup.source and "return x + A" in setup.source
    assert setup.source.index("TF_CPP_MIN_LOG_LEVEL") < setup.source.index("import tensorflow")


def test_grading_config_protects_the_test_cells():
    config = (ROOT / "nbgrader_config.py").read_text()
    assert "c.Execute.skip_cells_with_tag" in config and '"skip-execution"' not in config.split(
        "c.Execute.skip_cells_with_tag")[1].splitlines()[0]
    assert "c.IgnorePattern.enabled = True" in config


READ_CONFIG = """import json, sys
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item
config = PyFileConfigLoader("nbgrader_config.py", path=sys.argv[1]).load_config()
heavy = sorted(m for m in ("tensorflow", "matplotlib", "autograder.verdicts", "autograder.sandbox") if m in sys.modules)
named = [*config.Autograde.sanitize_preprocessors, *config.Autograde.autograde_preprocessors,
         *config.GenerateFeedback.preprocessors, config.Autograde.exporter_class, config.Execute.kernel_manager_class]
print(json.dumps({"heavy": heavy, "not_classes": [n for n in named if not isinstance(import_item(n), type)]}))
"""


def test_reading_the_config_imports_nothing_heavy_and_every_named_step_exists():
    """Every nbgrader command in the course directory reads nbgrader_config.py: TensorFlow loads only where a
    notebook is graded (bench/config_cost.py measures what this saves)."""
    import json

    done = subprocess.run([sys.executable, "-c", READ_CONFIG, str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"heavy": [], "not_classes": []}


@pytest.mark.slow
def test_blank_release_fails_every_test(tmp_path):
    done = nbgrader("validate", "--invert", str(RELEASE / "backprop.ipynb"), cwd=tmp_path)
    assert "Success! The notebook does not pass any tests." in done.stdout, done.stdout + done.stderr


@pytest.mark.slow
def test_source_with_solutions_passes_every_test(tmp_path):
    done = nbgrader("validate", str(ROOT / "source" / "backprop" / "backprop.ipynb"), cwd=tmp_path)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr
