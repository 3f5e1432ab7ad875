"""Read every trained model and log which one has the lowest test error."""
import argparse
import json
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--models", nargs="+", required=True)
args = parser.parse_args()

results = []
for folder in args.models:
    with open(os.path.join(folder, "model.json")) as f:
        results.append(json.load(f))
best = min(results, key=lambda r: r["rmse"])
run = Run.get_context()
for r in results:
    run.log_row("comparison", model=r["model"], rmse=r["rmse"])
run.log("best_rmse", best["rmse"])
run.tag("best_model", best["model"])
if hasattr(run, "parent"):  # an offline run (the script run by hand) has no parent
    run.parent.log("best_rmse", best["rmse"])
print(f"best model: {best['model']} (rmse {best['rmse']:.3f})")
