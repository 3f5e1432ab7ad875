"""REST submits of a published pipeline against the workspace service.

1. Load: CLIENTS threads post TOTAL submits at once; every run must be recorded (none lost);
   prints p50/p95 response time (issue target: p95 < 100 ms with the service warm).
2. Ratio: the mean response time of a REST submit vs `PublishedPipeline.submit` of the same
   pipeline, measured in this run (the baseline); prints rest/sdk.

Usage: python bench/rest_submit.py [TOTAL] [CLIENTS]   (default 50 submits, 10 clients)
"""
from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _common import fresh_workspace


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    folder = fresh_workspace()
    import os
    os.environ["AMLOCAL_EXECUTOR"] = "local"
    import requests
    from runner.sdk import Pipeline, PythonScriptStep, Workspace
    from runner.sdk.authentication import InteractiveLoginAuthentication
    from runner.service_control import stop_service
    (folder / "steps").mkdir()
    (folder / "steps" / "s.py").write_text("print('hi')\n")
    ws = Workspace.get("bench")
    published = Pipeline(ws, [PythonScriptStep("s.py", name="s", source_directory=str(folder / "steps"))]
                         ).publish("bench")
    url, headers = published.endpoint, InteractiveLoginAuthentication().get_authentication_header()
    session = requests.Session()
    session.post(url, headers=headers, json={"ExperimentName": "warm"}).raise_for_status()

    def one(_: int) -> tuple[float, str]:
        start = time.perf_counter()
        response = requests.post(url, headers=headers, json={"ExperimentName": "load"})
        response.raise_for_status()
        return time.perf_counter() - start, response.json()["Id"]

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(total)))
    times = sorted(t for t, _ in results)
    ids = {run_id for _, run_id in results}
    recorded = ws._local.conn.execute("SELECT COUNT(*) FROM pipeline_run WHERE id IN (%s)"
                                      % ",".join("?" * len(ids)), tuple(ids)).fetchone()[0]
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    print(f"load: {total} submits, {clients} clients: {recorded}/{total} runs recorded, "
          f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")

    rest, sdk = [], []
    for _ in range(10):
        start = time.perf_counter()
        session.post(url, headers=headers, json={"ExperimentName": "ratio"}).raise_for_status()
        rest.append(time.perf_counter() - start)
        start = time.perf_counter()
        published.submit(ws, "ratio")
        sdk.append(time.perf_counter() - start)
    print(f"submit response: REST {statistics.mean(rest) * 1000:.0f} ms, PublishedPipeline.submit "
          f"{statistics.mean(sdk) * 1000:.0f} ms, ratio {statistics.mean(rest) / statistics.mean(sdk):.2f}")
    stop_service(ws._local.layout)


if __name__ == "__main__":
    main()
