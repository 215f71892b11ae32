"""The course's tooling, which a grading machine never runs: the known submissions and their expected
outcomes, a driver for real nbgrader courses, `autograder selfcheck` and `autograder demo`, and the
instructor's command line (whose `grade` is the runtime's, `autograder.gradeapp`)."""
