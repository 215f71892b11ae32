"""Submissions with a known outcome: correct answers in other idioms, typical mistakes (both data files under
`known/`, one per submission: `full_marks/` and `mistakes/`), and attacks (code: they edit the notebook too).

Each entry replaces whole solution cells of the reference answers. An idiom must score full marks: what is
graded is behaviour, never spelling. `loses` is every test item it must score 0 on (all other
items keep their points); `says` is a phrase the failing check's message must contain. The demo class,
the tests and the benchmarks all grade these.
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from .submissions import fill


@dataclass(frozen=True)
class Mistake:
    name: str
    description: str
    answers: dict[str, str]
    loses: frozenset[str]
    says: dict[str, str] = field(default_factory=dict)  # test item -> phrase its failure message holds


KNOWN = Path(__file__).resolve().parent / "known"  # one TOML file per known submission, by expected outcome


def _answers(data: dict) -> dict[str, str]:
    """A file's solution cells (grade_id -> source), each written as a TOML multi-line string."""
    return {grade_id: source.removesuffix("\n") for grade_id, source in data["answers"].items()}


FIELDS = {"full_marks": ({"description", "answers"}, set()),  # outcome -> (required fields, optional ones)
          "mistakes": ({"description", "answers", "loses"}, {"says"})}


def _load(outcome: str) -> dict[str, dict]:
    """Every file of one outcome, by name; a file with a field missing or unknown is refused, naming it."""
    required, optional = FIELDS[outcome]
    loaded = {}
    for path in sorted((KNOWN / outcome).glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if not required <= set(data) <= required | optional:
            raise ValueError(f"{path}: fields {sorted(data)}; {outcome} files have {sorted(required)}"
                             + (f" and may have {sorted(optional)}" if optional else ""))
        loaded[path.stem] = data
    return loaded


# Typical mistakes (known/mistakes/): each loses exactly its `loses` items.
MISTAKES = [Mistake(name, data["description"], _answers(data), frozenset(data["loses"]), data.get("says", {}))
            for name, data in _load("mistakes").items()]
BY_NAME = {m.name: m for m in MISTAKES}

# Correct answers written differently from the reference (known/full_marks/): each must keep every point.
IDIOMS: dict[str, dict[str, str]] = {name: _answers(data) for name, data in _load("full_marks").items()}


@dataclass(frozen=True)
class Attack:
    """A hostile or broken submission: what it tries, and the items it must lose (the rest keep their points).

    Answers may name `{course_root}`, the course directory the attack aims at; `edit` changes the notebook's
    structure (cells deleted, duplicated, retagged).
    """

    name: str
    description: str
    answers: dict[str, str] = field(default_factory=dict)
    loses: frozenset[str] = frozenset()
    edit: Callable[[NotebookNode], None] | None = None
    blank: bool = False  # built on the blank notebook instead of the reference answers
    says: dict[str, str] = field(default_factory=dict)  # test item -> phrase its failure message holds

    def notebook(self, release: NotebookNode, reference: dict[str, str], course_root: Path) -> NotebookNode:
        """The submission: the reference answers (or none), this attack's cells, and its edits."""
        base = {} if self.blank else reference
        answers = {grade_id: text.replace("{reference}", reference[grade_id]).replace("{course_root}", str(course_root))
                   for grade_id, text in self.answers.items()}
        notebook = fill(release, {**base, **answers})
        if self.edit:
            self.edit(notebook)
        return notebook


def _after(grade_id: str, code: str) -> dict[str, str]:
    """The reference answer of a solution cell, followed by `code` in the same cell."""
    return {grade_id: "{reference}\n" + code}


def _delete_cell(grade_id: str) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return edit


def _duplicate_cell(grade_id: str) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        index = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        notebook.cells.insert(index, copy.deepcopy(notebook.cells[index]))
    return edit


def _cell_index(notebook: NotebookNode, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _edit_cell(grade_id: str, change: Callable[[NotebookNode], None]) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        change(notebook.cells[_cell_index(notebook, grade_id)])
    return edit


def _move_before(grade_id: str, other: str) -> Callable[[NotebookNode], None]:
    def edit(notebook: NotebookNode) -> None:
        cell = notebook.cells.pop(_cell_index(notebook, grade_id))
        notebook.cells.insert(_cell_index(notebook, other), cell)
    return edit


def _replayed_observation(notebook: NotebookNode) -> None:
    """After train_regression, a cell that makes the probe report the reference loop's observation for the
    course's grading seed, computed here beforehand (what a student who had the grader's code could do)."""
    import json

    from backprop_ref import tf2

    from autograder import probe
    from autograder.grading_inputs import DEFAULT_SEED

    replay = json.dumps(probe.observe_train_loop("regression", tf2.train_regression, DEFAULT_SEED))
    notebook.cells.insert(_cell_index(notebook, "train_regression") + 1, new_code_cell(
        "import json\nimport autograder.probe as _probe\n"
        f"_replay = json.loads({replay!r})\n"
        "def _forged(*args, **kwargs):\n    _probe.publish(_replay)\n    return _replay\n"
        "_probe.observe_train_loop = _forged"))


_CLASSIFICATION_TAIL = frozenset({"test_predict", "test_train_classification_converges"})
ALL_TESTS = frozenset({
    "test_regression_loss", "test_make_regression_optimizer", "test_regression_train_step", "test_train_regression",
    "test_train_regression_converges", "test_classification_loss", "test_make_classification_optimizer",
    "test_classification_train_step", "test_train_classification", "test_predict", "test_train_classification_converges",
})


def _empty_test_cells(notebook: NotebookNode) -> None:
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            cell.source = "pass"

ATTACKS = [
    Attack(
        "deletes_course", "deletes the gradebook, every submission and the source, and walks up from its cwd "
        "deleting what it can; reads the gradebook and the hidden tests if it can",
        _after("regression_loss", (
            "import os, shutil\n"
            "for _target in ['{course_root}/gradebook.db', '{course_root}/submitted', '{course_root}/autograded',\n"
            "                '{course_root}/source', '{course_root}/release', '{course_root}/CANARY.txt']:\n"
            "    try:\n"
            "        print('LEAK', open(_target, 'rb').read(64))\n"
            "    except OSError:\n"
            "        pass\n"
            "    shutil.rmtree(_target, ignore_errors=True)\n"
            "    try:\n"
            "        os.remove(_target)\n"
            "    except OSError:\n"
            "        pass\n"
            "_here = os.getcwd()\n"
            "for _ in range(6):\n"
            "    _here = os.path.dirname(_here)\n"
            "    for _name in os.listdir(_here) if os.access(_here, os.R_OK) else []:\n"
            "        shutil.rmtree(os.path.join(_here, _name), ignore_errors=True)\n")),
    ),
    Attack(
        "memory_bomb", "allocates 256 MiB after 256 MiB until memory runs out: a MemoryError, and the machine is "
        "untouched; it lets go of what it took before the error leaves the cell, so what the later cells can "
        "still allocate does not hang on how much the bomb got (a forked kernel and a fresh one differ there)",
        _after("predict", "def _bomb():\n    hog = []\n    try:\n        while True:\n            hog.append(bytearray(2**28))\n"
                          "    except MemoryError:\n        hog.clear()\n        raise\n_bomb()"),
        frozenset(),
    ),
    Attack("kernel_exit", "the kernel process exits in the predict cell",
           _after("predict", "import os\nos._exit(1)"), _CLASSIFICATION_TAIL),
    Attack("forged_signature", "signs the kernel's messages with another key from the predict cell on, as a kernel "
           "whose state is corrupt would: the grader stops trusting it ('the kernel stopped answering properly')",
           _after("predict", "get_ipython().kernel.session.key = b'not the key'\nprint('signed with another key')"),
           _CLASSIFICATION_TAIL),
    Attack(
        "fork_bomb", "forks until the system says no; the children exit but are never reaped. The kernel goes on: "
        "every thread the later cells use already exists, so it loses nothing, and nothing else is harmed",
        _after("predict", (
            "import os, time\n"
            "try:\n"
            "    while True:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(3)\n"
            "            os._exit(0)\n"
            "except OSError as error:\n"
            "    print('fork stopped:', error)\n"
            "time.sleep(5)")),
        frozenset(),
    ),
    Attack(
        "infinite_loop", "train_regression never returns",
        {"train_regression": "def train_regression(x_vals, y_vals, A, optimizer, indices):\n    while True:\n        pass"},
        frozenset({"test_train_regression", "test_train_regression_converges"}),
    ),
    Attack("deleted_test_cell", "deletes the test cell of predict", edit=_delete_cell("test_predict")),
    Attack("deleted_test_after_given_cell", "deletes the regression's end-to-end test cell, which follows the "
           "given demo (nbgrader's own OverwriteCells fails on that: the submission went ungraded)",
           edit=_delete_cell("test_train_regression_converges")),
    Attack(
        "shadowed_builtins_blank", "a blank notebook that shadows the names tests use (len, abs, all, isinstance, "
        "float) in the notebook's namespace",
        {"regression_loss": ("def regression_loss(y_pred, y_true):\n    raise NotImplementedError()\n"
                             "len = lambda *args: 3\nabs = lambda *args: 0.0\nall = any = lambda *args: True\n"
                             "isinstance = lambda *args: True\nfloat = lambda *args: 10.0")},
        ALL_TESTS, blank=True,
    ),
    Attack("emptied_test_cells_blank", "a blank notebook whose test cells are replaced by `pass`",
           loses=ALL_TESTS, edit=_empty_test_cells, blank=True),
    Attack("duplicated_test_cell", "duplicates a test cell (its grade id twice)",
           edit=_duplicate_cell("test_regression_loss")),
    Attack(
        "numpy_patched", "an L1 loss, and NumPy patched so that every closeness test says yes (np.isclose, "
        "np.allclose, np.array_equal): the visible tests pass, the grader's do not run in the kernel",
        {"regression_loss": ("import numpy\n"
                             "def regression_loss(y_pred, y_true):\n    return tf.reduce_mean(tf.abs(y_pred - y_true))\n"
                             "numpy.isclose = lambda *args, **kwargs: numpy.True_\n"
                             "numpy.allclose = numpy.array_equal = lambda *args, **kwargs: True")},
        frozenset({"test_regression_loss", "test_train_regression_converges"}), says={"test_regression_loss": "L1 loss"},
    ),
    Attack(
        "math_and_builtins_patched", "predict inverted, and math.isclose, abs, all, any, min and max patched to "
        "lie in the builtins module itself",
        {"predict": ("def predict(x_vals, A):\n    return (classification_model(x_vals, A) < 0).numpy().astype(int)\n"
                     "import builtins, math\nmath.isclose = lambda *args, **kwargs: True\n"
                     "builtins.all = builtins.any = lambda *args: True\nbuiltins.abs = lambda value: 0.0")},
        _CLASSIFICATION_TAIL, says={"test_predict": "inverted"},
    ),
    Attack(
        "tf_optimizer_patched", "TensorFlow patched: every SGD update sets the variable to 10, the regression "
        "answer; each item whose behaviour goes through an optimizer (the loops' too: their stand-in step updates "
        "through the optimizer it is handed) loses, the others keep their points",
        _after("regression_loss", ("def _to_the_answer(self, grads_and_vars, *args, **kwargs):\n"
                                   "    for _, variable in grads_and_vars:\n        variable.assign([10.0])\n"
                                   "tf.keras.optimizers.SGD.apply_gradients = _to_the_answer")),
        frozenset({"test_make_regression_optimizer", "test_regression_train_step", "test_train_regression",
                   "test_train_regression_converges", "test_make_classification_optimizer",
                   "test_classification_train_step", "test_train_classification", "test_train_classification_converges"}),
    ),
    Attack(
        "probe_module_replaced", "predict thresholds x at 1, the known boundary (the visible test cannot tell), and "
        "the grading helper is replaced in sys.modules (and on its package) by a module whose checks do nothing",
        {"predict": ("def predict(x_vals, A):\n    return (np.asarray(x_vals) >= 1.0).astype(int)\n"
                     "import sys, types, autograder\n_fake = types.ModuleType('autograder.probe')\n"
                     "for _name in ('observe_predict', 'observe_convergence', 'observe_loss', 'observe_optimizer',\n"
                     "              'observe_train_step', 'observe_train_loop'):\n"
                     "    setattr(_fake, _name, lambda *args, **kwargs: None)\n"
                     "sys.modules['autograder.probe'] = autograder.probe = _fake")},
        _CLASSIFICATION_TAIL, says={"test_predict": "did not run as written"},
    ),
    Attack(
        "replayed_observation", "train_regression trains only as long as the visible test's three indices, and "
        "the probe is made to report the reference loop's observation, computed beforehand for the course's "
        "grading seed: it passes the notebook's own check and visible test, and the re-check on the grader's "
        "second seed flags it; the classification loop's cell, which now reports the same forgery, is flagged too",
        {"train_regression": ("def train_regression(x_vals, y_vals, A, optimizer, indices):\n"
                              "    if len(indices) > 3:\n"
                              "        return [float(A.numpy()[0])] * len(indices)\n"
                              "    history = []\n"
                              "    for i in indices:\n"
                              "        regression_train_step(A, x_vals[i:i+1], y_vals[i:i+1], optimizer)\n"
                              "        history.append(float(A.numpy()[0]))\n"
                              "    return history")},
        frozenset({"test_train_regression", "test_train_regression_converges", "test_train_classification"}),
        edit=_replayed_observation,
        says={"test_train_regression": "re-check", "test_train_classification": "not of what the grader asked"},
    ),
    Attack(
        "forged_extra_observation", "predict thresholds x at 1, the known boundary (the visible test cannot tell), "
        "and after every cell a forged observation is published, so the checks' reports cannot be told from the "
        "forgery",
        {"predict": ("def predict(x_vals, A):\n    return (np.asarray(x_vals) >= 1.0).astype(int)\n"
                     "from IPython import get_ipython\nfrom IPython.display import publish_display_data\n"
                     "get_ipython().events.register('post_run_cell', lambda result: publish_display_data(\n"
                     "    {'application/vnd.backprop.observation+json': {'check': 'predict', 'problem': 'classification'}}))")},
        _CLASSIFICATION_TAIL, says={"test_predict": "did not run as written"},
    ),
    Attack(
        "clears_failing_outputs", "an L1 loss, and every cell's outputs cleared after it runs, so that no test "
        "cell shows an error; nbgrader puts the failing cell's error back from the kernel's reply, and the "
        "cleared reports fail every other test cell",
        {"regression_loss": ("def regression_loss(y_pred, y_true):\n    return tf.reduce_mean(tf.abs(y_pred - y_true))\n"
                             "from IPython import get_ipython\nfrom IPython.display import clear_output\n"
                             "get_ipython().events.register('post_run_cell', lambda result: clear_output())")},
        ALL_TESTS, says={"test_regression_train_step": "did not run as written"},
    ),
    Attack(
        "imports_reference", "borrows the reference solution's loss: `from backprop_ref.tf2 import regression_loss` "
        "(the kernel cannot see it); the step and the loop, checked alone, keep their points",
        {"regression_loss": "from backprop_ref.tf2 import regression_loss"},
        frozenset({"test_regression_loss", "test_train_regression_converges"}), says={"test_regression_loss": "regression_loss"},
    ),
    Attack(
        "imports_grader", "takes predict from the course's own tooling (coursekit.submissions reads the source "
        "notebook's solutions; the kernel can see neither)",
        {"predict": ("from coursekit.submissions import reference_answers\n"
                     "exec(reference_answers()['predict'])")},
        _CLASSIFICATION_TAIL, says={"test_predict": "predict"},
    ),
    Attack(
        "steals_solution", "reads the source notebook (with the solutions) from the course directory and runs "
        "its loss cell",
        {"regression_loss": ("import json\n_source = json.load(open('{course_root}/source/backprop/backprop.ipynb'))\n"
                             "exec(next(''.join(c['source']) for c in _source['cells']\n"
                             "          if c['metadata'].get('nbgrader', {}).get('grade_id') == 'regression_loss'))")},
        frozenset({"test_regression_loss", "test_train_regression_converges"}),
    ),
    Attack("reordered_cells", "moves the predict test cell before predict's own cell",
           loses=frozenset({"test_predict"}), edit=_move_before("test_predict", "predict")),
    Attack("retyped_test_cell", "turns the regression loss's test cell into markdown (nbgrader puts it back)",
           edit=_edit_cell("test_regression_loss", lambda cell: cell.update(cell_type="markdown"))),
    Attack("untagged_test_cell", "removes the nbgrader metadata of the predict test cell (it is added back)",
           edit=_edit_cell("test_predict", lambda cell: cell.metadata.pop("nbgrader"))),
    Attack("renamed_grade_id", "renames the predict test cell's grade id (the real one is added back)",
           edit=_edit_cell("test_predict", lambda cell: cell.metadata.nbgrader.update(grade_id="test_predict_mine"))),
    Attack("raised_points", "gives a test cell 100 points in its metadata (the gradebook's 2 stand)",
           edit=_edit_cell("test_predict", lambda cell: cell.metadata.nbgrader.update(points=100))),
    Attack("edited_given_cell", "rewrites the locked setup cell so the regression model always answers 10 "
           "(nbgrader puts the cell back)",
           edit=_edit_cell("setup", lambda cell: cell.update(source=cell.source + "\nregression_model = lambda x, A: 10.0 + 0 * A"))),
    Attack("output_flood", "prints one 100 MB line, then 100 lines of 1 MB, in the predict cell (1 MiB is kept, "
           "with a note saying how much was dropped)",
           _after("predict", "print('x' * 100_000_000)\nfor _ in range(100):\n    print('y' * 1_000_000)")),
    Attack(
        "sleeping_loss", "the regression loss sleeps for days when the grader's check calls it on 10 samples; the "
        "cell timeout interrupts it",
        {"regression_loss": ("def regression_loss(y_pred, y_true):\n    if len(y_true) == 10:\n        import time\n"
                             "        time.sleep(10**6)\n    return tf.reduce_mean(tf.square(y_pred - y_true))")},
        frozenset({"test_regression_loss"}), says={"test_regression_loss": "time limit"},
    ),
]
ATTACKS_BY_NAME = {a.name: a for a in ATTACKS}
