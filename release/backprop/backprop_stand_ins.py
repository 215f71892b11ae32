"""Checking one function alone: a copy of it whose calls to other functions go to stand-ins.

A test of a training step must not fail for a mistake in the student's loss, so the step is run with a
stand-in loss in its place. Swapping the name in the student's namespace would do that, but anything compiled
meanwhile would keep the stand-in: a `tf.function` traced during the check reuses that trace for the rest of
the notebook, and the student's own training would then follow the stand-in. So nothing of the student's is
changed: `alone` runs a copy of the function, and of every function and `tf.function` of the notebook it may
reach, in a copy of the namespace where the stand-ins are defined. The copies are compiled afresh and dropped
after the check.

Shared by the notebook's visible tests (it ships to students as `backprop_stand_ins.py`, a symlink in
`source/backprop/`, like `backprop_problem.py`) and the grader's probe, so both check a function alone the
same way. Imports nothing but the standard library; TensorFlow only when the notebook has compiled functions.
"""
from __future__ import annotations

import sys
import types
from typing import Callable


def _is_compiled(value) -> bool:
    """A `tf.function` (polymorphic function) whose Python code can be compiled again."""
    return callable(value) and hasattr(value, "python_function") and hasattr(value, "get_concrete_function")


def _copy(function: types.FunctionType, namespace: dict) -> types.FunctionType:
    copy = types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__, copy.__dict__ = function.__kwdefaults__, dict(function.__dict__)
    return copy


def _recompiled(compiled, namespace: dict):
    """A new `tf.function` of a copy of the compiled function's code, with its input signature."""
    tf = sys.modules["tensorflow"]
    return tf.function(_copy(compiled.python_function, namespace), input_signature=compiled.input_signature)


def alone(function: Callable, **stand_ins: Callable) -> Callable:
    """`function`, calling `stand_ins` by these names instead of what the notebook defines (defined or not).

    Functions and `tf.function`s of the same notebook reach the stand-ins too (a step whose compiled helper
    computes the loss). What lies beyond (methods of a class, a function wrapped by a decorator of the
    student's) calls the notebook's own functions: such a function is then checked with them.
    """
    compiled = _is_compiled(function)
    plain = function.python_function if compiled else function
    if not isinstance(plain, types.FunctionType):
        return function
    original = plain.__globals__
    namespace = dict(original)
    for name, value in original.items():
        if _is_compiled(value) and getattr(value.python_function, "__globals__", None) is original:
            namespace[name] = _recompiled(value, namespace)
        elif isinstance(value, types.FunctionType) and value.__globals__ is original:
            namespace[name] = _copy(value, namespace)
    namespace.update(stand_ins)
    return _recompiled(function, namespace) if compiled else _copy(plain, namespace)
