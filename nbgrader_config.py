"""nbgrader settings of the backprop course: every setting grading depends on is here."""
import os

# Only what reading this file needs is imported here: every nbgrader command in the course directory reads it
# (`nbgrader db student list`, the formgrader), and the grader's steps below load TensorFlow. They are named as
# import strings, which nbconvert and traitlets import only where a notebook is graded.
from autograder.exporter import SubmissionStarts

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

# nbgrader's own autograde steps, with three replaced and one added: duplicated grade ids no longer stop the
# whole batch; another assignment's notebook fails alone saying so; a deleted test cell is put back wherever
# it stood (nbgrader's own fails when a given cell came before it); a dead kernel or a spent time budget
# keeps the points earned before it (the rest score 0); and the hidden checks' verdicts are computed here,
# out of the student's kernel, which only reports numbers.
NBGRADER, OURS = "nbgrader.preprocessors.", "autograder."
c.Autograde.sanitize_preprocessors = [
    NBGRADER + "ClearOutput", OURS + "sanitize.DeduplicateIdsKeepingBatch", NBGRADER + "OverwriteKernelspec",
    OURS + "sanitize.RecognizeNotebook", OURS + "sanitize.RestoreMissingCells", NBGRADER + "CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    OURS + "execute.ExecuteContained", OURS + "verdicts.JudgeObservations", NBGRADER + "IgnorePattern",
    OURS + "execute.UnscoredStderr", "nbconvert.preprocessors.ClearMetadataPreprocessor", NBGRADER + "LimitOutput",
    NBGRADER + "SaveAutoGrades", NBGRADER + "AssignLatePenalties", NBGRADER + "CheckCellMetadata",
]
# A file that is not a readable notebook (or is over 50 MiB) fails alone, with the student, file and reason.
c.Autograde.exporter_class = OURS + "exporter.SubmissionExporter"
# Each submission's problems (a file that is not a notebook, a dead kernel, tampering...) are logged and kept as
# records in problems/<assignment>/<student>.jsonl (autograder/problems.py), emptied when its grading starts
# again; a notebook submitted under another name (Backprop.ipynb) is one, with the name it had.
c.Autograde.pre_convert_hook = SubmissionStarts(course_root)
# A deleted or retyped test cell is put back from the gradebook and graded.
c.OverwriteCells.add_missing_cells = True
c.ExecuteContained.submission_timeout = 900
# The re-check runs each submission's functions again, in a fresh kernel, on inputs from this seed; a check
# whose report passed but whose re-check fails is flagged as tampering. This file never reaches students.
c.JudgeObservations.recheck_seed = 4_815_162_342
c.JudgeObservations.recheck_skip = [  # the given training demos and explorers
    "run_regression", "run_classification", "explore_regression", "explore_classification",
]
# Output past 1 MiB per cell is dropped while the cell runs (one note says how much); LimitOutput then trims lines.
c.ExecuteContained.max_output_bytes = 2**20

# Every kernel runs contained (autograder/sandbox.py): another user, a private directory holding only the
# assignment's helper files, no network, the course directory out of sight, memory and process limits.
c.Execute.kernel_manager_class = OURS + "sandbox.SandboxedKernelManager"
c.SandboxedKernelManager.assignment_files = [
    "backprop_problem.py", "backprop_plots.py", "backprop_checks.py", "backprop_explorer.py", "backprop_stand_ins.py",
    "backprop_mistakes.py",
]
c.SandboxedKernelManager.course_root = course_root
c.SandboxedKernelManager.visible_course_paths = [".venv"]  # and SandboxedKernelManager.kernel_modules
c.SandboxedKernelManager.memory_limit = 4 * 2**30
# Warm kernels: every kernel of an nbgrader process is forked from one server (autograder/forkserver.py) that
# imported TensorFlow when the process started its first kernel; a batch pays that import once, not twice per
# submission (the kernel and its re-check). A forked kernel is contained and sees what a fresh one sees.
c.SandboxedKernelManager.warm_kernels = True

# nbgrader scores any stderr output of a test cell as a failure; here the verdicts are the judge's and the
# assertions' (UnscoredStderr shows a test cell's stderr unscored). TensorFlow's start-up lines, which the
# setup cell silences before importing it, are dropped as well.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"All log messages before absl::InitializeLog"
    r"|oneDNN custom operations are on"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|Could not find cuda drivers"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
)

# Feedback shows the verdict of each hidden test, never its code.
c.GenerateFeedback.preprocessors = [
    NBGRADER + "GetGrades", OURS + "feedback.HideHiddenTests", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# The notebook's widgets (check my work, the training explorer) do nothing headless; their state, which would
# embed the explorer's first frame, is not kept in autograded notebooks or feedback.
c.Execute.store_widget_state = False
