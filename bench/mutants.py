"""Mutants of the reference solution for bench/mutation_score.py, and the test that drops equivalent ones.

Generation (no TensorFlow): each rule in `RULES` looks at one node of a cell's syntax tree and proposes
mutations as (line, description, edit), where `edit` changes a copy of that node or returns its
replacement. A mutant holds one mutation and is named `cell:line:description`, `line` being the line in
the reference answer (the solution cell without nbgrader's markers).

Equivalence (TensorFlow, imported by the caller): `behaviour` runs a cell's function on a battery of
seeded inputs written from the notebook's contract (its docstrings and the exercises' text), never from
the grader's checks or inputs, so that it judges the grader rather than mirrors it. A mutant that behaves
like the reference on all of them, within float32 rounding, is equivalent.
"""
from __future__ import annotations

import ast
import collections
import copy
import difflib
import itertools
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

# --- the mutation tables ---------------------------------------------------------------------------------

CONSTANT_CHANGES: tuple[Callable, ...] = (  # x2, /2, +1, -1, 0, negated
    lambda v: v * 2,
    lambda v: v // 2 if isinstance(v, int) else v / 2,
    lambda v: v + 1,
    lambda v: v - 1,
    lambda v: type(v)(0),
    lambda v: -v,
)
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
COMPARISONS = {ast.GtE: ">=", ast.Gt: ">", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
# (lower, upper) shifts of a slice's bounds: i:i+1 -> i:i+2, i+1:i+2, ...
SLICE_SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1))
# A function or class name and the siblings it can be mistaken for (the mistakes a student makes).
SIBLINGS = {
    "reduce_mean": ("reduce_sum",),
    "reduce_sum": ("reduce_mean",),
    "square": ("abs",),
    "abs": ("square",),
    "sigmoid": ("tanh",),
    "tanh": ("sigmoid",),
    "sigmoid_cross_entropy_with_logits": ("softmax_cross_entropy_with_logits",),
    "SGD": ("Adam", "RMSprop", "Adagrad"),  # another optimizer class
    "float": ("int",),
    "regression_model": ("classification_model",),
    "classification_model": ("regression_model",),
    "regression_loss": ("classification_loss",),
    "classification_loss": ("regression_loss",),
    "regression_train_step": ("classification_train_step",),
    "classification_train_step": ("regression_train_step",),
}


# --- the rules: node -> (line, description, edit) ---------------------------------------------------------

Proposal = tuple[int, str, Callable[[ast.AST], ast.AST]]


def _setting(**fields) -> Callable[[ast.AST], ast.AST]:
    """An edit that sets fields of the node (fields are copied, so one edit can be applied many times)."""
    def edit(node):
        for name, value in fields.items():
            setattr(node, name, copy.deepcopy(value))
        return node
    return edit


def _callee(call: ast.Call) -> str:
    return ast.unparse(call.func).split(".")[-1]


def constants(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """Numbers (not booleans, not docstrings) changed in the ways of CONSTANT_CHANGES, each value once."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        seen = {node.value}
        for change in CONSTANT_CHANGES:
            value = change(node.value)
            if value not in seen:
                seen.add(value)
                yield node.lineno, f"{node.value!r}->{value!r}", _setting(value=value)


def operators(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        for other, symbol in OPERATORS.items():
            if other is not type(node.op):
                yield node.lineno, f"({OPERATORS[type(node.op)]})->({symbol})", _setting(op=other())


def comparisons(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            for other, symbol in COMPARISONS.items():
                if type(op) in COMPARISONS and other is not type(op):
                    ops = [*node.ops[:k], other(), *node.ops[k + 1:]]
                    yield node.lineno, f"({COMPARISONS[type(op)]})->({symbol})", _setting(ops=ops)


def _shifted(expression: ast.expr, k: int) -> ast.expr:
    """expression + k, folded into a trailing constant where there is one (i + 1 shifted by 1 is i + 2)."""
    if isinstance(expression, ast.Constant) and type(expression.value) is int:
        return ast.Constant(expression.value + k)
    if (isinstance(expression, ast.BinOp) and isinstance(expression.op, (ast.Add, ast.Sub))
            and isinstance(expression.right, ast.Constant) and type(expression.right.value) is int):
        sign = 1 if isinstance(expression.op, ast.Add) else -1
        total = sign * expression.right.value + k
        if total == 0:
            return expression.left
        return ast.BinOp(expression.left, ast.Add() if total > 0 else ast.Sub(), ast.Constant(abs(total)))
    return ast.BinOp(expression, ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


def slices(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """Off by one at either end of a slice, or both: x[i:i + 1] -> x[i:i + 2], x[i + 1:i + 2], ..."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        bounds = node.slice
        if bounds.lower is None or bounds.upper is None:
            return
        for low, high in SLICE_SHIFTS:
            lower = _shifted(bounds.lower, low) if low else bounds.lower
            upper = _shifted(bounds.upper, high) if high else bounds.upper
            new = ast.Subscript(node.value, ast.Slice(lower, upper, bounds.step), node.ctx)
            yield node.lineno, f"{ast.unparse(node)}->{ast.unparse(new)}", _setting(slice=new.slice)


def ranges(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """Off by one in any argument of range()."""
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "range":
        for k, argument in enumerate(node.args):
            for shift in (1, -1):
                args = [*node.args[:k], _shifted(argument, shift), *node.args[k + 1:]]
                new = ast.Call(node.func, args, node.keywords)
                yield node.lineno, f"{ast.unparse(node)}->{ast.unparse(new)}", _setting(args=args)


def arguments(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """Two positional arguments of a call swapped, or two keyword arguments' values."""
    if not isinstance(node, ast.Call):
        return
    for a, b in itertools.combinations(range(len(node.args)), 2):
        args = list(node.args)
        args[a], args[b] = args[b], args[a]
        yield node.lineno, f"{_callee(node)}: swap args {a + 1},{b + 1}", _setting(args=args)
    named = [k for k, keyword in enumerate(node.keywords) if keyword.arg is not None]
    for a, b in itertools.combinations(named, 2):
        keywords = copy.deepcopy(node.keywords)
        keywords[a].value, keywords[b].value = keywords[b].value, keywords[a].value
        yield (node.lineno, f"{_callee(node)}: swap {keywords[a].arg}=,{keywords[b].arg}= values",
               _setting(keywords=keywords))


def keywords_dropped(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    if isinstance(node, ast.Call):
        for k, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                kept = [*node.keywords[:k], *node.keywords[k + 1:]]
                yield node.lineno, f"{_callee(node)}: drop {keyword.arg}=", _setting(keywords=kept)


def _root(expression: ast.expr) -> ast.expr:
    while isinstance(expression, ast.Attribute):
        expression = expression.value
    return expression


def calls_unwrapped(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """A call dropped inside an expression: f(x) -> x for a function of one argument (an unreduced loss, a
    missing sigmoid or float), value.method(...) -> value for a method of a computed value (classes left as
    booleans). Methods of a variable (history.append) are left to `statements`."""
    if not isinstance(node, ast.Call):
        return
    root = _root(node.func)
    if isinstance(node.func, ast.Attribute) and not isinstance(root, ast.Name):
        yield node.lineno, f"drop .{node.func.attr}()", lambda call: call.func.value
    elif isinstance(root, ast.Name) and root.id not in scope and len(node.args) == 1 and not node.keywords:
        yield node.lineno, f"unwrap {_callee(node)}()", lambda call: call.args[0]


def siblings(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """A function or class swapped for a sibling of SIBLINGS (tf.reduce_mean -> tf.reduce_sum, ...)."""
    if isinstance(node, ast.Attribute) and node.attr in SIBLINGS:
        for other in SIBLINGS[node.attr]:
            yield node.lineno, f"{node.attr}->{other}", _setting(attr=other)
    elif isinstance(node, ast.Name) and node.id in SIBLINGS:
        for other in SIBLINGS[node.id]:
            yield node.lineno, f"{node.id}->{other}", _setting(id=other)


def returns(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """The return value replaced by each other variable in scope."""
    if isinstance(node, ast.Return) and node.value is not None:
        for name in scope:
            if name != ast.unparse(node.value):
                yield node.lineno, f"return {name}", _setting(value=ast.Name(name, ast.Load()))


def _first_line(statement: ast.stmt, width: int = 40) -> str:
    line = ast.unparse(statement).splitlines()[0]
    return line if len(line) <= width else line[: width - 3] + "..."


def statements(node: ast.AST, scope: list[str]) -> Iterator[Proposal]:
    """Each statement of the function (not its docstring) removed, or repeated."""
    if isinstance(node, ast.Module):
        return
    for field in ("body", "orelse", "finalbody"):
        body = getattr(node, field, None)
        if not isinstance(body, list):
            continue
        for k, statement in enumerate(body):
            if k == 0 and isinstance(node, ast.FunctionDef) and ast.get_docstring(node) is not None:
                continue
            yield statement.lineno, f"drop {_first_line(statement)}", _dropping(field, k)
            yield statement.lineno, f"repeat {_first_line(statement)}", _repeating(field, k)


def _dropping(field: str, k: int) -> Callable[[ast.AST], ast.AST]:
    def edit(node):
        body = getattr(node, field)
        del body[k]
        if not body:
            body.append(ast.Pass())
        return node
    return edit


def _repeating(field: str, k: int) -> Callable[[ast.AST], ast.AST]:
    def edit(node):
        body = getattr(node, field)
        body.insert(k, copy.deepcopy(body[k]))
        return node
    return edit


RULES = (constants, operators, comparisons, slices, ranges, arguments, keywords_dropped, calls_unwrapped,
         siblings, returns, statements)


# --- generation ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    cell: str
    line: int
    description: str
    source: str

    @property
    def name(self) -> str:
        return f"{self.cell}:{self.line}:{self.description}"

    def diff(self, reference_source: str) -> list[str]:
        """The lines that differ from the reference (both as `ast.unparse` writes them), '-' then '+'."""
        lines = difflib.unified_diff(ast.unparse(ast.parse(reference_source)).splitlines(),
                                     self.source.splitlines(), n=0, lineterm="")
        return [line for line in lines if line[:1] in "+-" and line[:3] not in ("---", "+++")]


def _preorder(node: ast.AST) -> list[ast.AST]:
    """Every node in a fixed order, so the k-th node of a tree and of its deep copy are the same node."""
    nodes = [node]
    for child in ast.iter_child_nodes(node):
        nodes.extend(_preorder(child))
    return nodes


def _scope(tree: ast.Module) -> list[str]:
    """The variables of the cell's function, in order of appearance: arguments, then names it binds."""
    names: list[str] = []
    for node in _preorder(tree):
        if isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            name = node.id
        else:
            continue
        if name not in names:
            names.append(name)
    return names


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    """Put `new` where `old` is in `tree` (an edit that returns another node: f(x) -> x)."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                value[[id(item) for item in value].index(id(old))] = new
                return


def _mutated(tree: ast.Module, index: int, edit: Callable[[ast.AST], ast.AST]) -> str:
    """The source of a copy of `tree` whose index-th node went through `edit`."""
    mutant = copy.deepcopy(tree)
    target = _preorder(mutant)[index]
    replacement = edit(target)
    if replacement is not target:
        _replace(mutant, target, replacement)
    return ast.unparse(mutant)


def mutants_of(cell: str, source: str) -> list[Mutant]:
    """Every mutant of one cell, in source order, each distinct (a mutation that writes the same source as
    an earlier one, or as the reference, is left out); a name met again on its line gets #2, #3, ..."""
    tree = ast.parse(source)
    scope = _scope(tree)
    seen = {ast.unparse(tree)}
    found, names = [], collections.Counter()
    for index, node in enumerate(_preorder(tree)):
        for rule in RULES:
            for line, description, edit in rule(node, scope):
                mutated = _mutated(tree, index, edit)
                if mutated in seen:
                    continue
                seen.add(mutated)
                names[line, description] += 1
                count = names[line, description]
                found.append(Mutant(cell, line, description + (f"#{count}" if count > 1 else ""), mutated))
    return sorted(found, key=lambda mutant: mutant.line)


def compiles(mutant: Mutant) -> bool:
    """Whether Python accepts the mutant at all (ast.unparse can write what the compiler refuses)."""
    try:
        compile(mutant.source, mutant.name, "exec")
    except SyntaxError:
        return False
    return True


# --- equivalence: the battery ----------------------------------------------------------------------------
# Each battery calls the function as the notebook does and records what it returns (and, for optimizers,
# steps and loops, where the variable ends up) as (label, observation) pairs; an exception is observed too.

Observation = tuple[str, tuple[str, np.ndarray | None]]


def _plain(value):
    return value.numpy() if hasattr(value, "numpy") else value


def observed(value) -> tuple[str, np.ndarray | None]:
    """A value made comparable: its kind (type, and the element types of a list) and its numbers."""
    kind = type(value).__name__
    if isinstance(value, (list, tuple)):
        kind += "[" + ",".join(sorted({type(item).__name__ for item in value})) + "]"
    try:
        plain = [_plain(item) for item in value] if isinstance(value, (list, tuple)) else _plain(value)
        return kind, np.asarray(plain, dtype=np.float64)
    except (TypeError, ValueError):
        return kind, None


def _called(function: Callable, *args) -> tuple[object, tuple[str, np.ndarray | None]]:
    """(what the call returned or None, its observation): a mutant that raises where the reference does
    not behaves differently, so the exception's type is what is observed."""
    try:
        value = function(*args)
    except Exception as error:
        return None, (f"raised {type(error).__name__}", None)
    return value, observed(value)


def difference(observations: Iterable[Observation], reference: list[Observation]) -> str | None:
    """None if the observations match the reference's within float32 rounding, else the label of the first
    that does not. Stops there: most mutants differ at once, so the battery need not run to its end."""
    missing = ("", ("nothing", None))
    for (label, (kind, numbers)), (expected_label, (expected_kind, expected)) in itertools.zip_longest(
            observations, reference, fillvalue=missing):
        if kind != expected_kind or (numbers is None) != (expected is None):
            return label or expected_label
        if numbers is not None and not (numbers.shape == expected.shape and np.allclose(
                numbers, expected, rtol=1e-5, atol=1e-6, equal_nan=True)):
            return label
    return None


def _samples(problem: str, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """x and targets that vary sample to sample (regression targets far from the tutorial's constant 10)."""
    if problem == "regression":
        return rng.normal(1.0, 1.0, size).astype(np.float32), rng.normal(10.0, 20.0, size).astype(np.float32)
    return rng.normal(0.0, 3.0, size).astype(np.float32), rng.integers(0, 2, size).astype(np.float32)


def _loss_runs(loss: Callable, problem: str, rng: np.random.Generator, ns: dict) -> Iterator[Observation]:
    """Batches of 1 to 100 samples at values of A from near to far (errors in the thousands, logits up to
    +-80): the loss of the model's output and its gradient with respect to A."""
    tf, model = ns["tf"], ns[f"{problem}_model"]
    A_values = {"regression": (-50.0, -0.5, 0.0, 3.3, 10.0, 200.0),
                "classification": (-60.0, -5.0, 0.0, 0.7, 12.0, 80.0)}[problem]
    for size, A_value in itertools.product((1, 2, 3, 10, 100), A_values):
        x, y = _samples(problem, rng, size)
        A = tf.Variable([A_value])
        with tf.GradientTape() as tape:
            value, seen = _called(loss, model(x, A), y)
        label = f"loss of {size} samples at A = {A_value}"
        yield label, seen
        yield f"gradient of the {label}", _called(tape.gradient, value, A)[1]


def _optimizer_runs(make: Callable, problem: str, rng: np.random.Generator, ns: dict) -> Iterator[Observation]:
    """Three new optimizers, each making 12 updates of a fresh variable with gradients from 1e-3 to 1e2 of
    both signs (a rate, momentum, any state or clipping shows)."""
    tf = ns["tf"]
    for run in range(3):
        optimizer, variable = make(), tf.Variable([1.0, -2.0])
        for update in range(12):
            gradient = tf.constant(rng.choice([-1.0, 1.0], 2) * 10.0 ** rng.uniform(-3.0, 2.0, 2), tf.float32)
            _, seen = _called(lambda: optimizer.apply_gradients([(gradient, variable)]))
            yield f"optimizer {run + 1}, update {update + 1}", (seen[0], None)
            yield f"optimizer {run + 1}, variable after update {update + 1}", observed(variable)


def _step_runs(step: Callable, problem: str, rng: np.random.Generator, ns: dict) -> Iterator[Observation]:
    """Two steps in a row from several starts, on batches of 1, 3 and 10, handed plain gradient descent at
    various rates: the loss returned and A after each step."""
    tf = ns["tf"]
    starts = {"regression": (-3.0, 0.0, 0.5, 7.0, 12.0), "classification": (-4.0, -1.0, 0.0, 3.0, 10.0)}[problem]
    rates = (0.01, 0.02, 0.05, 0.3)
    for k, (start, size) in enumerate(itertools.product(starts, (1, 3, 10))):
        x, y = _samples(problem, rng, size)
        A, rate = tf.Variable([start]), rates[k % len(rates)]
        optimizer = tf.keras.optimizers.SGD(learning_rate=rate)
        for repeat in (1, 2):
            label = f"step {repeat} from A = {start} on {size} samples at rate {rate}"
            yield label, _called(step, A, x, y, optimizer)[1]
            yield f"A after {label}", observed(A)


def _loop_runs(train: Callable, problem: str, rng: np.random.Generator, ns: dict) -> Iterator[Observation]:
    """Several index lists (a list, a NumPy array, repeats, none) on 8 samples with varied targets, handed
    plain gradient descent at the example's rate and others: the history returned and A at the end."""
    tf = ns["tf"]
    index_lists = ([0], [3, 1, 4, 1, 5], rng.integers(0, 8, 20), [7, 7, 7], [])
    rates = {"regression": 0.02, "classification": 0.05}[problem], 0.013, 0.2
    for indices, rate in itertools.product(index_lists, rates):
        x, y = _samples(problem, rng, 8)
        A = tf.Variable([float(rng.normal(2.0, 3.0))])
        label = f"indices {list(indices)} at rate {rate}"
        yield label, _called(train, x, y, A, tf.keras.optimizers.SGD(learning_rate=rate), indices)[1]
        yield f"A after {label}", observed(A)


def _predict_runs(predict: Callable, problem: str, rng: np.random.Generator, ns: dict) -> Iterator[Observation]:
    """Points on both sides of the boundary x = -A, on it exactly, and around it, for several A."""
    tf = ns["tf"]
    offsets = np.float32([-5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0])
    for A_value in (-1.0, 0.0, 2.5, -7.3, 10.0, 0.37):
        boundary = np.float32(-A_value)
        x = np.concatenate([boundary + offsets, rng.normal(boundary, 3.0, 10).astype(np.float32)])
        yield f"classes at A = {A_value}", _called(predict, x, tf.Variable([A_value]))[1]


BATTERIES = {
    "regression_loss": (_loss_runs, "regression"),
    "make_regression_optimizer": (_optimizer_runs, "regression"),
    "regression_train_step": (_step_runs, "regression"),
    "train_regression": (_loop_runs, "regression"),
    "classification_loss": (_loss_runs, "classification"),
    "make_classification_optimizer": (_optimizer_runs, "classification"),
    "classification_train_step": (_step_runs, "classification"),
    "train_classification": (_loop_runs, "classification"),
    "predict": (_predict_runs, "classification"),
}
CELLS = tuple(BATTERIES)


def behaviour(cell: str, source: str, namespace: dict, seed: int) -> Iterator[Observation]:
    """The battery of `cell` run on the function `source` defines, beside the reference's other functions
    (`namespace`: the notebook's setup and solution cells), on inputs drawn from `seed`; lazily, one
    observation at a time."""
    scope = dict(namespace)
    exec(compile(source, f"<{cell}>", "exec"), scope)
    battery, problem = BATTERIES[cell]
    return battery(scope[cell], problem, np.random.default_rng([seed, CELLS.index(cell)]), scope)
