"""What `autograder grade` shows while it works: a progress bar on a terminal, one line per submission
otherwise, and a summary at the end."""
from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections import Counter
from typing import TextIO

from .coordinator import Outcome

BAR_WIDTH = 24


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def _score(outcome: Outcome) -> str:
    return "" if outcome.score is None else f"{outcome.score:g}/{outcome.max_score:g}"


class Progress:
    """Counts finished submissions; draws a bar with rate and ETA on a terminal, or logs a line each.

    Log records go through `handler` so that on a terminal they print above the bar, not through it.
    """

    def __init__(self, total: int, stream: TextIO | None = None, interactive: bool | None = None):
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.total, self.stream = total, stream or (sys.stderr if self.interactive else sys.stdout)
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self._lock = threading.RLock()
        self.handler = _AboveTheBar(self)

    @property
    def finished(self) -> int:
        return sum(self.counts.values())

    def done(self, outcome: Outcome) -> None:
        with self._lock:
            self.counts[outcome.status] += 1
            if self.interactive:
                self._draw()
            else:
                detail = _score(outcome) if outcome.status == "graded" else outcome.reason
                self.stream.write(f"[{self.finished}/{self.total}] {outcome.student}: {outcome.status}"
                                  f"{' ' + detail if detail else ''} ({outcome.seconds:.1f} s)\n")
                self.stream.flush()

    def say(self, text: str) -> None:
        with self._lock:
            self._clear()
            self.stream.write(text + "\n")
            self._draw()

    def bar(self) -> str:
        elapsed = time.monotonic() - self.started
        done = self.finished
        filled = BAR_WIDTH * done // max(self.total, 1)
        rate = done / elapsed * 60 if elapsed > 0 else 0.0
        eta = _clock((self.total - done) * elapsed / done) if done else "?"
        failed = f", {self.counts['failed']} failed" if self.counts["failed"] else ""
        return (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self.total}{failed}  "
                f"{rate:.1f}/min  elapsed {_clock(elapsed)}  ETA {eta}")

    def _draw(self) -> None:
        if self.interactive:
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r" + self.bar()[:width])
            self.stream.flush()

    def _clear(self) -> None:
        if self.interactive:
            self.stream.write("\r\033[K")

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()


class _AboveTheBar(logging.Handler):
    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.say(self.format(record))


def summary(outcomes: list[Outcome], seconds: float, workers: int) -> str:
    """The counts, the time, and every submission not graded with the reason."""
    counts = Counter(outcome.status for outcome in outcomes)
    graded = [o for o in outcomes if o.status == "graded"]
    lines = [f"{'graded':<12} {counts['graded']:>5}",
             f"{'skipped':<12} {counts['skipped']:>5}  (graded before at the same timestamp; --force grades again)",
             f"{'failed':<12} {counts['failed']:>5}"]
    if counts["interrupted"]:
        lines.append(f"{'interrupted':<12} {counts['interrupted']:>5}  (not graded; run again to grade them)")
    per = f", {seconds / len(graded):.1f} s per graded submission" if graded else ""
    lines.append(f"{'time':<12} {_clock(seconds):>5}  ({seconds:.1f} s on {workers} worker(s){per})")
    problems = [o for o in outcomes if o.status in ("failed", "interrupted")]
    if problems:
        lines.append("")
        lines.append(f"{'student':<24} {'status':<12} why")
        lines += [f"{o.student:<24} {o.status:<12} {o.reason}" for o in sorted(problems, key=lambda o: o.student)]
    return "\n".join(lines)
