"""Write a one-line report from the summary; log its figures."""
import json
import os
import sys

from azureml.core import Run

summary_dir, report_dir = sys.argv[1], sys.argv[2]
summary = json.load(open(os.path.join(summary_dir, "summary.json")))
os.makedirs(report_dir, exist_ok=True)
line = f"{summary['count']} numbers, total {summary['total']:g}, top {summary['top']}"
open(os.path.join(report_dir, "report.txt"), "w").write(line + "\n")
run = Run.get_context()
run.log("count", summary["count"])
run.log("total", summary["total"])
print("report:", line)
