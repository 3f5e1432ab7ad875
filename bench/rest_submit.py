"""REST submits of a published pipeline against the workspace service.

1. Load: CLIENTS threads post TOTAL submits at once; every run must be recorded (none lost)
   and end Finished; prints p50/p95 response time (issue target: p95 < 100 ms with the service
   warm) and how long the service's queue took to run them all.
2. Ratio: time from the submit to the run's first step started, a REST submit vs
   `PublishedPipeline.submit` of the same pipeline, alternating, measured in this run (the
   baseline); prints rest/sdk (issue target: <= 1.1).

Usage: python bench/rest_submit.py [TOTAL] [CLIENTS]   (default 200 submits, 10 clients)
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _common import fresh_workspace

ROUNDS = 10


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return sorted_values[max(0, int(round(fraction * len(sorted_values))) - 1)]


def wait_ended(conn, run_ids: set[str], timeout: float) -> dict[str, str]:
    """Wait until every run of `run_ids` has ended; their statuses."""
    deadline = time.monotonic() + timeout
    marks = ",".join("?" * len(run_ids))
    while True:
        rows = dict(conn.execute(f"SELECT id, status FROM pipeline_run WHERE id IN ({marks})",
                                 tuple(run_ids)).fetchall())
        if all(s in ("Finished", "Failed", "Canceled") for s in rows.values()) \
                or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def first_step_started(conn, run_id: str, since: float) -> float:
    """Seconds from `since` to the start of the run's first step (waiting for the run to end)."""
    wait_ended(conn, {run_id}, 60)
    start = conn.execute("SELECT min(start_time) FROM step_run WHERE pipeline_run_id = ?",
                         (run_id,)).fetchone()[0]
    return start - since


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    folder = fresh_workspace()
    os.environ["AMLOCAL_EXECUTOR"] = "local"
    import requests
    from runner.sdk import Pipeline, PythonScriptStep, Workspace
    from runner.sdk.authentication import InteractiveLoginAuthentication
    from runner.service_control import stop_service
    (folder / "steps").mkdir()
    (folder / "steps" / "s.py").write_text("print('hi')\n")
    ws = Workspace.get("bench")
    step = PythonScriptStep("s.py", name="s", source_directory=str(folder / "steps"),
                            allow_reuse=False)  # every run runs its step: the load is real
    published = Pipeline(ws, [step]).publish("bench")
    url, headers = published.endpoint, InteractiveLoginAuthentication().get_authentication_header()
    conn = ws._local.conn
    session = requests.Session()
    warm = session.post(url, headers=headers, json={"ExperimentName": "warm"}).json()["Id"]
    wait_ended(conn, {warm}, 60)

    local = __import__("threading").local()

    def one(_: int) -> tuple[float, str]:
        if not hasattr(local, "session"):
            local.session = requests.Session()  # a client keeps its connection, as SDKs do
        start = time.perf_counter()
        response = local.session.post(url, headers=headers, json={"ExperimentName": "load"})
        response.raise_for_status()
        return time.perf_counter() - start, response.json()["Id"]

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(total)))
    answered = time.perf_counter() - began
    times = sorted(t for t, _ in results)
    ids = {run_id for _, run_id in results}
    statuses = wait_ended(conn, ids, 30 + total * 2.0)
    drained = time.perf_counter() - began
    finished = sum(s == "Finished" for s in statuses.values())
    print(f"load: {total} submits, {clients} clients: {len(statuses)}/{total} runs recorded, "
          f"{finished} Finished; response p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {percentile(times, 0.95) * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms "
          f"[target p95 < 100 ms]; all answered in {answered:.1f} s, all run in {drained:.1f} s")

    rest, sdk = [], []
    for _ in range(ROUNDS):
        since = time.time()
        run_id = session.post(url, headers=headers, json={"ExperimentName": "ratio"}).json()["Id"]
        rest.append(first_step_started(conn, run_id, since))
        since = time.time()
        run = published.submit(ws, "ratio")
        sdk.append(first_step_started(conn, run.id, since))
    r, s = statistics.median(rest), statistics.median(sdk)
    print(f"submit → first step started (median of {ROUNDS}): REST {r * 1000:.0f} ms, "
          f"PublishedPipeline.submit {s * 1000:.0f} ms, ratio {r / s:.2f} [target <= 1.1]")
    stop_service(ws._local.layout)


if __name__ == "__main__":
    main()
