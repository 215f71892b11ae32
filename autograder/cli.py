"""The instructor's command line: `autograder demo`."""
from __future__ import annotations

import argparse
from pathlib import Path

from .demo import DEMO_MISTAKES, run_demo
from .corpus import BY_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autograder", description="Grading tools of the backprop course.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="grade a demo class (the reference, a blank notebook and typical "
                               "mistakes) with the real nbgrader commands, and print the grades")
    demo.add_argument("--dir", type=Path, default=run_demo.__kwdefaults__["directory"],
                      help="where to build the demo course (replaced if it exists; default: %(default)s)")
    demo.add_argument("--mistakes", default=",".join(DEMO_MISTAKES),
                      help=f"comma-separated mistakes to include, from: {', '.join(BY_NAME)}")
    args = parser.parse_args(argv)
    if args.command == "demo":
        mistakes = tuple(name for name in args.mistakes.split(",") if name)
        unknown = [name for name in mistakes if name not in BY_NAME]
        if unknown:
            parser.error(f"unknown mistakes: {', '.join(unknown)}")
        run_demo(directory=args.dir, mistakes=mistakes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
