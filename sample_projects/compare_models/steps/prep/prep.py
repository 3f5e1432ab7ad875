"""Split the raw CSV into train and test sets."""
import argparse
import csv
import os
import random

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--raw", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--test-fraction", type=float, default=0.25)
args = parser.parse_args()

rows = []
for name in sorted(os.listdir(args.raw)):
    with open(os.path.join(args.raw, name)) as f:
        rows.extend(csv.DictReader(f))
random.Random(0).shuffle(rows)
cut = int(len(rows) * (1 - args.test_fraction))
os.makedirs(args.out, exist_ok=True)
for part, chunk in (("train", rows[:cut]), ("test", rows[cut:])):
    with open(os.path.join(args.out, f"{part}.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["x1", "x2", "y"])
        writer.writeheader()
        writer.writerows(chunk)

run = Run.get_context()
run.log("train_rows", cut)
run.log("test_rows", len(rows) - cut)
print(f"prepared {cut} training and {len(rows) - cut} test rows")
