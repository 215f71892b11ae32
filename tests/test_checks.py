"""The hidden checks, run in-process on known submissions: right answers pass, each mistake is caught
alone and named. (The same submissions go through real nbgrader in test_workflow.py.)"""

import copy
import dataclasses

import numpy as np
import pytest

from autograder import checks, grading_inputs, registry
from coursekit.corpus import IDIOMS, MISTAKES
from coursekit.submissions import namespace_of, reference_answers, run_in_process
from backprop_ref.problem import PROBLEMS


def failed(outcomes):
    return {item for item, error in outcomes.items() if error is not None}


def test_reference_passes_every_test(reference_outcomes):
    assert len(reference_outcomes) == 11
    assert failed(reference_outcomes) == set(), {k: str(v) for k, v in reference_outcomes.items() if v}


@pytest.mark.slow
@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_mistake_loses_exactly_its_items_and_is_named(mistake):
    outcomes = run_in_process({**reference_answers(), **mistake.answers})
    assert failed(outcomes) == mistake.loses, {k: str(v) for k, v in outcomes.items() if v}
    for item, phrase in mistake.says.items():
        assert phrase in str(outcomes[item]), str(outcomes[item])
        assert isinstance(outcomes[item], checks.GradingFailure)


@pytest.mark.slow
@pytest.mark.parametrize("idiom", IDIOMS, ids=str)
def test_correct_answer_in_another_idiom_keeps_every_point(idiom):
    outcomes = run_in_process({**reference_answers(), **IDIOMS[idiom]})
    assert failed(outcomes) == set(), {k: str(v) for k, v in outcomes.items() if v}


def test_blank_answers_fail_every_test():
    from coursekit.submissions import release_notebook, grade_id, is_solution

    blank = {grade_id(c): c.source for c in release_notebook().cells if is_solution(c) and c.cell_type == "code"}
    outcomes = run_in_process(blank)
    assert failed(outcomes) == set(outcomes)


def test_grader_inputs_are_seeded_and_differ_between_seeds():
    for problem in PROBLEMS.values():
        first, again = grading_inputs.convergence_run(problem), grading_inputs.convergence_run(problem)
        np.testing.assert_array_equal(first.x, again.x)
        np.testing.assert_array_equal(first.indices, again.indices)
        other = grading_inputs.convergence_run(problem, seed=grading_inputs.DEFAULT_SEED + 1)
        assert not np.array_equal(first.x, other.x)


def test_a_failing_check_says_the_same_thing_every_time():
    def half_loss(y_pred, y_true):
        import tensorflow as tf
        return tf.reduce_mean(tf.square(y_pred - y_true)) / 2

    messages = set()
    for _ in range(2):
        with pytest.raises(checks.GradingFailure) as failure:
            registry.check("loss", "regression", half_loss)
        messages.add(str(failure.value))
    assert len(messages) == 1 and "half the mean squared error" in messages.pop()


def test_graded_alone_restores_the_students_functions():
    namespace = {}
    exec("def regression_loss(p, t):\n    return 0.0\n"
         "def regression_train_step(A, x, y, optimizer):\n    return regression_loss(None, None)\n", namespace)
    own_loss = namespace["regression_loss"]
    with pytest.raises(checks.GradingFailure):
        registry.check("train_step", "regression", namespace["regression_train_step"])
    assert namespace["regression_loss"] is own_loss


def test_a_step_whose_loss_is_not_defined_is_still_checked_alone():
    namespace = {}
    exec("import tensorflow as tf\n"
         "def regression_train_step(A, x, y, optimizer):\n"
         "    with tf.GradientTape() as tape:\n"
         "        loss = regression_loss(x * A, y)\n"
         "    optimizer.apply_gradients([(tape.gradient(loss, A), A)])\n"
         "    return loss\n", namespace)
    registry.check("train_step", "regression", namespace["regression_train_step"])
    assert "regression_loss" not in namespace


@pytest.mark.parametrize("traced_first", ["by the student", "by the check"])
def test_a_check_with_a_stand_in_leaves_the_students_compiled_functions_as_they_were(traced_first):
    """A tf.function traced during a check must not keep the stand-in (the student's own run would train on
    it), and one traced before must not hide the stand-in from the check."""
    import tensorflow as tf
    from backprop_ref.stand_ins import alone

    namespace = namespace_of({**reference_answers(), **IDIOMS["compiled_gradient_helper"]})
    own = dict(namespace)
    x, y = np.float32([2.0]), np.float32([10.0])

    def step(function, start=0.5):
        A = tf.Variable([start])
        loss = function(A, x, y, tf.keras.optimizers.SGD(learning_rate=0.1))
        return float(loss), float(A.numpy()[0])

    real = (81.0, 0.5 + 0.1 * 2 * 2.0 * (10.0 - 1.0))  # (2 * 0.5 - 10)^2; A - lr * 2x(Ax - y)
    stand_in = (-7.0, 0.5 - 0.1 * 6.0)  # mean(3 * output - target), gradient 3x
    with_stand_in = alone(namespace["regression_train_step"],
                          regression_loss=lambda y_pred, y_true: tf.reduce_mean(3.0 * y_pred - y_true))
    if traced_first == "by the student":
        assert np.allclose(step(namespace["regression_train_step"]), real)
    assert np.allclose(step(with_stand_in), stand_in)
    assert np.allclose(step(namespace["regression_train_step"]), real)
    assert np.allclose(step(with_stand_in), stand_in)
    assert namespace == own


@pytest.mark.slow
@pytest.mark.parametrize("name", ["log_of_sigmoid", "step_ignores_optimizer", "clipnorm", "strict_threshold"])
def test_a_mistakes_verdict_is_the_same_on_every_grading_seed(name):
    """Seed independence: on several grading seeds the mistake loses exactly its items (bench/mistake_sweep.py
    does this on 100 seeds for every mistake)."""
    mistake = next(m for m in MISTAKES if m.name == name)
    items = registry.item_checks(namespace_of({**reference_answers(), **mistake.answers}), end_to_end=True)
    for seed in range(grading_inputs.DEFAULT_SEED, grading_inputs.DEFAULT_SEED + 3):
        lost = set()
        for item, check in items.items():
            try:
                check(seed)
            except checks.GradingFailure as failure:
                lost.add(item)
                if item in mistake.says:
                    assert mistake.says[item] in str(failure), (seed, str(failure))
        assert lost == mistake.loses, seed


def test_a_malformed_report_is_tampering_and_a_grader_bug_is_not(monkeypatch):
    """The report's shape is checked before judging (autograder/reports.py): a report that is not as the probe
    writes it is tampering; once it is, what the judgement raises is the grader's own error, raised as it is."""
    from autograder import probe

    seed = grading_inputs.DEFAULT_SEED
    honest = probe.observe_loss("regression", namespace_of(reference_answers())["regression_loss"], seed)
    registry.judge(honest, seed)
    for breaking in (lambda o: o["cases"][0].update(value={"shape": [2], "values": [1.0]}),
                     lambda o: o["cases"].append("a case"), lambda o: o.pop("cases"),
                     lambda o: o["cases"][1].pop("gradient"), lambda o: o.update(seed="7"),
                     lambda o: o.update(check="observe_loss")):
        report = copy.deepcopy(honest)
        breaking(report)
        with pytest.raises(checks.Tampering, match="malformed|not of what"):
            registry.judge(report, seed)

    def buggy_judge(problem, observation, seed):
        return 1 / 0

    monkeypatch.setitem(registry.CHECKS, "loss", dataclasses.replace(registry.CHECKS["loss"], judge=buggy_judge))
    with pytest.raises(ZeroDivisionError):
        registry.judge(honest, seed)


def _catalogue_names_reached(function_name: str) -> set[str]:
    """The catalogue's words (its str constants and the recognisers that return str) that `checks.<function_name>`
    and the functions of `checks` it calls can give, read from their source."""
    import ast
    import inspect

    from backprop_ref import mistakes

    tree = ast.parse(inspect.getsource(checks))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}

    def words(name: str) -> bool:
        value = getattr(mistakes, name, None)
        return isinstance(value, str) or callable(value) and "str" in str(inspect.signature(value).return_annotation)

    reached, seen, todo = set(), set(), [function_name]
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "mistakes":
                reached.add(node.attr)
            elif isinstance(node, ast.Name) and node.id in functions and node.id not in seen:
                todo.append(node.id)
    return {name for name in reached if words(name)}


@pytest.mark.parametrize("name", list(registry.CHECKS))
def test_each_registry_entry_says_what_its_parts_do(name):
    """The contract holds its parts to their word: the mistakes an entry declares are exactly those its judge can
    name, its inputs exactly what its observer draws, and on the reference the observer publishes a report of this
    check that fits the entry's shape, for the test cell the entry names, whose hidden code asks for it."""
    import ast
    import inspect

    from autograder import reports, verdicts
    from coursekit.submissions import grade_id, source_notebook

    entry = registry.CHECKS[name]
    assert set(entry.mistakes) == _catalogue_names_reached(entry.judge.__name__)
    drawn = {node.func.attr for node in ast.walk(ast.parse(inspect.getsource(entry.observe)))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and getattr(node.func.value, "id", None) == "grading_inputs"}
    assert drawn == {source.__name__ for source in entry.inputs}
    cells = {grade_id(cell): cell.source for cell in source_notebook().cells}
    namespace = namespace_of(reference_answers())
    for problem in entry.problems:
        report = entry.observe(*([problem] if entry.asks_problem() else []),
                               *(namespace[f] for f in entry.handed(problem)), seed=grading_inputs.DEFAULT_SEED)
        assert report["check"] == name and reports.malformed(report, {name: entry.shape}) is None
        assert verdicts.asked_checks(cells[entry.grade_id(problem)]) == [(name, problem)]


def test_answers_built_side_by_side_each_keep_their_own_source_for_autograph():
    """AutoGraph reads a tf.function's source from linecache: an answer set built after another (as the benches
    build them) must not hand it the other's cell of the same grade id."""
    compiled = namespace_of({**reference_answers(), **IDIOMS["compiled_loops"]})
    namespace_of(reference_answers())  # the same grade ids, other source
    for name in PROBLEMS:
        registry.check("train_loop", name, compiled[f"train_{name}"])
