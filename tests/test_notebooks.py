"""Notebooks: `amlocal run NOTEBOOK.ipynb` executes the code cells in amlocal's IPython kernel,
saves the executed notebook in the workspace and follows the runs it submitted; `amlocal
kernel install` registers that kernel as `amlocal`, `python3-azureml` and `python38-azureml`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.conftest import REPO, amlocal

KERNEL_ARGV = [sys.executable, "-m", "runner.notebook.kernel", "-f", "{connection_file}"]


def _notebook(path: Path, *cells: str, kernel: str = "python3-azureml") -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# a notebook"), *(new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3 - AzureML", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _saved(stdout: str) -> Path:
    line = next(l for l in stdout.splitlines() if l.startswith("amlocal: executed notebook saved to "))
    return Path(line.removeprefix("amlocal: executed notebook saved to "))


def test_the_sample_notebook_builds_submits_and_its_run_finishes(tmp_path):
    from store.runs import get_pipeline_run, get_step_runs
    from store.workspace import open_workspace_at
    notebook = REPO / "sample_projects" / "v1_notebook" / "pipeline.ipynb"
    done = amlocal("run", str(notebook), cwd=tmp_path, env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")},
                   timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.splitlines()
    assert out[0] == "SDK version: 1.61.0"
    assert "Pipeline is submitted for execution" in out
    assert "mse: 0.262" in out
    run_id = out[-1].split()[2]
    assert out[-1] == f"amlocal: run {run_id} Finished; see `amlocal show {run_id[:8]}`"
    saved = _saved(done.stdout)
    assert saved.parent == tmp_path / ".amlocal" / "notebooks"
    assert saved.name.startswith("pipeline-") and saved.suffix == ".ipynb"
    with open_workspace_at(tmp_path / ".amlocal") as local:
        run = get_pipeline_run(local.conn, run_id)
        steps = get_step_runs(local.conn, run_id)
    assert (run.status, run.experiment_name, run.script) == ("Finished", "Notebook_Sample", str(notebook))
    assert run.parameters == {"test_fraction": 0.25}
    assert [(s.name, s.status) for s in steps] == [("prep", "Finished"), ("train", "Finished")]
    executed = nbformat.read(saved, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert code[0].outputs == [{"name": "stdout", "output_type": "stream", "text": "SDK version: 1.61.0\n"}]
    assert code[-1].outputs[0]["text"] == "mse: 0.262\n"
    assert executed.metadata["kernelspec"]["name"] == "python38-azureml"  # still opens on Azure
    assert not list(notebook.parent.glob("*.amlocal.ipynb")) and len(list(notebook.parent.iterdir())) == 2


def test_magics_work_and_a_notebook_that_submits_nothing_exits_zero(tmp_path):
    notebook = _notebook(tmp_path / "nb" / "magic.ipynb",
                         "import azureml.core, os\nprint(azureml.core.__file__.startswith(%r))" % str(REPO),
                         "!echo from-the-shell", "%%capture\nprint('hidden')", "x = 6 * 7\nx")
    done = amlocal("run", str(notebook), cwd=tmp_path, env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["True", "from-the-shell", "42"]
    assert done.stdout.splitlines()[3].startswith("amlocal: executed notebook saved to ")
    assert len(done.stdout.splitlines()) == 4


def test_a_failing_cell_is_one_line_naming_the_cell_and_the_notebook_is_saved(tmp_path):
    notebook = _notebook(tmp_path / "nb" / "broken.ipynb", "print('before')",
                         "def f():\n    return 1 / 0\n\nvalue = f()", "print('never')")
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    done = amlocal("run", str(notebook), cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "amlocal: error: broken.ipynb cell 2, line 2: ZeroDivisionError: division by zero"
    assert "Traceback" not in done.stderr and "never" not in done.stdout
    executed = nbformat.read(_saved(done.stdout), as_version=4)
    outputs = [c.outputs for c in executed.cells if c.cell_type == "code"]
    assert outputs[0][0]["text"] == "before\n"
    assert (outputs[1][0]["output_type"], outputs[1][0]["ename"]) == ("error", "ZeroDivisionError")
    assert outputs[2] == []
    traced = amlocal("run", "--traceback", str(notebook), cwd=tmp_path, env=env)
    assert traced.returncode == 1
    lines = traced.stderr.splitlines()
    assert "Cell In[2], line 4" in lines and "Cell In[2], line 2, in f()" in lines
    assert lines[-2:] == ["ZeroDivisionError: division by zero",
                          "amlocal: error: broken.ipynb cell 2, line 2: ZeroDivisionError: division by zero"]
    assert "\x1b[" not in traced.stderr


def test_notebook_mistakes_are_one_line(tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    missing = amlocal("run", str(tmp_path / "none.ipynb"), cwd=tmp_path, env=env)
    assert (missing.returncode, missing.stderr.splitlines()[-1]) == (
        1, f"amlocal: error: notebook {tmp_path / 'none.ipynb'} does not exist")
    (tmp_path / "bad.ipynb").write_text("not json")
    bad = amlocal("run", str(tmp_path / "bad.ipynb"), cwd=tmp_path, env=env)
    assert bad.returncode == 1 and bad.stderr.splitlines()[-1].startswith(
        "amlocal: error: bad.ipynb is not a Jupyter notebook: ")
    good = _notebook(tmp_path / "ok.ipynb", "print(1)")
    args = amlocal("run", str(good), "--", "x", cwd=tmp_path, env=env)
    assert (args.returncode, args.stderr) == (
        1, "amlocal: error: ok.ipynb is a notebook, which takes no arguments (got x)\n")
    watch = amlocal("run", "--watch", str(good), cwd=tmp_path, env=env)
    assert (watch.returncode, watch.stderr) == (
        1, "amlocal: error: --watch reruns a pipeline script, not a notebook (yet): export the "
           "notebook's pipeline to a .py file to watch it\n")


def test_kernel_install_writes_the_three_kernelspecs(tmp_path):
    done = amlocal("kernel", "install", "--prefix", str(tmp_path / "prefix"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    kernels = tmp_path / "prefix" / "share" / "jupyter" / "kernels"
    assert done.stdout.splitlines() == [f"installed kernel {n} in {kernels / n}"
                                        for n in ("amlocal", "python3-azureml", "python38-azureml")]
    for name, display in [("amlocal", "Python 3 (amlocal: Azure ML SDK v1 locally)"),
                          ("python3-azureml", "Python 3 - AzureML (amlocal)"),
                          ("python38-azureml", "Python 3.8 - AzureML (amlocal)")]:
        spec = json.loads((kernels / name / "kernel.json").read_text())
        assert spec["argv"] == KERNEL_ARGV
        assert (spec["display_name"], spec["language"]) == (display, "python")


def test_kernel_install_without_prefix_uses_the_jupyter_data_folder(tmp_path):
    done = amlocal("kernel", "install", cwd=tmp_path, env={"JUPYTER_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "data" / "kernels").iterdir()) == [
        "amlocal", "python3-azureml", "python38-azureml"]


def test_an_installed_azure_kernel_runs_an_azure_notebook_with_amlocals_azureml(tmp_path):
    """What Jupyter or VS Code does with a notebook whose kernel is `python3-azureml`."""
    data = tmp_path / "data"
    assert amlocal("kernel", "install", cwd=tmp_path, env={"JUPYTER_DATA_DIR": str(data)}).returncode == 0
    notebook = _notebook(tmp_path / "nb" / "azure.ipynb",
                         "import azureml.core\nprint(azureml.core.VERSION, azureml.core.__file__)")
    code = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
            "nb = nbformat.read(sys.argv[1], as_version=4)\n"
            "NotebookClient(nb, resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
            "print(nb.cells[1].outputs[0]['text'], end='')\n")
    env = {**os.environ, "JUPYTER_DATA_DIR": str(data), "JUPYTER_PATH": str(data),
           "AMLOCAL_HOME": str(tmp_path / ".amlocal"), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code, str(notebook), str(notebook.parent)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"1.61.0 {REPO / 'runner' / 'compat' / 'azureml' / 'core' / '__init__.py'}\n"
