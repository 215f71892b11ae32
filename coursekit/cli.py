"""The instructor's command line: `autograder grade`, `autograder demo` and `autograder selfcheck`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path



def _names(text: str) -> tuple[str, ...]:
    return tuple(name for name in text.split(",") if name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["grade"]:  # the grading runtime alone: no tooling imported
        from autograder.gradeapp import main as grade

        return grade(argv[1:])
    from .corpus import BY_NAME
    from .demo import DEMO_MISTAKES, run_demo
    from .selfcheck import CI_SUBSET, VIAS, expectations, run_selfcheck

    parser = argparse.ArgumentParser(prog="autograder", description="Grading tools of the backprop course.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("grade", add_help=False, help="autograde every submission of an assignment in parallel, "
                        "into the nbgrader gradebook (nbgrader's options; `autograder grade --help` for all)")
    demo = commands.add_parser("demo", help="grade a demo class (the reference, a blank notebook and typical "
                               "mistakes) with the real nbgrader commands, and print the grades")
    demo.add_argument("--dir", type=Path, default=run_demo.__kwdefaults__["directory"],
                      help="where to build the demo course (replaced if it exists; default: %(default)s)")
    demo.add_argument("--mistakes", type=_names, default=DEMO_MISTAKES,
                      help=f"comma-separated mistakes to include, from: {', '.join(BY_NAME)}")
    check = commands.add_parser("selfcheck", help="grade known submissions (reference, blank, idioms, mistakes, "
                                "attacks) through nbgrader and print expected vs got, item by item")
    check.add_argument("--via", choices=tuple(VIAS), default=run_selfcheck.__kwdefaults__["via"],
                       help="grade through plain `nbgrader autograde`, `autograder grade`, or both, one after the "
                       "other on the same course, listing every item they score differently (default: %(default)s)")
    check.add_argument("--dir", type=Path, default=run_selfcheck.__kwdefaults__["directory"],
                       help="where to build the course (replaced if it exists; default: %(default)s)")
    scope = check.add_mutually_exclusive_group()
    scope.add_argument("--all", action="store_true", help="the whole corpus (every known submission: about 40 seconds each through plain nbgrader here)")
    scope.add_argument("--only", type=_names, help="comma-separated corpus entries, such as mistake:l1_loss")
    check.add_argument("--list", action="store_true", help="list the corpus entries and stop")
    args = parser.parse_args(argv)

    if args.command == "demo":
        unknown = [name for name in args.mistakes if name not in BY_NAME]
        if unknown:
            parser.error(f"unknown mistakes: {', '.join(unknown)}")
        run_demo(directory=args.dir, mistakes=args.mistakes)
        return 0
    if args.list:
        print("\n".join(e.name for e in expectations(args.dir)))
        return 0
    names = None if args.all else (args.only or CI_SUBSET)
    unknown = set(names or ()) - {e.name for e in expectations(args.dir)}
    if unknown:
        parser.error(f"not in the corpus: {', '.join(sorted(unknown))} (see --list)")
    return 0 if run_selfcheck(directory=args.dir, names=names, via=args.via).ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
