"""Read the registered churn table by name and write a train/test split of it."""
import argparse
import os

from azureml.core import Dataset, Run

parser = argparse.ArgumentParser()
parser.add_argument("--dataset", required=True, help="the registered TabularDataset's name")
parser.add_argument("--dataset-version", type=int, default=None, help="default: the latest")
parser.add_argument("--test-fraction", type=float, default=0.25)
parser.add_argument("--out", required=True)
args = parser.parse_args()

run = Run.get_context()
ws = run.experiment.workspace
dataset = Dataset.get_by_name(ws, args.dataset, version=args.dataset_version or "latest")
table = dataset.to_pandas_dataframe()

table = table.dropna(subset=["churned"])
test = table.sample(frac=args.test_fraction, random_state=0).sort_index()
train = table.drop(test.index)
os.makedirs(args.out, exist_ok=True)
train.to_csv(os.path.join(args.out, "train.csv"), index=False)
test.to_csv(os.path.join(args.out, "test.csv"), index=False)

run.log("rows", len(table))
run.log("train_rows", len(train))
run.log("test_rows", len(test))
run.log("churn_rate", round(float(table["churned"].mean()), 4))
print(f"read {dataset.name}:{dataset.version} ({len(table)} rows, {len(table.columns)} columns); "
      f"split {len(train)} train / {len(test)} test")
