"""Side by side: this grader against nbgrader, otter-grader and a naive nbclient baseline.

    .venv/bin/python bench/compare_peers.py --peers-python /tmp/peers-venv/bin/python [--n 100]
        [--tools grader,grader-j1,nbclient,nbgrader,otter] [--repeat 1]
    .venv/bin/python bench/compare_peers.py --scale 10,100,1000     # this grader alone

Generates one class of N ``custom_layer`` notebooks (correct ones and each common mistake), grades
it with every tool on the same machine, and prints seconds per notebook, the ratio to this grader,
peak memory, and whether the tools agree on who has full marks. Peer tools run from
``--peers-python``'s environment (bench/requirements-peers.txt). See bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from measure import Measure, measure
from nbformat.v4 import new_code_cell, new_notebook
from peer_class import (
    CHECKS,
    CORRECT,
    KERNEL,
    MAX_SCORE,
    TESTS,
    VARIANTS,
    make_class,
    student_cells,
    write_plain_class,
)

INSTALL = "python3.11 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install torch==2.13.0 " \
          "-r bench/requirements-peers.txt, then pass --peers-python /tmp/peers-venv/bin/python"


# ---------------------------------------------------------------- the tools

@dataclass
class Run:
    """One tool's run: the measure and each student's score (None: no score came back)."""
    measure: Measure
    scores: dict[str, float | None]


@dataclass
class Bench:
    work: Path
    students: dict[str, str]
    peers_python: Path

    @property
    def plain(self) -> Path:
        return self.work / "class"

    def peer(self, name: str) -> Path:
        return self.peers_python.with_name(name)

    @property
    def env(self) -> dict[str, str]:
        """As if the peers' environment were activated: nbgrader runs ``alembic`` from PATH."""
        return {**os.environ, "PATH": f"{self.peers_python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def setup(self, command: list[str], cwd: Path) -> None:
        """Run a peer's set-up step; its output goes to the work folder's log when it fails."""
        done = subprocess.run(command, cwd=cwd, env=self.env, capture_output=True, text=True)
        if done.returncode:
            (self.work / "setup.log").write_text(done.stdout + done.stderr)
            raise RuntimeError(f"{' '.join(command[:2])} failed: see {self.work / 'setup.log'}")


def grader_command() -> list[str]:
    grader = Path(sys.executable).with_name("grader")
    return [str(grader)] if grader.exists() else [sys.executable, "-m", "grader"]


def run_grader(bench: Bench, tag: str, jobs: int | None = None) -> Run:
    out = bench.work / f"out-{tag}"
    command = grader_command() + ["grade", "custom_layer", str(bench.plain), "-o", str(out)]
    result = measure(command + (["-j", str(jobs)] if jobs else []), bench.work, bench.work / f"{tag}.log")
    scores: dict[str, float | None] = dict.fromkeys(bench.students)
    if (out / "scores.csv").exists():
        with open(out / "scores.csv") as f:
            scores.update({row["student"]: float(row["score"]) for row in csv.DictReader(f)})
    return Run(result, scores)


RESULTS_MARK = "@@bench-results@@"
RUN_TESTS = f'''
import json as _json
_MyLinear, _scores = globals().get("MyLinear"), {{}}
for _name, _points, _hidden in {TESTS!r}:
    try:
        globals()["check_" + _name](_MyLinear)
        _scores[_name] = _points
    except Exception:
        _scores[_name] = 0
print({RESULTS_MARK!r} + _json.dumps(_scores))
'''


def nbclient_worker(folder: Path, out: Path) -> None:
    """The naive baseline (runs in the peers' Python): a kernel per notebook, then the tests sent into it."""
    from nbclient import NotebookClient
    scores: dict[str, float | None] = {}
    for path in sorted(folder.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        notebook.cells.append(new_code_cell(CHECKS + RUN_TESTS))
        try:
            NotebookClient(notebook, timeout=60, allow_errors=True, kernel_name="python3",
                           resources={"metadata": {"path": str(folder)}}).execute()
            text = "".join(o.get("text", "") for o in notebook.cells[-1].outputs if o.output_type == "stream")
            scores[path.stem] = sum(json.loads(text.split(RESULTS_MARK)[1].splitlines()[0]).values())
        except Exception as error:  # a baseline reports a broken notebook and goes on
            print(f"{path.name}: {type(error).__name__}: {error}", file=sys.stderr)
            scores[path.stem] = None
    out.write_text(json.dumps(scores))


def run_nbclient(bench: Bench, tag: str) -> Run:
    out = bench.work / f"{tag}.json"
    command = [str(bench.peers_python), __file__, "--nbclient-worker", str(bench.plain), str(out)]
    result = measure(command, bench.work, bench.work / f"{tag}.log", bench.env)
    scores: dict[str, float | None] = dict.fromkeys(bench.students)
    if out.exists():
        scores.update(json.loads(out.read_text()))
    return Run(result, scores)


def nbgrader_cell(cell, grade_id: str, points: int | None = None):
    solution = points is None
    cell.metadata["nbgrader"] = {"grade": not solution, "solution": solution, "locked": not solution,
                                 "grade_id": grade_id, "schema_version": 3}
    if not solution:
        cell.metadata["nbgrader"]["points"] = points
    return cell


def build_nbgrader_course(bench: Bench) -> Path:
    """A course directory: source notebook with test cells, release, one submission per student, gradebook."""
    course = bench.work / "nbgrader"
    (course / "source" / "custom_layer").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'bench'\nc.CourseDirectory.root = {str(course)!r}\n")
    cells = student_cells("correct")
    cells[2] = nbgrader_cell(new_code_cell(f"### BEGIN SOLUTION\n{CORRECT}### END SOLUTION\n"), "mylinear")
    for name, points, hidden in TESTS:
        body = f"{CHECKS}\ncheck_{name}(MyLinear)\n"
        body = f"### BEGIN HIDDEN TESTS\n{body}### END HIDDEN TESTS\n" if hidden else body
        cells.append(nbgrader_cell(new_code_cell(body), f"test_{name}", points))
    source = course / "source/custom_layer/custom_layer.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata=KERNEL), source)
    bench.setup([str(bench.peer("nbgrader")), "generate_assignment", "custom_layer", "--force"], course)
    release = nbformat.read(course / "release/custom_layer/custom_layer.ipynb", as_version=4)
    for student, variant in bench.students.items():
        for index, cell in enumerate(student_cells(variant)[1:], start=1):
            release.cells[index].source = cell.source
        (course / "submitted" / student / "custom_layer").mkdir(parents=True)
        nbformat.write(release, course / "submitted" / student / "custom_layer/custom_layer.ipynb")
    return course


def run_nbgrader(bench: Bench, tag: str) -> Run:
    course = bench.work / "nbgrader"
    if not course.exists():
        build_nbgrader_course(bench)
    shutil.rmtree(course / "autograded", ignore_errors=True)
    nbgrader = str(bench.peer("nbgrader"))
    result = measure([nbgrader, "autograde", "custom_layer", "--force"], course, bench.work / f"{tag}.log",
                     bench.env)
    bench.setup([nbgrader, "export", "--to", f"{tag}.csv"], course)
    scores: dict[str, float | None] = dict.fromkeys(bench.students)
    with open(course / f"{tag}.csv") as f:
        scores.update({row["student_id"]: float(row["score"]) for row in csv.DictReader(f)})
    return Run(result, scores)


def build_otter_autograder(bench: Bench) -> Path:
    """An autograder zip from ``otter generate`` with one exception-based test file of the same checks."""
    folder = bench.work / "otter"
    (folder / "tests").mkdir(parents=True)
    cases = "".join(f"\n@test_case(name={name!r}, points={points}, hidden={hidden})\n"
                    f"def test_{name}(MyLinear):\n    check_{name}(MyLinear)\n"
                    for name, points, hidden in TESTS)
    (folder / "tests/mylinear.py").write_text(
        f"OK_FORMAT = False\nfrom otter.test_files import test_case\nname = 'mylinear'\n{CHECKS}{cases}")
    bench.setup([str(bench.peer("otter")), "generate", "-t", "tests", "-o", "autograder.zip", "--no-config",
                 "--no-requirements", "--no-environment"], folder)
    return folder / "autograder.zip"


def run_otter(bench: Bench, tag: str) -> Run:
    autograder = bench.work / "otter/autograder.zip"
    if not autograder.exists():
        build_otter_autograder(bench)
    out = bench.work / f"out-{tag}"
    loop = ('for f in "$2"/*.ipynb; do s=$(basename "$f" .ipynb); mkdir -p "$3/$s"; '
            '"$0" run -a "$1" -o "$3/$s" --no-logo "$f" || echo "$s: otter run failed"; done')
    command = ["bash", "-c", loop, str(bench.peer("otter")), str(autograder), str(bench.plain), str(out)]
    result = measure(command, bench.work, bench.work / f"{tag}.log", bench.env)
    scores: dict[str, float | None] = dict.fromkeys(bench.students)
    for student in bench.students:
        report = out / student / "results.json"
        if report.exists():
            scores[student] = sum(test.get("score") or 0 for test in json.loads(report.read_text())["tests"])
    return Run(result, scores)


TOOLS = {  # name -> (runner, executable it needs next to --peers-python, or None for this grader)
    "grader": (lambda bench, tag: run_grader(bench, tag), None),
    "grader-j1": (lambda bench, tag: run_grader(bench, tag, jobs=1), None),
    "nbclient": (run_nbclient, "python"),
    "nbgrader": (run_nbgrader, "nbgrader"),
    "otter": (run_otter, "otter"),
}


def unavailable(tool: str, bench: Bench) -> str | None:
    """Why ``tool`` cannot run here (None when it can)."""
    needs = TOOLS[tool][1]
    if needs is None:
        ok = subprocess.run(grader_command() + ["--help"], capture_output=True).returncode == 0
        return None if ok else "this grader is not installed in this Python: pip install -e ."
    if not bench.peers_python.exists():
        return f"no Python at {bench.peers_python}: {INSTALL}"
    if needs == "python":
        probe = "import nbclient, ipykernel, nbformat, torch, matplotlib"
        if subprocess.run([str(bench.peers_python), "-c", probe], capture_output=True).returncode:
            return f"{bench.peers_python} lacks nbclient, ipykernel, torch or matplotlib: {INSTALL}"
    elif not bench.peer(needs).exists():
        return f"no {needs} next to {bench.peers_python}: {INSTALL}"
    return None


def versions(bench: Bench) -> str:
    names = ("nbgrader", "otter-grader", "nbclient", "ipykernel", "torch")
    script = (f"import importlib.metadata as m\nfor n in {names!r}:\n"
              "    try: print(f'{n} {m.version(n)}', end=', ')\n    except m.PackageNotFoundError: pass")
    found = ""
    if bench.peers_python.exists():
        found = subprocess.run([str(bench.peers_python), "-c", script], capture_output=True, text=True).stdout
    from importlib.metadata import version
    return (f"grader {version('torchgrader')}, torch {version('torch')}; peers ({bench.peers_python}): "
            f"{found.rstrip(', ') or 'none'}")


# ---------------------------------------------------------------- reporting

MEMORY_HEADER = f"{'largest proc':>12} {'tree RSS':>9} {'tree PSS':>9}"


def memory_columns(runs: list[Run]) -> str:
    """The peaks over ``runs``: the largest single process, the tree's summed RSS and summed PSS."""
    columns = []
    for key in ("rss_largest", "rss_tree", "pss_tree"):
        values = [getattr(r.measure, key) for r in runs if getattr(r.measure, key) is not None]
        columns.append(f"{max(values):6.0f} MB" if values else "n/a")
    return f"{columns[0]:>12} {columns[1]:>9} {columns[2]:>9}"


def loads(runs: list[Run]) -> str:
    return ", ".join(f"{r.measure.load[0]:.2f}->{r.measure.load[1]:.2f}" for r in runs)


def print_summary(n: int, runs: dict[str, list[Run]]) -> None:
    print(f"\n{'tool':10} {'s/notebook':>10} {'vs grader':>12} {'wall':>9} {MEMORY_HEADER}  load before->after")
    walls = {tool: statistics.median(r.measure.seconds for r in tool_runs) for tool, tool_runs in runs.items()}
    base = walls.get("grader")
    for tool, tool_runs in runs.items():
        ratio = "" if base is None else f"{walls[tool] / base:.1f}x"
        print(f"{tool:10} {walls[tool] / n:10.3f} {ratio:>12} {walls[tool]:7.1f} s "
              f"{memory_columns(tool_runs)}  {loads(tool_runs)}")
    print(f"(wall: median of {max(len(r) for r in runs.values())} run(s), start-up included; memory: peaks)\n")
    for tool in runs:
        if tool != "grader" and base is not None:
            ratio = walls[tool] / base
            than = "about as fast as" if 0.95 < ratio < 1.05 else (
                f"{ratio:.1f}x slower than" if ratio > 1 else f"{1 / ratio:.1f}x faster than")
            print(f"{tool}: {walls[tool] / n:.2f} s/notebook, {than} the grader ({base / n:.3f} s/notebook)")


def check_agreement(students: dict[str, str], runs: dict[str, list[Run]]) -> bool:
    """Every tool's full-mark set against the intended one; a table of the students where any differs."""
    intended = {s for s, variant in students.items() if VARIANTS[variant][2]}
    scores = {tool: tool_runs[-1].scores for tool, tool_runs in runs.items()}
    differing = [s for s in students
                 if any((scores[tool][s] == MAX_SCORE) != (s in intended) for tool in scores)]
    if not differing:
        same = sum(len({scores[tool][s] for tool in scores}) == 1 for s in students)
        print(f"agreement: all {len(scores)} tools give full marks to the same {len(intended)} of "
              f"{len(students)} submissions (the intended ones); identical scores for {same} of "
              f"{len(students)}")
        return True
    print(f"DISAGREEMENT on {len(differing)} submissions (score out of {MAX_SCORE}; None: no score came back):")
    print(f"{'student':14}{'variant':16}{'intended':>9}" + "".join(f"{tool:>11}" for tool in scores))
    for s in differing:
        print(f"{s:14}{students[s]:16}{'full' if s in intended else 'partial':>9}"
              + "".join(f"{str(scores[tool][s]):>11}" for tool in scores))
    return False


# ---------------------------------------------------------------- the two modes

def compare(args: argparse.Namespace, work: Path) -> int:
    students = make_class(args.n)
    bench = Bench(work, students, Path(args.peers_python))
    write_plain_class(bench.plain, students)
    print(f"custom_layer, N = {args.n} notebooks ({', '.join(sorted(set(students.values())))}), "
          f"{os.cpu_count()} cores, {versions(bench)}")
    runs: dict[str, list[Run]] = {}
    for tool in args.tools:
        reason = unavailable(tool, bench)
        if reason:
            print(f"{tool}: skipped ({reason})")
            continue
        runs[tool] = []
        for repeat in range(args.repeat):
            try:
                run = TOOLS[tool][0](bench, f"{tool}-{repeat}")
            except (RuntimeError, OSError) as error:
                print(f"{tool}: failed ({error})")
                break
            runs[tool].append(run)
            m = run.measure
            print(f"{tool} run {repeat + 1}: {m.seconds:.1f} s ({m.seconds / args.n:.3f} s/notebook), load "
                  f"{m.load[0]:.2f} -> {m.load[1]:.2f}" + "".join(f"; {note}" for note in m.notes), flush=True)
    runs = {tool: tool_runs for tool, tool_runs in runs.items() if tool_runs}
    if not runs:
        return 1
    print_summary(args.n, runs)
    return 0 if check_agreement(students, runs) else 1


def scale(args: argparse.Namespace, work: Path) -> int:
    print(f"this grader alone, default settings, {os.cpu_count()} cores, median of {args.repeat} run(s) a size")
    print(f"{'N':>6} {'wall':>9} {'s/submission':>12} {'marginal':>9} {MEMORY_HEADER}  load before->after")
    previous, ok = None, True
    for size in args.scale:
        students = make_class(size)
        bench = Bench(work / f"n{size}", students, Path(sys.executable))
        write_plain_class(bench.plain, students)
        runs = [run_grader(bench, f"grader-{repeat}") for repeat in range(args.repeat)]
        intended = {s for s, variant in students.items() if VARIANTS[variant][2]}
        ok &= all({s for s, score in r.scores.items() if score == MAX_SCORE} == intended for r in runs)
        wall = statistics.median(r.measure.seconds for r in runs)
        marginal = "" if previous is None else f"{(wall - previous[1]) / (size - previous[0]):.3f} s"
        print(f"{size:6} {wall:7.1f} s {wall / size:12.3f} {marginal:>9} {memory_columns(runs)}  {loads(runs)}",
              flush=True)
        previous = (size, wall)
    print("marginal: the extra seconds each extra submission cost over the previous size (start-up cancels)")
    print("grades: right at every size" if ok else "grades: WRONG at some size (rerun with --keep; see logs)")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="notebooks in the class (default 100; 20: quick)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {', '.join(TOOLS)}")
    parser.add_argument("--peers-python", default=sys.executable,
                        help="the peers' environment's Python; their CLIs live next to it (default: this one)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; medians are reported")
    parser.add_argument("--scale", help="sizes, e.g. 10,100,1000: this grader alone at each size")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (classes, outputs, logs)")
    parser.add_argument("--nbclient-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.nbclient_worker:
        nbclient_worker(*map(Path, args.nbclient_worker))
        return 0
    args.tools = [tool.strip() for tool in args.tools.split(",") if tool.strip()]
    unknown = [tool for tool in args.tools if tool not in TOOLS]
    if unknown or args.n < 1 or args.repeat < 1:
        parser.error(f"unknown tool {unknown[0]!r}: choose from {', '.join(TOOLS)}" if unknown
                     else "--n and --repeat must be at least 1")
    if args.scale:
        try:
            args.scale = [int(size) for size in args.scale.split(",")]
        except ValueError:
            parser.error(f"--scale takes sizes like 10,100,1000, not {args.scale!r}")
    work = Path(tempfile.mkdtemp(prefix="compare-peers-"))
    try:
        return scale(args, work) if args.scale else compare(args, work)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
