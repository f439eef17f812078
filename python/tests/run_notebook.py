"""Runs a notebook headless (nbclient, Debian's python3-nbclient) and fails on any cell error.

    run_notebook.py NOTEBOOK OUT_DIR

The executed notebook (with its outputs) is written to OUT_DIR; the notebook's own outputs go
to OUT_DIR too ($QDET_NB_OUT). CI-sized defaults for the notebook's settings (few images) are
set here unless the environment already has them.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    notebook, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QDET_NB_OUT", str(out_dir / "study"))
    os.environ.setdefault("QDET_NB_LIMIT", "8")
    os.environ.setdefault("QDET_NB_CALIB_COUNT", "8")
    os.environ.setdefault("QDET_NB_RUNS", "5")
    # The kernel's own inline backend, so that every figure lands in the executed notebook.
    os.environ.pop("MPLBACKEND", None)
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out_dir)}})
    start = time.time()
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"{notebook}: a cell failed:\n{e}", file=sys.stderr)
        return 1
    finally:
        nbformat.write(nb, out_dir / notebook.name)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    if errors:
        print(f"{notebook}: {len(errors)} error output(s)", file=sys.stderr)
        return 1
    cells = sum(c.cell_type == "code" for c in nb.cells)
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", []))
    print(f"{notebook.name}: {cells} code cells ran without error in {time.time() - start:.0f} s, "
          f"{figures} figures (executed copy: {out_dir / notebook.name})")
    if figures < int(os.environ.get("QDET_NB_MIN_FIGURES", "5")):
        print(f"{notebook}: expected the notebook's 5 figures, got {figures}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
