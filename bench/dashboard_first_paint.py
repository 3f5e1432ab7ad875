"""The dashboard's first screen on a workspace with 10 000 runs (over 20 pipelines) and
1 000 000 metric rows: time from starting the app to the pipelines table filled, headless.
Baseline in the same run: an empty Textual app with one DataTable reaching its first frame.
Target: under 1 s."""
from __future__ import annotations

import asyncio
import time

from _common import fresh_workspace, insert_finished_runs, median

RUNS, PIPELINES, METRIC_ROWS, REPEATS = 10_000, 20, 1_000_000, 5


def populate(folder) -> None:
    from store.database import transaction
    from store.workspace import open_workspace_at
    local = open_workspace_at(folder / ".amlocal")
    conn = local.conn
    ids = insert_finished_runs(conn, RUNS, PIPELINES)
    now = time.time()
    with transaction(conn):
        per_run = METRIC_ROWS // RUNS
        conn.executemany(
            "INSERT INTO metric (run_id, name, kind, seq, value, logged_at) VALUES (?, 'loss', 'scalar', ?, ?, ?)",
            ((rid, seq, seq * 0.5, now) for rid in ids for seq in range(per_run)))
    local.close()


async def first_paint(layout) -> float:
    from tui.dashboard.app import DashboardApp
    from tui.dashboard.keyed_table import KeyedTable
    start = time.perf_counter()
    app = DashboardApp(layout)
    async with app.run_test(size=(160, 50)) as pilot:
        while True:
            try:
                if app.screen.query_one(KeyedTable).row_count == PIPELINES:
                    break
            except Exception:
                pass
            await pilot.pause(0.005)
        took = time.perf_counter() - start
    return took


async def baseline_paint() -> float:
    from textual.app import App
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self):
            yield DataTable()

    start = time.perf_counter()
    app = Bare()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause(0)
        took = time.perf_counter() - start
    return took


def main() -> None:
    folder = fresh_workspace()
    populate(folder)
    from store.layout import WorkspaceLayout
    layout = WorkspaceLayout(folder / ".amlocal")
    asyncio.run(first_paint(layout))  # warm-up: imports and the page cache
    paints, bases = [], []
    for _ in range(REPEATS):
        bases.append(asyncio.run(baseline_paint()))
        paints.append(asyncio.run(first_paint(layout)))
    print(f"bare Textual app with a DataTable, first frame: median {median(bases) * 1000:.0f} ms")
    print(f"dashboard, {RUNS} runs / {METRIC_ROWS:,} metric rows, pipelines table filled: "
          f"median {median(paints) * 1000:.0f} ms  [target < 1000 ms]")
    print(f"ratio (dashboard / bare app): median {median(paints) / median(bases):.2f}")


if __name__ == "__main__":
    main()
