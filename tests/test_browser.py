"""The student notebook in a real browser: JupyterLab and Notebook 7 (the pinned versions) on loopback with a
temporary token, driven through Debian's headless Chromium. Per front end: open the released notebook with the
reference answers filled in, Run All Cells from the menu, then use its widgets as a student would: move
sliders, press Train, see the plot change; push the learning rate until training diverges; press "Check my
work"; press nbgrader's own Validate button, and fetch and submit through its assignment list; and no
errors in the browser console. Screenshots go to build/screenshots/<lab|notebook7>/.

One server and one run of all cells per front end, shared by that front end's tests (in file order)."""
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser import (VIEWPORT, JupyterServer, chromium, error_outputs, jupyter_server, kernel_state, menu_command,
                     open_notebook, run_all_cells, screenshot, write_assignment, write_student_setup)

pytestmark = pytest.mark.slow

RUN_ALL_TIMEOUT = 180  # seconds: TensorFlow's import and 1500 training steps, on a loaded machine
TRAIN_TIMEOUT = 120_000  # ms for one press of Train (classification: 1400 steps and 20 plots)
EXERCISES = ["regression_loss", "make_regression_optimizer", "regression_train_step", "train_regression",
             "classification_loss", "make_classification_optimizer", "classification_train_step",
             "train_classification", "predict"]

# The PNG shown by an explorer-plot <img>, as a digest of its bytes (read back from its blob or data URL):
# a new blob URL alone does not mean a new picture.
PLOT_DIGEST_JS = """async img => {
    if (!img.complete || img.naturalWidth === 0) await img.decode();
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
}"""


@dataclass
class Session:
    kind: str
    server: JupyterServer
    page: Page
    prompts: list[str]  # the code cells' prompts after Run All
    exchange: Path  # the nbgrader exchange the server's nbgrader_config.py names
    errors: list[str] = field(default_factory=list)  # the browser's, on every page of this front end


@pytest.fixture(scope="module")
def web_browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module", params=["lab", "notebook7"])
def session(request, web_browser, tmp_path_factory):
    """The filled notebook open in one front end, all its cells run through the Run menu."""
    kind = request.param
    root, home = tmp_path_factory.mktemp(f"{kind}-root"), tmp_path_factory.mktemp(f"{kind}-home")
    exchange = tmp_path_factory.mktemp(f"{kind}-exchange")
    write_assignment(root)
    write_student_setup(root, exchange)
    with jupyter_server(kind, root, home) as server:
        context = web_browser.new_context(viewport=VIEWPORT)
        try:
            page = new_page(context, errors := [])
            try:
                open_notebook(page, server)
                prompts = run_all_cells(page, RUN_ALL_TIMEOUT)
            except Exception as error:
                screenshot(page, kind, "run-all-failed")
                raise AssertionError(f"opening the notebook or Run All failed in {kind}: {error}\nbrowser errors: "
                                     f"{errors}\nserver log:\n{server.log_tail()}") from error
            screenshot(page, kind, "run-all")
            yield Session(kind, server, page, prompts, exchange, errors)
        finally:
            context.close()


def new_page(context, errors: list[str]) -> Page:
    """A page whose uncaught exceptions and console errors are appended to `errors`."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("console", lambda message: errors.append(f"console: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return page


def explorer(session: Session, example: str):
    return session.page.locator(f".backprop-explorer-{example}")


def plot_digest(explorer_box) -> str:
    return explorer_box.locator("img.explorer-plot").evaluate(PLOT_DIGEST_JS)


def readout(explorer_box, slider: str):
    return explorer_box.locator(f".explorer-{slider} .widget-readout")


def type_into_readout(explorer_box, slider: str, value: str) -> str:
    """Type a value into a slider's readout and press Enter, as a student may; returns what the readout shows
    then (the slider snaps the value to its step), after checking it changed."""
    field_ = readout(explorer_box, slider)
    before = field_.inner_text()
    field_.click()
    field_.press("Control+A")
    field_.press_sequentially(value)
    field_.press("Enter")
    expect(field_).not_to_have_text(before)
    return field_.inner_text().strip()


def drag_slider(explorer_box, slider: str, pixels: int) -> str:
    """Drag a slider's handle `pixels` to the right (left if negative) with the mouse; returns the new
    readout, after checking it changed."""
    page = explorer_box.page
    before = readout(explorer_box, slider).inner_text()
    handle = explorer_box.locator(f".explorer-{slider} .noUi-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + pixels, y, steps=10)
    page.mouse.up()
    expect(readout(explorer_box, slider)).not_to_have_text(before)
    return readout(explorer_box, slider).inner_text().strip()


def press_arrow(explorer_box, slider: str, key: str, times: int) -> str:
    """Move a slider with the keyboard (its handle focused, `key` pressed `times`); returns the new readout,
    after checking it changed."""
    before = readout(explorer_box, slider).inner_text()
    handle = explorer_box.locator(f".explorer-{slider} .noUi-handle")
    handle.focus()
    for _ in range(times):
        handle.press(key)
    expect(readout(explorer_box, slider)).not_to_have_text(before, timeout=5_000)
    return readout(explorer_box, slider).inner_text().strip()


def train(explorer_box, until: re.Pattern) -> str:
    """Press Train and wait until the status says the run is over (matches `until`) and Train is enabled again."""
    explorer_box.locator("button.explorer-train").click()
    status = explorer_box.locator(".explorer-status")
    expect(status).to_have_text(until, timeout=TRAIN_TIMEOUT)
    expect(explorer_box.locator("button.explorer-train")).to_be_enabled()
    return status.inner_text()


def test_run_all_cells(session):
    """Every code cell ran, none wrote to stderr or failed, and every widget is on the page."""
    page = session.page
    assert error_outputs(page) == [], f"error or stderr outputs after Run All: {error_outputs(page)}"
    assert session.prompts and all(re.fullmatch(r"\[\d+\]:", prompt) for prompt in session.prompts), \
        f"not every code cell ran: {session.prompts}"
    assert kernel_state(session.server) == "idle"
    for example in ("regression", "classification"):
        box = explorer(session, example)
        expect(box).to_have_count(1)
        for part in ("learning-rate", "steps", "initial-A"):
            expect(box.locator(f".explorer-{part} .noUi-handle")).to_have_count(1)
        expect(box.locator("button.explorer-train")).to_have_text("Train")
        expect(box.locator("img.explorer-plot")).to_be_visible()
    for exercise in EXERCISES:
        expect(page.locator(f".check-my-work-{exercise} button")).to_have_text("Check my work")
    # ipywidgets shows this instead of a widget it cannot render (no widget manager, a model it cannot find).
    expect(page.locator(".jp-Notebook").get_by_text("Error displaying widget")).to_have_count(0)


def test_train_after_moving_the_steps_slider(session):
    """Drag the regression explorer's steps slider with the mouse, press Train: the plot changes and the
    status reports a run of the new number of steps."""
    box = explorer(session, "regression")
    box.scroll_into_view_if_needed()
    before = plot_digest(box)
    steps = drag_slider(box, "steps", 25)
    status = train(box, re.compile(rf"A = -?\d+\.\d+ after {steps} steps"))
    assert "nan" not in status.lower(), status
    assert plot_digest(box) != before, "the plot did not change after Train"
    screenshot(session.page, session.kind, "regression-trained")


def test_learning_rate_too_large_diverges(session):
    """A learning rate of 1.5, typed into the readout, makes regression diverge: the status says so in
    words, with no NaN in it, and the plot shows the run up to there."""
    box = explorer(session, "regression")
    box.scroll_into_view_if_needed()
    rate = type_into_readout(box, "learning-rate", "1.5")
    assert float(rate) >= 1.5, f"the learning rate readout shows {rate} after typing 1.5"
    before = plot_digest(box)
    status = train(box, re.compile(r"Diverged"))
    assert "nan" not in status.lower(), status
    # the readout shows d3's ".3g" (1.50), the status Python's (1.5)
    assert f"learning rate of {float(rate):.3g} " in status, f"the status does not name the rate {rate}: {status}"
    assert plot_digest(box) != before, "the plot did not change after a diverging run"
    screenshot(session.page, session.kind, "regression-diverged")


def test_classification_explorer_trains(session):
    """Move the classification explorer's initial-A slider, press Train: the run starts from the new A and
    the plot changes."""
    box = explorer(session, "classification")
    box.scroll_into_view_if_needed()
    before = plot_digest(box)
    start = drag_slider(box, "initial-A", -20)
    status = train(box, re.compile(r"A = -?\d+\.\d+ after \d+ steps"))
    assert f"from A = {float(start):g}" in status, status
    assert "nan" not in status.lower(), status
    assert plot_digest(box) != before, "the plot did not change after Train"
    screenshot(session.page, session.kind, "classification-trained")


def test_slider_arrow_keys(session, request):
    """A focused slider handle moves with the arrow keys. Not in Notebook 7.6.5: it handles shortcuts before
    the page does (JupyterLab lets widgets see keys first), and its command-mode ArrowRight/ArrowLeft
    shortcuts (notebook:move-cursor-heading-below-or-expand / -above-or-collapse) swallow the key."""
    if session.kind == "notebook7":
        request.applymarker(pytest.mark.xfail(strict=True, reason="Notebook 7.6.5's shortcuts take ArrowRight "
                                              "and ArrowLeft from a focused slider"))
    box = explorer(session, "regression")
    box.scroll_into_view_if_needed()
    press_arrow(box, "initial-A", "ArrowRight", 3)


def test_check_my_work(session):
    """"Check my work" under the reference regression loss says, in words, that it passes."""
    box = session.page.locator(".check-my-work-regression_loss")
    box.scroll_into_view_if_needed()
    result = box.locator(".check-my-work-result")
    box.get_by_role("button", name="Check my work").click()
    expect(result).to_have_text(re.compile(r"^\s*✓ regression_loss pass(es|ed)"), timeout=60_000)
    screenshot(session.page, session.kind, "check-my-work")


def test_nbgrader_validate(session):
    """nbgrader's Validate button, on the notebook's toolbar, validates the filled notebook: success."""
    page = session.page
    page.locator(".jp-NotebookPanel-toolbar").get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results", timeout=RUN_ALL_TIMEOUT * 1000)
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    screenshot(page, session.kind, "nbgrader-validate")
    dialog.get_by_role("button", name="Ok").click()
    expect(dialog).to_have_count(0)


def test_nbgrader_assignment_list(session):
    """nbgrader's assignment list (Nbgrader → Assignment List: a JupyterLab tab, or a tab of Notebook 7's file
    browser page) shows the released assignment; Fetch copies it into the student's folder, Submit puts the
    fetched notebook in the exchange's inbound."""
    if session.kind == "lab":
        page = session.page
    else:  # Notebook 7's notebook page has no Assignment List: it lives on the file browser page (/tree)
        page = new_page(session.page.context, session.errors)
        page.goto(f"{session.server.url}/tree?token={session.server.token}")
    menu_command(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list")
    expect(released).to_contain_text("backprop")
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list")
    expect(fetched.get_by_role("button", name="Submit")).to_be_visible()
    assert (session.server.root / "backprop" / "backprop.ipynb").is_file()
    fetched.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list")
    expect(submitted).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"))
    inbound = list((session.exchange / "backprop" / "inbound").glob("*+backprop+*/backprop.ipynb"))
    assert len(inbound) == 1, f"submissions in the exchange: {inbound}"
    screenshot(page, session.kind, "nbgrader-assignment-list")


# Errors the front ends log whatever this notebook does (checked with nbgrader's extension disabled, or
# only its validate-assignment plugin): Notebook 7.6.5's keyboard-shortcut settings plugin throws reading
# a schema on every page; nbgrader 0.9.6's validate-assignment plugin logs this on the file browser page,
# which has no notebook to add its button to.
KNOWN_ERRORS = {
    "lab": [],
    "notebook7": [r"uncaught: .*Cannot read properties of undefined \(reading 'schema'\)",
                  r"console: Cannot convert undefined or null to object"],
}


def test_no_browser_errors(session):
    """Neither the notebook, its widgets nor nbgrader's extension threw or logged an error in the browser
    during all the above (beyond the front end's own known ones)."""
    unexpected = [error for error in session.errors
                  if not any(re.fullmatch(known, error, re.DOTALL) for known in KNOWN_ERRORS[session.kind])]
    assert unexpected == [], f"errors in the browser: {unexpected}"
