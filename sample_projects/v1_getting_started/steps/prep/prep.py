"""Read every readings file of the mounted dataset, shuffle, split into train and test."""
import argparse
import csv
import os
import random

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--readings")
parser.add_argument("--output")
parser.add_argument("--train-fraction", type=float)
args = parser.parse_args()

run = Run.get_context()
rows, files = [], sorted(os.listdir(args.readings))
for name in files:
    with open(os.path.join(args.readings, name)) as fh:
        rows.extend(csv.DictReader(fh))
random.Random(0).shuffle(rows)
cut = int(len(rows) * args.train_fraction)
os.makedirs(args.output, exist_ok=True)
for part, chunk in (("train", rows[:cut]), ("test", rows[cut:])):
    with open(os.path.join(args.output, f"{part}.csv"), "w", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=["temperature", "load"])
        out.writeheader()
        out.writerows(chunk)
run.log("files", len(files))
run.log("rows", len(rows))
run.log("train_rows", cut)
print(f"prep: {len(files)} files, {len(rows)} rows, {cut} for training")
