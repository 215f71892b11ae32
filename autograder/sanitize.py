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
    """Refuse a submission holding none of the notebook's grade ids (another assignment's notebook, say).

    nbgrader would try to put the test cells back (OverwriteCells.add_missing_cells), fail on the missing
    solution cells with a bare KeyError, and call the file "not a valid notebook".
    """

    def preprocess(self, nb, resources):
        where = resources["nbgrader"]
        with Gradebook(where["db_url"]) as gradebook:
            known = {cell.name for cell in gradebook.find_notebook(where["notebook"], where["assignment"]).source_cells}
        if not {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells} & known:
            raise UnreadableSubmission(where["student"], f"{where['notebook']}.ipynb", FOREIGN.format(
                notebook=where["notebook"]))
        return nb, resources
