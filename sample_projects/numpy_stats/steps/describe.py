"""Log the mean and standard deviation of every numeric column of the CSV files in --data."""
import argparse
import glob
import os

import numpy as np
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
args = parser.parse_args()
run = Run.get_context()

for path in sorted(glob.glob(os.path.join(args.data, "*.csv"))):
    table = np.genfromtxt(path, delimiter=",", names=True)
    for column in table.dtype.names:
        values = table[column]
        run.log(f"{column}_mean", float(np.mean(values)))
        run.log(f"{column}_std", float(np.std(values)))
        print(f"{os.path.basename(path)} {column}: mean {np.mean(values):.3f} std {np.std(values):.3f}")
print(f"numpy {np.__version__}")
