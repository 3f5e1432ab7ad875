"""Summarize the scaled numbers: count, total and the largest --top values."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--input")
parser.add_argument("--output")
parser.add_argument("--top", type=int)
args = parser.parse_args()

values = sorted((float(line) for line in open(os.path.join(args.input, "numbers.txt")) if line.strip()),
                reverse=True)
os.makedirs(args.output, exist_ok=True)
with open(os.path.join(args.output, "summary.json"), "w") as fh:
    json.dump({"count": len(values), "total": sum(values), "top": values[:args.top]}, fh)
print(f"summarize: {len(values)} values, top {args.top} kept")
