"""Executes tslab notebooks headless through Jupyter's own client (nbclient) and saves their outputs.

Usage: execute_notebooks.py [--out DIR] [--cwd DIR] NOTEBOOK...
Without --out, each notebook is saved in place. The kernel starts in --cwd (default: the
notebook's own folder), so relative paths in cells resolve as they do in Jupyter. A failing cell is reported as
"notebook N, cell K: Error: message" and makes the exit status 1 (the other notebooks still run).
"""
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def failing_cell(nb):
    """The last executed code cell (nbclient stops at the failing one) and its error text."""
    last = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            last = (index, cell)
    if last is None:
        return None
    index, cell = last
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return index, cell, f"{output.get('ename')}: {output.get('evalue')}"
    # tslab reports compile errors and uncaught exceptions on stderr
    stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    wanted = re.compile(r"^(\w*(Error|Exception)\b[^(]*:|\d+:\d+ - )")  # "TypeError: ...", "3:7 - Cannot find ..."
    message = next((l for l in lines if wanted.match(l)), lines[-1] if lines else "failed")
    return index, cell, message


def run(path, out_dir, cwd):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="tslab",
        timeout=600,
        startup_timeout=120,
        resources={"metadata": {"path": cwd or os.path.dirname(os.path.abspath(path))}},
    )
    started = time.monotonic()
    failure = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        found = failing_cell(nb)
        if found:
            index, cell, message = found
            line = (cell.source.strip().splitlines() or [""])[0][:80]
            failure = f"cell {index} ({line!r}): {message}"
        else:
            failure = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    target = os.path.join(out_dir, os.path.basename(path)) if out_dir else path
    nbformat.write(nb, target)
    return failure, time.monotonic() - started


def main(argv):
    out_dir = None
    cwd = None
    while len(argv) >= 2 and argv[0] in ("--out", "--cwd"):
        if argv[0] == "--out":
            out_dir = argv[1]
            os.makedirs(out_dir, exist_ok=True)
        else:
            cwd = argv[1]
        argv = argv[2:]
    if not argv:
        print("execute_notebooks.py: no notebooks given", file=sys.stderr)
        return 2
    failed = 0
    for path in argv:
        failure, seconds = run(path, out_dir, cwd)
        name = os.path.basename(path)
        if failure:
            failed += 1
            print(f"FAIL notebook {name}, {failure}", file=sys.stderr)
        else:
            print(f"ok   notebook {name} ({seconds:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
