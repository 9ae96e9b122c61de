#!/usr/bin/env python3
"""Executes a notebook with nbclient and fails (exit 1) if any cell raises.

Run it with the venv's python (scripts/test_python.sh does) so the kernel imports the installed
pstable: the kernel is started with this very interpreter. Usage:
    run_notebook.py NOTEBOOK [--timeout SECONDS] [--output EXECUTED.ipynb]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


KERNEL = "pstable-run-notebook"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, default=300, help="per cell, seconds")
    parser.add_argument("--output", type=Path, help="write the executed notebook here")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    started = time.monotonic()
    # The kernel must run this interpreter (the venv's, which imports the installed pstable), not
    # whatever "python3" kernelspec the system has (Debian's runs /usr/bin/python3): a private
    # kernelspec, found first through $JUPYTER_PATH.
    with tempfile.TemporaryDirectory() as jupyter_path:
        spec = Path(jupyter_path, "kernels", KERNEL)
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python ({sys.executable})", "language": "python",
            "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},  # quiet debugpy's frozen-modules note
        }))
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            p for p in (jupyter_path, os.environ.get("JUPYTER_PATH")) if p)
        client = NotebookClient(
            nb, timeout=args.timeout, kernel_name=KERNEL,
            resources={"metadata": {"path": str(args.notebook.parent.resolve())}},
        )
        try:
            client.execute()
        except CellExecutionError as e:
            print(f"run_notebook.py: {args.notebook}: a cell failed:\n{e}", file=sys.stderr)
            return 1
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    if errors:
        print(f"run_notebook.py: {args.notebook}: {len(errors)} error output(s)", file=sys.stderr)
        return 1
    if args.output:
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, args.output)
    print(f"run_notebook.py: {args.notebook} ran in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
