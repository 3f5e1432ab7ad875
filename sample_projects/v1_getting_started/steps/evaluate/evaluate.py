"""Score the model on the test rows; log the RMSE on the step and on the pipeline run."""
import argparse
import csv
import json
import math
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--model")
args = parser.parse_args()

with open(os.path.join(args.model, "model.json")) as fh:
    model = json.load(fh)
with open(os.path.join(args.data, "test.csv")) as fh:
    rows = [(float(r["temperature"]), float(r["load"])) for r in csv.DictReader(fh)]
rmse = math.sqrt(sum((model["a"] * x + model["b"] - y) ** 2 for x, y in rows) / len(rows))
run = Run.get_context()
run.log("rmse", round(rmse, 3))
run.parent.log("rmse", round(rmse, 3))
print(f"evaluate: rmse={rmse:.3f} on {len(rows)} rows")
