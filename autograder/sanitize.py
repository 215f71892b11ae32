"""nbgrader's sanitizing of a submission, made robust to edited cell metadata, to deleted cells and to another
notebook submitted in place of the assignment's."""
import logging

from nbgrader.api import Gradebook
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor, OverwriteCells

from .exporter import UnreadableSubmission
from .problems import Problem, report, submission

FOREIGN = "this is not the {notebook} notebook (none of its grade ids are in it)"


class DeduplicateIdsKeepingBatch(DeduplicateIds):
    """Of cells sharing a grade id, keep the last, and make the others plain cells.

    nbgrader's DeduplicateIds leaves the others with empty nbgrader metadata, which its schema check then
    takes for an outdated format and stops the whole batch, other students included (nbgrader#1083).
    """

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


class RecognizeNotebook(NbGraderPreprocessor):
    """Refuse a submission holding none of the notebook's grade ids (another assignment's notebook, say), and
    treat a cell whose grade id the notebook does not have (renamed by the student) as the student's own.

    nbgrader would try to put the test cells back (OverwriteCells.add_missing_cells), fail on the missing
    solution cells with a bare KeyError, and call the file "not a valid notebook"; a renamed grade id fails
    the same way. The real cell of a renamed one is put back from the gradebook and graded.
    """

    def preprocess(self, nb, resources):
        where = resources["nbgrader"]
        with Gradebook(where["db_url"]) as gradebook:
            known = {cell.name for cell in gradebook.find_notebook(where["notebook"], where["assignment"]).source_cells}
        if not {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells} & known:
            raise UnreadableSubmission.reported(self.log, resources, FOREIGN.format(notebook=where["notebook"]))
        for index, cell in enumerate(nb.cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id is not None and grade_id not in known:
                report(self.log, Problem(**submission(resources), kind="foreign_grade_id", cell=f"cell {index}",
                                         message=f"cell {index}: grade id {grade_id!r} is not the notebook's; the "
                                         "cell is graded as the student's own"), logging.WARNING)
                del cell.metadata["nbgrader"]
        return nb, resources


class RestoreMissingCells(OverwriteCells):
    """nbgrader's OverwriteCells, putting a deleted grade cell back after the nearest earlier cell of the
    source notebook that the submission still has.

    nbgrader's own looks only at the source cell just before, among the submission's grade and solution
    cells: when that one is a locked given cell (a test after a demo, or after a "Check my work" cell), it
    fails with a bare KeyError and the submission is not graded at all.
    """

    def add_missing_grade_cells(self, nb, resources):
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source.source_cells]
        solutions = {cell.name for cell in source.solution_cells}
        for grade_cell in source.grade_cells:
            present = {cell.metadata.get("nbgrader", {}).get("grade_id"): index
                       for index, cell in enumerate(nb.cells)}
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            position = order.index(grade_cell.name)
            after = next((present[name] for name in reversed(order[:position]) if name in present), -1)
            nb.cells.insert(after + 1, self.missing_cell_transform(
                source.source_cells[position], grade_cell.max_score, is_solution=grade_cell.name in solutions))
        return nb, resources
