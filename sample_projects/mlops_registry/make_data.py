"""Write data/churn.csv: 400 customers of a made-up telecom, the same bytes on every machine.

    python sample_projects/mlops_registry/make_data.py [--rows 400]

Churn is more likely with short tenure, high monthly charges, many support calls and a
month-to-month contract; a customer churns when a noisy score passes 0. The committed file
was written by this script (seed 13); run it again to get it back. More rows (`--rows 800`)
keep the first 400 as they are: the next data drop of the same customers' table.
"""
import argparse
import csv
import math
import os
import random



def main() -> None:
    parser = argparse.ArgumentParser(description="write data/churn.csv")
    parser.add_argument("--rows", type=int, default=400)
    rows = parser.parse_args().rows
    rng = random.Random(13)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "churn.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["customer_id", "tenure_months", "monthly_charges", "support_calls",
                         "contract", "churned"])
        for i in range(rows):
            tenure = rng.randint(1, 72)
            charges = round(rng.uniform(18.0, 118.0), 2)
            calls = min(int(rng.expovariate(0.7)), 9)
            contract = rng.choices(["month-to-month", "one-year", "two-year"], [0.55, 0.25, 0.2])[0]
            score = (1.2 - 0.045 * tenure + 0.025 * (charges - 65) + 0.45 * calls
                     - {"month-to-month": 0.0, "one-year": 1.0, "two-year": 1.8}[contract]
                     + rng.gauss(0, 0.9))
            churned = 1 if 1 / (1 + math.exp(-score)) > 0.5 else 0
            writer.writerow([f"C{i + 1:04d}", tenure, f"{charges:.2f}", calls, contract, churned])


if __name__ == "__main__":
    main()
