"""nbgrader's verdicts, taken out of the student's kernel: judge each test cell's observations, then
re-check the functions in a fresh kernel on the grader's own inputs.

`ExecuteContained` runs the notebook; its hidden test cells only report numbers (`autograder.probe`).
`JudgeObservations` comes next in `Autograde.autograde_preprocessors`. For each test cell it asks the
cell's own source (put back from the gradebook by nbgrader, so the student cannot change it) which checks
it makes, takes the observations out of the cell's outputs and judges them here, in nbgrader's process
(`registry.judge`). A failing check becomes the cell's error output, which scores it 0 and is what the
feedback shows. A test cell that reports nothing, or other than it was asked, fails as tampering.

Then the re-check: the student's code cells run again in a new contained kernel, with the hidden checks
alone in place of the test cells and another grading seed. A check that passed on the notebook's own
report but fails on the re-check is flagged as tampering: its report cannot have come from the functions.
Last, in the same kernel, once every cell has run, each passed item's check is made once more (the
end-to-end runs excepted): a function that a later cell changes (a name it reads, rebound for the other
example) fails there, as the item it breaks, not as tampering (`late_failure`).
A failure of the grader itself is a `GraderError`, for the instructor: never a verdict.
"""
from __future__ import annotations

import ast
import contextlib
import copy
import logging
import traceback

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer, List, Unicode

from .checks import GradingFailure, Tampering
from .execute import ExecuteContained
from .grading_inputs import DEFAULT_SEED, SEED_VARIABLE
from .probe import OBSERVATION_MIME
from .problems import GradingProblem, Problem, report, submission
from .registry import CHECKS, OBSERVERS, judge
from .sandbox import SandboxedKernelManager
from .trajectory import trajectory_output

HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def asked_checks(source: str) -> list[tuple[str, str]]:
    """The (check, problem) pairs a test cell's code asks the probe for, in order."""
    try:
        tree = ast.parse(hidden_block(source))
    except SyntaxError:
        return []
    asked = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in OBSERVERS:
            check, first = OBSERVERS[node.func.attr], node.args[0] if node.args else None
            named = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            problem = named if check.asks_problem() else check.problems[0]
            asked.append((node.lineno, node.col_offset, check.name, problem))
    return [(check, problem) for _, _, check, problem in sorted(asked)]


def hidden_block(source: str) -> str:
    """The hidden part of a test cell (all of it when it has no markers)."""
    begin, end = source.find(HIDDEN[0]), source.find(HIDDEN[1])
    return source[begin + len(HIDDEN[0]) : end] if 0 <= begin < end else source


def verdict(asked: list[tuple[str, str]], observations: list, seed: int, cell_failed: bool) -> GradingFailure | None:
    """The failure of the first check whose observation fails, or None when all pass.

    A cell that raised before its checks reported has its own error for a verdict; a cell that ran
    through without reporting what it was asked for did not run its checks as written.
    """
    if len(observations) != len(asked):
        return None if cell_failed else Tampering(
            f"this cell asked for {len(asked)} observation(s) and reported {len(observations)}: its checks did "
            "not run as written")
    for (check, problem), observation in zip(asked, observations):
        try:
            judge(observation, seed, check, problem)
        except GradingFailure as failure:
            return failure
    return None


def checked_late(asked: list[tuple[str, str]]) -> bool:
    """Whether a passed test cell's checks are made again once the whole notebook has run: all but the
    end-to-end runs (a whole training run again costs more than it can show)."""
    return not any(CHECKS[check].end_to_end for check, _ in asked)


def late_checks(passed: dict[int, list]) -> dict[int, list]:
    """The passed test cells (index: asked checks) whose checks are made again at the end, in notebook order."""
    return {index: asked for index, asked in passed.items() if checked_late(asked)}


def late_failure(failure: GradingFailure) -> GradingFailure:
    """The verdict of a check made again after the whole notebook ran, where it had passed in its place."""
    return GradingFailure(f"Checked again once every cell of the notebook had run: {failure}",
                          failure.mistake)


def _naming_failed_parts(failure: GradingFailure, asked: list, failed_above: list) -> GradingFailure:
    """An end-to-end item runs everything the student wrote: its failure names the items of the same example
    that failed above (its parts), when any did; otherwise it says nothing of them."""
    problems = {problem for check, problem in asked if check == "convergence"}
    parts = [grade_id for grade_id, of in failed_above if of & problems]
    return type(failure)(f"{failure}\nItems of this example that failed above: {', '.join(parts)}.") if parts else failure


def take_observations(cell: NotebookNode) -> list:
    """Remove the observations from a cell's outputs and return them."""
    observations = [o.data[OBSERVATION_MIME] for o in cell.outputs if OBSERVATION_MIME in o.get("data", {})]
    cell.outputs = [o for o in cell.outputs if OBSERVATION_MIME not in o.get("data", {})]
    return observations


def failed(cell: NotebookNode) -> bool:
    return any(o.output_type == "error" for o in cell.outputs)


def _failure_output(failure: GradingFailure) -> NotebookNode:
    ename = type(failure).__name__
    return NotebookNode(output_type="error", ename=ename, evalue=str(failure), traceback=[f"{ename}: {failure}"])


class GraderError(GradingProblem):
    """The grader itself failed on a submission (a bug of ours, not the student's): nbgrader reports it to the
    instructor with the traceback and leaves the submission ungraded; the student is never told "tampering"."""


class JudgeObservations(NbGraderPreprocessor):
    """Judge the hidden checks' observations in nbgrader's process, then re-check them."""

    grading_seed = Integer(DEFAULT_SEED, help="the seed the notebook's hidden checks draw inputs from; the kernels "
                           "read it too (grading_inputs.configured_seed)").tag(config=True)
    recheck = Bool(True, help="re-run the student's functions in a fresh kernel on other inputs").tag(config=True)
    recheck_seed = Integer(DEFAULT_SEED + 1, help="the re-check's grading seed; keep it out of anything students see").tag(config=True)
    recheck_skip = List(Unicode(), help="grade ids of given cells the re-check need not run (long demos)"
                        ).tag(config=True)

    def preprocess(self, nb, resources):
        self._submission = submission(resources)
        passed, failed_above = {}, []
        for index, cell in enumerate(nb.cells):
            asked = asked_checks(cell.source) if utils.is_grade(cell) and cell.cell_type == "code" else []
            if not asked:
                continue
            observations, cell_failed = take_observations(cell), failed(cell)
            with self._grader_errors(cell):
                failure = verdict(asked, observations, self.grading_seed, cell_failed)
            if failure is not None:
                failure = _naming_failed_parts(failure, asked, failed_above)
            if failure is not None or cell_failed:
                failed_above.append((cell.metadata.nbgrader.grade_id, {problem for _, problem in asked}))
            if failure is not None:
                self._fail(cell, failure)
            elif not cell_failed:
                passed[index] = asked
            if not isinstance(failure, Tampering):
                with self._grader_errors(cell):
                    self._show_runs(cell, asked, observations)
        if self.recheck and passed:
            self._recheck(nb, resources, passed)
        return nb, resources

    @contextlib.contextmanager
    def _grader_errors(self, cell: NotebookNode):
        """What the grader raises while judging a cell, named as the grader's error (verdicts are returned,
        never raised: anything raised here is a bug of ours)."""
        try:
            yield
        except Exception as error:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            problem = Problem(**self._submission, kind="grader_error", cell=grade_id, traceback=traceback.format_exc(),
                              message=f"cell {grade_id}: the grader itself failed while judging it "
                              f"({type(error).__name__}: {error}); the submission is left ungraded: report this "
                              "to the course's maintainers, then grade it again")
            report(self.log, problem)
            raise GraderError(problem) from error

    def _fail(self, cell: NotebookNode, failure: GradingFailure) -> None:
        """The verdict goes first among the cell's outputs: it is the message the student reads."""
        cell.outputs.insert(0, _failure_output(failure))
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        said = str(failure).replace("\n", " ")
        if isinstance(failure, Tampering):
            report(self.log, Problem(**self._submission, kind="tampering", cell=grade_id,
                                     message=f"cell {grade_id}: TAMPERING: {said}"), logging.WARNING)
        else:
            self.log.info("Student %s, notebook %s, cell %s: %s", self._submission["student"],
                          self._submission["notebook"], grade_id, said)

    def _show_runs(self, cell: NotebookNode, asked: list, observations: list) -> None:
        """Under each end-to-end item, the student's run beside the reference's (a tampered report shows none)."""
        for (check, problem), observation in zip(asked, observations):
            if check == "convergence" and isinstance(observation, dict):
                output = trajectory_output(problem, observation, self.grading_seed)
                if output is not None:
                    cell.outputs.append(output)

    def _recheck(self, nb: NotebookNode, resources, passed: dict[int, list]) -> None:
        """Run the student's cells again with the hidden checks alone, on the re-check seed."""
        recheck = self.recheck_notebook(nb, passed)
        # The executor makes the kernel, so it also shuts it down (nbclient leaves a kernel it was given running).
        config = copy.deepcopy(self.config)  # its own: the next submission's kernel must not get this seed
        config.Execute.kernel_manager_class = SandboxedKernelManager
        config.SandboxedKernelManager.grading_env = {SEED_VARIABLE: str(self.recheck_seed)}
        executor = ExecuteContained(parent=self, config=config)
        executor.recheck = True
        executor.preprocess(recheck, copy.deepcopy(resources))
        tampered = set()
        for index, asked in passed.items():
            cell = recheck.cells[index]
            observations = take_observations(cell)
            with self._grader_errors(cell):
                failure = verdict(asked, observations, self.recheck_seed, failed(cell))
            if failure is None and failed(cell):
                failure = GradingFailure(next(f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"))
            if failure is not None:
                self._fail(nb.cells[index], Tampering(
                    "the numbers this cell reported pass, but the grader's re-check of the same functions on "
                    f"inputs of its own fails, so they did not come from your functions as written: {failure}"))
                tampered.add(index)
        self._judge_late(nb, recheck.cells[-1], late_checks(passed), tampered)

    def _judge_late(self, nb: NotebookNode, cell: NotebookNode, late: dict[int, list], tampered: set[int]) -> None:
        """The last cell of the re-check made every late check (recheck_notebook), in the order of `late`; an
        item that passed in its place and in the re-check, but fails here, is lost (one already flagged as
        tampering is left as it is). A cell that did not report them all (the kernel died, say) gives no late
        verdict: nothing was observed."""
        observations = take_observations(cell)
        if len(observations) != sum(len(asked) for asked in late.values()):
            return
        for index, asked in late.items():
            mine, observations = observations[:len(asked)], observations[len(asked):]
            if index in tampered:
                continue
            with self._grader_errors(nb.cells[index]):
                failure = verdict(asked, mine, self.recheck_seed, False)
            if failure is not None:
                self._fail(nb.cells[index], late_failure(failure))

    def recheck_notebook(self, nb: NotebookNode, passed: dict[int, list]) -> NotebookNode:
        """The notebook with each passed test cell cut to its hidden checks, the other test cells and the
        skipped given cells emptied (an empty cell does not run), and one cell added at the end that makes the
        passed cells' late checks again (checked_late); cell numbers stay the notebook's."""
        recheck = copy.deepcopy(nb)
        late = [hidden_block(nb.cells[index].source) for index in late_checks(passed)]
        recheck.cells.append(NotebookNode(cell_type="code", source="\n".join(late) + "\npass", metadata={},
                                          outputs=[], execution_count=None))
        for index, cell in enumerate(recheck.cells):
            if cell.cell_type != "code":
                continue
            cell.outputs = []
            is_test = utils.is_grade(cell) and not utils.is_solution(cell)
            if index in passed:
                cell.source = hidden_block(cell.source) + "\npass"
            elif is_test or cell.metadata.get("nbgrader", {}).get("grade_id") in self.recheck_skip:
                cell.source = ""
        return recheck
