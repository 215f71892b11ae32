"""The grading runtime of the backprop course: what a grading machine imports (sandbox, execution, probe,
judge, feedback, fork server, workers, `autograder grade`). The course's own tooling is `coursekit`."""
