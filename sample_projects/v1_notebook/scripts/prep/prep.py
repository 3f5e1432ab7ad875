"""Split the uploaded readings into a training and a test file."""
import argparse
import csv
import glob
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--raw", required=True)
parser.add_argument("--output", required=True)
parser.add_argument("--test-fraction", type=float, required=True)
args = parser.parse_args()

rows = []
for name in sorted(glob.glob(os.path.join(args.raw, "*.csv"))):
    with open(name, newline="") as fh:
        rows.extend(csv.DictReader(fh))
cut = int(len(rows) * (1 - args.test_fraction))
os.makedirs(args.output, exist_ok=True)
for part, chunk in (("train", rows[:cut]), ("test", rows[cut:])):
    with open(os.path.join(args.output, f"{part}.csv"), "w", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=["x", "y"])
        out.writeheader()
        out.writerows(chunk)
run = Run.get_context()
run.log("train_rows", cut)
run.log("test_rows", len(rows) - cut)
print(f"{cut} training rows, {len(rows) - cut} test rows")
