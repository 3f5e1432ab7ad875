"""Compare the new model with the registered one on the same test rows; register the new
model only when it is more accurate."""
import argparse
import json
import os

import numpy as np
import pandas as pd
from azureml.core import Dataset, Model, Run


def load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def accuracy(model: dict, table: pd.DataFrame) -> float:
    """The share of rows whose churned value `model` predicts."""
    table = table.assign(month_to_month=(table["contract"] == "month-to-month").astype(float),
                         two_year=(table["contract"] == "two-year").astype(float))
    x = table[model["features"]].to_numpy(dtype=float)
    scores = ((x - np.array(model["mean"])) / np.array(model["std"])) @ np.array(model["weights"])
    predicted = (scores + model["bias"]) > 0
    return round(float(np.mean(predicted == (table["churned"].to_numpy() == 1))), 4)


parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--model", required=True)
parser.add_argument("--model-name", required=True)
parser.add_argument("--dataset", required=True)
parser.add_argument("--dataset-version", type=int, required=True)
args = parser.parse_args()

run = Run.get_context()
ws = run.experiment.workspace
test = pd.read_csv(os.path.join(args.data, "test.csv"))
candidate_path = os.path.join(args.model, "model.json")
candidate = accuracy(load(candidate_path), test)
run.log("candidate_accuracy", candidate)

champion = None
if Model.list(ws, name=args.model_name):
    registered = Model(ws, name=args.model_name)  # the latest version: the one in use
    champion = accuracy(load(Model.get_model_path(args.model_name, version=registered.version)), test)
    run.log("registered_accuracy", champion)
    print(f"registered {registered.name}:{registered.version} (accuracy tag "
          f"{registered.tags.get('accuracy')}): accuracy {champion:.4f} on these test rows")

if champion is None or candidate > champion:
    dataset = Dataset.get_by_name(ws, args.dataset, version=args.dataset_version)
    new = Model.register(workspace=ws, model_path=candidate_path, model_name=args.model_name,
                         tags={"accuracy": f"{candidate:.4f}",
                               "dataset": f"{dataset.name}:{dataset.version}"},
                         description="logistic regression on churn-raw",
                         datasets=[("training", dataset)])
    run.tag("decision", "registered")
    print(f"new model accuracy {candidate:.4f}: better, registering {new.name} "
          f"(version {new.version} when this step succeeds)")
else:
    run.tag("decision", "kept")
    print(f"new model accuracy {candidate:.4f}: not better than {champion:.4f}, "
          f"keeping {args.model_name}:{registered.version}")
