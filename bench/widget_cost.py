"""What the notebook's widget cells (nine "Check my work" buttons, two training explorers) add to a graded
run, side by side with the rest of the notebook in the same run.

Headless the widgets train nothing: each cell builds its widgets (an explorer also draws its first, empty
frame). Timed cell by cell in a warm process (`run_in_process`), and ipywidgets' first import in a fresh
interpreter, as a kernel pays it once.

    .venv/bin/python bench/widget_cost.py
"""
import contextlib
import io
import os
import subprocess
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

from coursekit.submissions import reference_answers, run_in_process  # noqa: E402

IMPORT = "import time; t = time.perf_counter(); import ipywidgets; print(time.perf_counter() - t)"


def main() -> None:
    seconds: dict[str, float] = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the notebook's own prints
        run_in_process(reference_answers())  # warm: TensorFlow imported, the helpers imported, functions traced
        run_in_process(reference_answers(), seconds=seconds)
    widgets = {cell: s for cell, s in seconds.items() if cell.startswith(("check_", "explore_"))}
    notebook = sum(seconds.values())
    first_import = float(subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True,
                                        check=True).stdout)
    print(f"the whole notebook, warm, in this process:   {notebook:6.2f} s")
    print(f"of which its {len(widgets)} widget cells:              {sum(widgets.values()):6.2f} s "
          f"({sum(widgets.values()) / notebook:.1%})")
    for cell, s in sorted(widgets.items(), key=lambda item: -item[1])[:3]:
        print(f"    {cell:<36} {s:6.3f} s")
    print(f"ipywidgets' first import (once per kernel):  {first_import:6.2f} s")
    print(f"widget cost per graded run: {sum(widgets.values()) + first_import:.2f} s, "
          f"ratio to the notebook {(sum(widgets.values()) + first_import) / notebook:.3f}")


if __name__ == "__main__":
    main()
