"""What students see of the hidden tests in their feedback: the verdict, never the test code."""
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):
    """Remove hidden test regions from feedback, and cut test-cell tracebacks down to their message.

    nbgrader's feedback shows autograded notebooks, where the hidden tests are back in place; a traceback
    would also quote the hidden lines that raised. The message of a check is written for the student.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if utils.is_grade(cell) and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
