"""A registered TabularDataset read inside a pipeline step, against pandas on the same files.

~100 MB of CSV in 10 files (the files of bench/tabular_read.py) are uploaded to the default
datastore and registered as a TabularDataset. ONE pipeline run (local executor) has one step
that, in its own process, times `Dataset.get_by_name(ws, name).to_pandas_dataframe()` against
`pandas.concat([pandas.read_csv(f) for f in the same files])` (read from the datastore folder
the step gets as a mounted input): one untimed warm-up of each, then 3 runs each, alternating;
the step prints its medians as JSON, which this script reads back from the step's log. The
dataset side includes the name lookup and its file listing, as a step pays them (target: ratio
<= 1.2).

    .venv/bin/python bench/tabular_in_step.py
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_quietly, workspace_with_script  # noqa: E402
from tabular_read import FILES, ROWS_PER_FILE, make_files  # noqa: E402

DATASET = "bench-table"
MARK = "amlocal-bench: "
REPEATS = 3

STEP = '''
import argparse, glob, json, os, statistics, time
import pandas
from azureml.core import Dataset, Run

parser = argparse.ArgumentParser()
parser.add_argument("--files", required=True)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()
ws = Run.get_context().experiment.workspace
paths = sorted(glob.glob(os.path.join(args.files, "*.csv")))


def ours():
    return Dataset.get_by_name(ws, "%s").to_pandas_dataframe()


def base():
    return pandas.concat([pandas.read_csv(p) for p in paths])


rows = {"ours": len(ours()), "base": len(base())}  # the warm-up of each, untimed
took = {"ours": [], "base": []}
for _ in range(args.repeats):
    for name, fn in (("ours", ours), ("base", base)):
        start = time.perf_counter()
        frame = fn()
        took[name].append(time.perf_counter() - start)
        del frame
print("%s" + json.dumps({"files": len(paths), "rows": rows, "seconds": took,
                         "ours": statistics.median(took["ours"]),
                         "base": statistics.median(took["base"])}))
''' % (DATASET, MARK)


def main() -> None:
    folder = workspace_with_script("read.py", STEP, "local")
    try:
        measure(folder)
    finally:  # ~200 MB: the files and their datastore copy
        shutil.rmtree(folder, ignore_errors=True)


def measure(folder: Path) -> None:
    """Upload and register the files, run the step, print what it measured."""
    from runner.sdk import Dataset, PythonScriptStep, Workspace
    ws = Workspace.from_config()
    (folder / "data").mkdir()
    paths = make_files(folder / "data")
    size = sum(p.stat().st_size for p in paths) / 1e6
    datastore = ws.get_default_datastore()
    datastore.upload(str(folder / "data"), target_path="bench_tabular", show_progress=False)
    Dataset.Tabular.from_delimited_files(path=(datastore, "bench_tabular/*.csv")).register(ws, DATASET)
    files = datastore.path("bench_tabular").as_mount()
    step = PythonScriptStep("read.py", name="read", source_directory=str(folder / "steps"),
                            arguments=["--files", files, "--repeats", REPEATS], inputs=[files],
                            allow_reuse=False)
    run = run_quietly(ws, "bench-tabular-in-step", [step])
    (step_run,) = run.find_step_run("read")
    log = step_run.get_stdout_log()
    assert run.get_status() == "Finished", log + str(step_run.get_details().get("error"))
    found = json.loads(next(line[len(MARK):] for line in log.splitlines() if line.startswith(MARK)))
    assert found["files"] == FILES and found["rows"] == {"ours": FILES * ROWS_PER_FILE,
                                                         "base": FILES * ROWS_PER_FILE}, found
    ours, base = found["ours"], found["base"]
    print(f"{size:.0f} MB of CSV in {FILES} files, {FILES * ROWS_PER_FILE:,} rows, read in one "
          f"step (local executor)")
    print(f"Dataset.get_by_name(...).to_pandas_dataframe(): {ours:.3f} s  "
          f"pandas concat(read_csv): {base:.3f} s (median of {REPEATS})")
    print(f"ratio: {ours / base:.2f}  [target <= 1.2]")


if __name__ == "__main__":
    main()
