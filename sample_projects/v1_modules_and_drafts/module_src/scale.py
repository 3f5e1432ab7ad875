"""Module "scale": multiply every number of the input file by --factor."""
import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--numbers")
parser.add_argument("--scaled")
parser.add_argument("--factor", type=float)
args = parser.parse_args()

source = args.numbers
if os.path.isdir(source):
    source = os.path.join(source, "numbers.txt")
values = [float(line) for line in open(source) if line.strip()]
os.makedirs(args.scaled, exist_ok=True)
with open(os.path.join(args.scaled, "numbers.txt"), "w") as fh:
    fh.write("".join(f"{v * args.factor}\n" for v in values))
print(f"scale: {len(values)} numbers times {args.factor}")
