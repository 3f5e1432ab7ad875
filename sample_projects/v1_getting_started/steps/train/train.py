"""Fit load = a * temperature + b by least squares on the training rows; save the model."""
import argparse
import csv
import json
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--model")
args = parser.parse_args()

with open(os.path.join(args.data, "train.csv")) as fh:
    rows = [(float(r["temperature"]), float(r["load"])) for r in csv.DictReader(fh)]
n = len(rows)
mean_x = sum(x for x, _ in rows) / n
mean_y = sum(y for _, y in rows) / n
a = sum((x - mean_x) * (y - mean_y) for x, y in rows) / sum((x - mean_x) ** 2 for x, _ in rows)
b = mean_y - a * mean_x
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.json"), "w") as fh:
    json.dump({"a": a, "b": b}, fh)
run = Run.get_context()
run.log("slope", round(a, 3))
run.parent.log("slope", round(a, 3))
print(f"train: load = {a:.2f} * temperature + {b:.2f}")
