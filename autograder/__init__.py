"""The grading side of the backprop course: hidden checks and the instructor's commands (grading machine only)."""
