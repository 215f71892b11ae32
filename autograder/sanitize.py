"""nbgrader's sanitizing of a submission, made robust to edited cell metadata and to another notebook
submitted in place of the assignment's."""
from nbgrader.api import Gradebook
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor

from .exporter import UnreadableSubmission

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
            raise UnreadableSubmission(where["student"], f"{where['notebook']}.ipynb", FOREIGN.format(
                notebook=where["notebook"]))
        for index, cell in enumerate(nb.cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id is not None and grade_id not in known:
                self.log.warning("Student %s, notebook %s.ipynb, cell %d: grade id %r is not the notebook's; the "
                                 "cell is graded as the student's own", where["student"], where["notebook"], index,
                                 grade_id)
                del cell.metadata["nbgrader"]
        return nb, resources
