"""Score one mini-batch of sensor files: the share of readings the model flags as faulty.

ParallelRunStep calls init() once per worker process and run(mini_batch) for each
mini-batch (a list of file paths); each element run() returns is one row of
parallel_run_step.txt.
"""
import argparse
import csv
import json
import math
import os

from azureml_user.parallel_run import EntryScript

model = None
cutoff = 0.5


def init():
    """Load the model named by --model (a side input) once per worker process."""
    global model, cutoff
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--cutoff", type=float, default=0.5)
    args, _ = parser.parse_known_args()
    path = args.model
    if os.path.isdir(path):
        path = os.path.join(path, "model.json")
    with open(path) as fh:
        model = json.load(fh)
    cutoff = args.cutoff
    EntryScript().logger.info("model loaded from %s, cutoff %s", path, cutoff)


def _fault_probability(temperature, vibration):
    z = (model["temperature_weight"] * temperature + model["vibration_weight"] * vibration
         + model["bias"])
    return 1 / (1 + math.exp(-z))


def run(mini_batch):
    """One row per file: its name, readings, faulty readings and the largest probability."""
    rows = []
    for path in mini_batch:
        with open(path, newline="") as fh:
            readings = [(float(r["temperature"]), float(r["vibration"]))
                        for r in csv.DictReader(fh)]
        probabilities = [_fault_probability(t, v) for t, v in readings]
        faulty = sum(p >= cutoff for p in probabilities)
        rows.append([os.path.basename(path), len(readings), faulty, f"{max(probabilities):.3f}"])
    EntryScript().logger.info("scored %d files", len(rows))
    return rows
