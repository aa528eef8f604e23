"""The notebooks in notebooks/ execute from start to end, figures first.

They are jupytext percent-format scripts; each is converted to a notebook and run
on a fresh ipykernel by nbclient, as a reader would run it.
"""

from pathlib import Path

import jupytext
import nbclient
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


def test_four_notebooks():
    assert [path.stem[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell, if any cell fails
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    first_output = [out for out in code[0].outputs if out.get("data")]
    assert any("image/png" in out["data"] for out in first_output), "figure first"
    assert notebook.cells[0].cell_type == "markdown"
    assert notebook.cells[0].source.splitlines()[0].startswith("# ")
