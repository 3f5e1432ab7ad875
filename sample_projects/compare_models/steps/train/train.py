"""Fit a model (mean baseline or least-squares linear) and report its test error."""
import argparse
import csv
import json
import os

from azureml.core import Run


def load(path):
    with open(path) as f:
        return [(float(r["x1"]), float(r["x2"]), float(r["y"])) for r in csv.DictReader(f)]


def solve(a, b):
    """Solve a small linear system by Gaussian elimination."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [x - factor * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--model", choices=["mean", "linear"], required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

train, test = load(os.path.join(args.data, "train.csv")), load(os.path.join(args.data, "test.csv"))
run = Run.get_context()
if args.model == "mean":
    mean = sum(y for _, _, y in train) / len(train)
    weights = [mean, 0.0, 0.0]
else:
    xs = [(1.0, x1, x2) for x1, x2, _ in train]
    xtx = [[sum(r[i] * r[j] for r in xs) for j in range(3)] for i in range(3)]
    xty = [sum(r[i] * y for r, (_, _, y) in zip(xs, train)) for i in range(3)]
    weights = solve(xtx, xty)

errors = []
for i, (x1, x2, y) in enumerate(test):
    pred = weights[0] + weights[1] * x1 + weights[2] * x2
    errors.append((pred - y) ** 2)
    run.log("squared_error", (pred - y) ** 2)
rmse = (sum(errors) / len(errors)) ** 0.5
run.log("rmse", rmse)
run.log_list("weights", weights)
os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "model.json"), "w") as f:
    json.dump({"model": args.model, "weights": weights, "rmse": rmse}, f)
os.makedirs("outputs", exist_ok=True)
with open(os.path.join("outputs", "model.json"), "w") as f:
    json.dump({"model": args.model, "weights": weights}, f)
print(f"{args.model}: rmse={rmse:.3f} weights={[round(w, 3) for w in weights]}")
