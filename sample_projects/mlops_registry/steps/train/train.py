"""Fit a logistic regression with NumPy (gradient descent on standardised features) and write
the model as JSON: to the pipeline output for evaluate, and to ./outputs as the run's artifact."""
import argparse
import json
import os

import numpy as np
import pandas as pd
from azureml.core import Run

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "month_to_month", "two_year"]


def features(table: pd.DataFrame) -> np.ndarray:
    """The model's inputs: numeric columns and the contract as two indicator columns."""
    table = table.assign(month_to_month=(table["contract"] == "month-to-month").astype(float),
                         two_year=(table["contract"] == "two-year").astype(float))
    return table[FEATURES].to_numpy(dtype=float)


parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--iterations", type=int, default=400)
parser.add_argument("--learning-rate", type=float, default=0.5)
args = parser.parse_args()

run = Run.get_context()
train = pd.read_csv(os.path.join(args.data, "train.csv"))
test = pd.read_csv(os.path.join(args.data, "test.csv"))
x, y = features(train), train["churned"].to_numpy(dtype=float)
mean, std = x.mean(axis=0), x.std(axis=0)
std[std == 0] = 1.0
z = (x - mean) / std

weights, bias = np.zeros(z.shape[1]), 0.0
for step in range(1, args.iterations + 1):
    p = 1 / (1 + np.exp(-(z @ weights + bias)))
    weights -= args.learning_rate * (z.T @ (p - y)) / len(y)
    bias -= args.learning_rate * float(np.mean(p - y))
    if step % 100 == 0:
        loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))
        run.log("loss", round(float(loss), 6))


def accuracy(table: pd.DataFrame) -> float:
    scores = ((features(table) - mean) / std) @ weights + bias
    return float(np.mean((scores > 0) == (table["churned"].to_numpy() == 1)))


model = {"kind": "logistic_regression", "features": FEATURES, "mean": mean.round(6).tolist(),
         "std": std.round(6).tolist(), "weights": weights.round(6).tolist(),
         "bias": round(bias, 6)}
train_accuracy, test_accuracy = accuracy(train), accuracy(test)
run.log("train_accuracy", round(train_accuracy, 4))
run.log("test_accuracy", round(test_accuracy, 4))
for folder in (args.out, "outputs"):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(model, f, indent=1)
print(f"trained {model['kind']} on {len(train)} rows: train accuracy {train_accuracy:.4f}, "
      f"test accuracy {test_accuracy:.4f}")
