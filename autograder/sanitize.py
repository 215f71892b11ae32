"""nbgrader's sanitizing of a submission, made robust to edited cell metadata."""
from nbgrader.preprocessors import DeduplicateIds


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
