"""The run screen's graph view (`d`), the metrics tab's series picker (`[`/`]`) and the
compare screen's overlay of one metric across the marked runs, driven headless."""
from __future__ import annotations

import asyncio

import graphlib
import pytest

from store.database import transaction
from store.workspace import open_workspace
from tests.test_dashboard_snapshots import (SMALL, _open_newest_run, _open_runs,  # noqa: F401
                                            _wait_rows, frozen, frozen_dag)
from tui.dashboard.app import DashboardApp
from tui.dashboard.dag_view import DagStep, DagView, dag_layers, dag_line, dag_order, render_dag
from tui.dashboard.keyed_table import KeyedTable
from tui.dashboard.queries import step_upstream

DIAMOND = {"a": (), "b": ("a",), "c": ("a",), "d": ("c", "b")}


async def _until(pilot, condition, tries: int = 300) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never held")


def test_dag_layers_put_each_node_below_the_deepest_node_it_waits_for():
    assert dag_layers(DIAMOND) == [["a"], ["b", "c"], ["d"]]
    assert dag_layers({"x": (), "y": ("x", "gone"), "z": ()}) == [["x", "z"], ["y"]]
    assert dag_layers({"a": ("b",), "c": (), "b": ("c",)}) == [["c"], ["b"], ["a"]]
    assert dag_layers({}) == []
    with pytest.raises(graphlib.CycleError):
        dag_layers({"a": ("b",), "b": ("a",)})


def test_dag_order_is_layer_by_layer():
    steps = [DagStep(k, k.upper(), "Finished", ups) for k, ups in DIAMOND.items()]
    assert dag_order(steps) == ["a", "b", "c", "d"]


def test_render_dag_draws_boxes_status_and_edges_and_never_reads_markup():
    steps = [DagStep("1", "prep", "Finished"), DagStep("2", "[b]train[/b]", "Running", ("1",)),
             DagStep("3", "x" * 30, "Failed", ("1", "2")), DagStep("4", "side", "NotStarted")]
    text = render_dag(steps, selected="2")
    assert text.plain == ("layer 1\n"
                          "  [✓ prep]  Finished\n"
                          "  [· side]  NotStarted\n"
                          "layer 2\n"
                          "  [▶ [b]train[/b]]  Running  ← prep\n"
                          "layer 3\n"
                          "  [✗ xxxxxxxxxxxxxxxxxxxxxxx…]  Failed  ← prep, [b]train[/b]")
    assert max(len(line) for line in text.plain.splitlines()) <= 80
    styles = {text.plain[s.start:s.end]: str(s.style) for s in text.spans}
    assert styles["[✓ prep]"] == "green"
    assert styles["[▶ [b]train[/b]]"] == "yellow reverse"  # the selected step
    assert styles["[✗ xxxxxxxxxxxxxxxxxxxxxxx…]"] == "bold red"
    assert styles["  ← prep"] == "dim"


def test_step_upstream_maps_the_spec_graph_onto_step_runs():
    spec = {"steps": [{"node_id": "n1", "name": "a"}, {"node_id": "n2", "name": "b", "run_after": ["n1"]},
                      {"node_id": "n3", "name": "c", "run_after": ["n1", "n2"]}]}
    assert step_upstream(spec, {"n1": "s1", "n2": "s2", "n3": "s3"}) == (
        ("s1", ()), ("s2", ("s1",)), ("s3", ("s1", "s2")))
    assert step_upstream(spec, {"n1": "s1", "n3": "s3"}) == (("s1", ()), ("s3", ("s1",)))
    assert step_upstream({"format": 999, "steps": []}, {"n1": "s1"}) == ()


def test_d_shows_the_graph_whose_arrows_select_the_step_for_the_tabs(frozen_dag):
    async def scenario():
        app = DashboardApp(frozen_dag)
        async with app.run_test(size=SMALL) as pilot:
            await _open_newest_run(pilot)
            screen = app.screen
            table = screen.query_one("#steps", KeyedTable)
            await _until(pilot, lambda: screen.step_id == "33333333-compare")  # the failed step
            await pilot.press("d")
            dag = screen.query_one(DagView)
            await _until(pilot, lambda: dag.steps != ())
            assert (dag.display, table.display, app.focused is dag) == (True, False, True)
            assert dag.render_text() == ("layer 1\n  [✓ prep]  Finished\n"
                                          "layer 2\n  [✓ train]  Finished  ← prep\n"
                                          "layer 3\n  [✗ compare]  Failed  ← prep, train")
            await pilot.press("up")
            assert (dag.selected, screen.step_id, table.current_key) == (
                "33333333-train", "33333333-train", "33333333-train")
            await pilot.press("left")
            assert screen.step_id == "33333333-prep"
            await pilot.press("G")
            assert screen.step_id == "33333333-compare"
            await pilot.press("g", "j")
            assert screen.step_id == "33333333-train"
            await pilot.press("d")
            assert (dag.display, table.display, table.current_key) == (False, True, "33333333-train")
    asyncio.run(scenario())


def test_the_graph_shows_status_live(frozen_dag):
    async def scenario():
        app = DashboardApp(frozen_dag)
        async with app.run_test(size=SMALL) as pilot:
            await _open_newest_run(pilot)
            await pilot.press("d")
            dag = app.screen.query_one(DagView)
            await _until(pilot, lambda: dag.steps != ())
            with open_workspace(frozen_dag) as local, transaction(local.conn):
                local.conn.execute("UPDATE step_run SET status = 'Running' WHERE id = '33333333-compare'")
            await _until(pilot, lambda: "[▶ compare]  Running" in dag.render_text(), tries=200)
            assert dag.render_text().splitlines()[-1] == "  [▶ compare]  Running  ← prep, train"
    asyncio.run(scenario())


def _plot_text(screen, selector: str) -> str:
    from textual_plotext import PlotextPlot
    return screen.query_one(selector, PlotextPlot).render().plain


def test_brackets_pick_the_series_the_metrics_tab_plots(frozen_dag):
    from textual.widgets import Static, TabbedContent
    from tui.dashboard.step_tabs import MetricsTab

    async def scenario():
        app = DashboardApp(frozen_dag)
        async with app.run_test(size=SMALL) as pilot:
            await _open_newest_run(pilot)
            screen = app.screen
            await pilot.press("2")
            await _wait_rows(pilot, "#metric-table", 2)
            caption = screen.query_one("#series", Static)
            tab = screen.query_one(MetricsTab)
            assert (caption.render().plain, tab.series_name) == (
                "series 1/2: acc   ([ ] other series)", "acc")
            assert "▞▞ acc" in _plot_text(screen, "#plot")
            await pilot.press("right_square_bracket")
            assert (caption.render().plain, tab.series_name) == (
                "series 2/2: loss   ([ ] other series)", "loss")
            assert "▞▞ loss" in _plot_text(screen, "#plot") and "acc" not in _plot_text(screen, "#plot")
            await pilot.press("right_square_bracket")  # wraps around
            assert tab.series_name == "acc"
            await pilot.press("left_square_bracket")
            assert tab.series_name == "loss"
            await pilot.pause(1.2)  # a refresh keeps the choice
            assert (tab.series_name, caption.render().plain) == (
                "loss", "series 2/2: loss   ([ ] other series)")
            await pilot.press("1", "right_square_bracket")  # from another tab: shows the metrics
            assert (screen.query_one(TabbedContent).active, tab.series_name) == ("metrics", "acc")
    asyncio.run(scenario())


def test_pick_series_wraps_and_falls_back_to_the_first():
    from tui.dashboard.step_tabs import pick_series
    assert pick_series(["a", "b", "c"], "c", 1) == "a"
    assert pick_series(["a", "b", "c"], "a", -1) == "c"
    assert pick_series(["a", "b"], "gone", 1) == "a"
    assert pick_series(["a", "b"], None) == "a"
    assert pick_series([], "a", 1) is None


def test_compare_overlays_one_metric_of_every_marked_run(frozen_dag):
    from textual.widgets import Static
    from tui.dashboard.compare_screen import CompareScreen

    async def scenario():
        app = DashboardApp(frozen_dag)
        async with app.run_test(size=SMALL) as pilot:
            await _open_runs(pilot)
            await pilot.press("space", "down", "down", "space", "d")
            await _until(pilot, lambda: isinstance(app.screen, CompareScreen)
                         and app.screen.comparison is not None)
            await pilot.pause(0.1)
            screen = app.screen
            assert [name for name, _ in screen.comparison.series] == [
                "compare.acc", "compare.loss", "prep.acc", "prep.loss", "train.acc", "train.loss"]
            assert dict(screen.comparison.series)["train.acc"] == (
                ("33333333-cccc-4000-8000-000000000003", (0.625, 0.75, 0.875, 1.0)),
                ("11111111-aaaa-4000-8000-000000000001", (0.5, 0.625, 0.75, 0.875)))
            caption, legend = screen.query_one("#overlay-caption", Static), screen.query_one("#legend", Static)
            assert caption.render().plain == "metric 1/6: compare.acc   ([ ] other metric)"
            assert legend.render().plain == "■ 33333333  ■ 11111111"
            assert [(legend.render().plain[s.start:s.end], str(s.style)) for s in legend.render().spans] == [
                ("■ 33333333", "ansi_blue"), ("■ 11111111", "ansi_red")]
            plot = _plot_text(screen, "#overlay")
            assert plot.splitlines()[0].strip() == "compare.acc"
            assert "33333333" in plot and "11111111" in plot  # plotext's own legend
            await pilot.press("right_square_bracket")
            assert (screen.metric, caption.render().plain) == (
                "compare.loss", "metric 2/6: compare.loss   ([ ] other metric)")
            await pilot.press("left_square_bracket", "left_square_bracket")
            assert screen.metric == "train.loss"
    asyncio.run(scenario())


def test_dag_line_names_the_line_of_each_step():
    steps = [DagStep(k, k.upper(), "Finished", ups) for k, ups in DIAMOND.items()]
    assert [dag_line(steps, k) for k in ("a", "b", "c", "d", "gone")] == [1, 3, 4, 6, None]


def test_a_long_graph_scrolls_to_keep_the_cursor_in_view():
    from textual.app import App

    chain = [DagStep(f"s{i}", f"step{i}", "Finished", (f"s{i - 1}",) if i else ()) for i in range(12)]

    class One(App):
        def compose(self):
            yield DagView(id="dag")

    async def scenario():
        app = One()
        async with app.run_test(size=(80, 24)) as pilot:
            dag = app.query_one(DagView)
            dag.show_steps(chain, "s0")
            dag.focus()
            await pilot.pause(0.1)
            assert dag.scroll_y == 0
            await pilot.press("G")
            await pilot.pause(0.1)
            assert dag.selected == "s11"
            assert dag.scroll_y == 23 - 10 + 1  # its line, 23 (of 0..23), at the bottom of 10 lines
            await pilot.press("g")
            await pilot.pause(0.1)
            assert (dag.selected, dag.scroll_y) == ("s0", 0)
    asyncio.run(scenario())


def test_the_graph_of_a_real_pipeline_follows_its_data_and_run_after(workspace, write, tmp_path):
    """prep → left, right (data) → join (data from both); `side` runs after prep only."""
    from runner.sdk import Experiment, Pipeline, PipelineData, PythonScriptStep
    from tests.test_dashboard import _open_run

    write("steps/make.py", """
        import os, sys
        for folder in sys.argv[1:]:
            os.makedirs(folder, exist_ok=True)
            open(os.path.join(folder, "x.txt"), "w").write("x")
    """)
    ds = workspace.get_default_datastore()
    a, b, left_out, right_out = (PipelineData(n, datastore=ds) for n in ("a", "b", "l", "r"))
    src = str(tmp_path / "steps")
    prep = PythonScriptStep("make.py", name="prep", source_directory=src, arguments=[a, b], outputs=[a, b])
    left = PythonScriptStep("make.py", name="left", source_directory=src, arguments=[left_out],
                            inputs=[a], outputs=[left_out])
    right = PythonScriptStep("make.py", name="right", source_directory=src, arguments=[right_out],
                             inputs=[b], outputs=[right_out])
    join = PythonScriptStep("make.py", name="join", source_directory=src, inputs=[left_out, right_out])
    side = PythonScriptStep("make.py", name="side", source_directory=src)
    side.run_after(prep)
    run = Experiment(workspace, "graph").submit(Pipeline(workspace, [join, side, right, left, prep]))
    assert run.wait_for_completion(show_output=False) == "Finished"

    async def scenario():
        app = DashboardApp(workspace._local.layout)
        async with app.run_test(size=SMALL) as pilot:
            await _open_run(app, pilot, run.id, steps=5)
            await pilot.press("d")
            dag = app.screen.query_one(DagView)
            await _until(pilot, lambda: dag.steps != ())
            # within a layer, steps keep the run's order (the pipeline's, dependencies first)
            assert dag.render_text() == ("layer 1\n  [✓ prep]  Finished\n"
                                         "layer 2\n  [✓ side]  Finished  ← prep\n"
                                         "  [✓ right]  Finished  ← prep\n  [✓ left]  Finished  ← prep\n"
                                         "layer 3\n  [✓ join]  Finished  ← right, left")
    asyncio.run(scenario())


def test_metric_names_are_shown_as_written_never_as_markup():
    from textual.app import App
    from textual.widgets import Static
    from tui.dashboard.step_tabs import MetricsTab

    class One(App):
        def compose(self):
            yield MetricsTab()

    async def scenario():
        app = One()
        async with app.run_test(size=(80, 24)) as pilot:
            tab = app.query_one(MetricsTab)
            tab.show([("[red]m[/red]", "scalar", "2", [1.0, 2.0], [1, 2]),
                      ("single", "scalar", "1", [1.0], [1])])
            await pilot.pause(0.1)
            assert app.query_one("#series", Static).render().plain == "series 1/1: [red]m[/red]"
            assert tab.cycle(1) == "[red]m[/red]"  # the only series: "single" has one value
            tab.show([])
            assert (app.query_one("#series", Static).render().plain, tab.series_name) == (
                "no series to plot", None)
            assert tab.cycle(1) is None
    asyncio.run(scenario())


def test_the_legend_names_each_plotted_run_in_its_colour_and_the_runs_without_values():
    from tui.dashboard.compare_screen import legend
    text = legend(["aaaaaaaa-1", "bbbbbbbb-2", "cccccccc-3"], ["cccccccc-3", "aaaaaaaa-1"])
    assert text.plain == "■ cccccccc  ■ aaaaaaaa  (no values: bbbbbbbb)"
    assert [(text.plain[s.start:s.end], str(s.style)) for s in text.spans] == [
        ("■ cccccccc", "green"), ("■ aaaaaaaa", "blue"), ("  (no values: bbbbbbbb)", "dim")]
