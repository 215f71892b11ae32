"""nbgrader settings of the backprop course: every setting grading depends on is here."""
import os

from autograder.feedback import HideHiddenTests
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
course_root = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "backprop"
c.CourseDirectory.root = course_root
# The exchange through which assignments are released and submitted. For a real class on a shared
# machine, point this at a directory every student can reach (nbgrader's default is /srv/nbgrader/exchange).
c.Exchange.root = os.path.join(course_root, "exchange")

# A training cell runs 1400 single-sample steps (about 3-9 s here); the hidden checks train again on the
# grader's data. 180 s per cell leaves room on a loaded machine and still stops an endless loop.
c.Execute.timeout = 180
# nbclient skips cells carrying this tag. Its default, "skip-execution", would let a student tag the test
# cells and score full marks with an empty notebook; nobody tags a cell with this by accident.
c.Execute.skip_cells_with_tag = "backprop-grader-never-skips-3f9c2e71"

# nbgrader scores any stderr output of a test cell as a failure. TensorFlow is silenced before it is
# imported (the setup cell), and these start-up lines are dropped here as well.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"All log messages before absl::InitializeLog"
    r"|oneDNN custom operations are on"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|Could not find cuda drivers"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
)

# Feedback shows the verdict of each hidden test, never its code.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
