"""Fit y = a*x + b by least squares on the training rows; log the test error."""
import argparse
import csv
import json
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--model", required=True)
args = parser.parse_args()


def read(part):
    with open(os.path.join(args.data, f"{part}.csv"), newline="") as fh:
        return [(float(r["x"]), float(r["y"])) for r in csv.DictReader(fh)]


train, test = read("train"), read("test")
n = len(train)
mean_x = sum(x for x, _ in train) / n
mean_y = sum(y for _, y in train) / n
a = sum((x - mean_x) * (y - mean_y) for x, y in train) / sum((x - mean_x) ** 2 for x, _ in train)
b = mean_y - a * mean_x
mse = sum((a * x + b - y) ** 2 for x, y in test) / len(test)
os.makedirs(args.model, exist_ok=True)
with open(os.path.join(args.model, "model.json"), "w") as fh:
    json.dump({"a": a, "b": b}, fh)
run = Run.get_context()
run.log("mse", mse)
run.parent.log("mse", mse)
print(f"a={a:.3f} b={b:.3f} test mse={mse:.3f}")
