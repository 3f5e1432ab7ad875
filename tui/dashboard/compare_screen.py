"""Marked runs side by side: parameters and final metrics, only the differences by default,
and one metric's series of every run overlaid in a plot."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static
from textual_plotext import PlotextPlot

from tui.dashboard.keyed_table import KeyedTable, plain
from tui.dashboard.live_screen import LiveScreen
from tui.dashboard.queries import Comparison, compare_runs
from tui.dashboard.step_tabs import pick_series
from tui.formatting import shown

# one colour per run, the same in the plot (plotext names) and in the legend (rich names)
RUN_COLOURS = ("blue", "red", "green", "magenta", "cyan", "yellow")


def run_colour(run_ids: list[str], run_id: str) -> str:
    """The colour of `run_id`'s line: by its place among the compared runs."""
    return RUN_COLOURS[run_ids.index(run_id) % len(RUN_COLOURS)]


def legend(run_ids: list[str], plotted: list[str]) -> Text:
    """The plotted runs' ids (first 8 characters), each in its line's colour:
    "■ 11111111  ■ 22222222"; compared runs without the metric are named as such."""
    text = Text()
    for i, run_id in enumerate(plotted):
        if i:
            text.append("  ")
        text.append(f"■ {run_id[:8]}", style=run_colour(run_ids, run_id))
    missing = [r[:8] for r in run_ids if r not in plotted]
    if missing:
        text.append(f"  (no values: {', '.join(missing)})", style="dim")
    return text


class CompareScreen(LiveScreen):
    """`a` switches between only the differing rows and every row; `[`/`]` pick the metric
    whose series are overlaid below (read once: runs that are compared are usually over)."""

    DEFAULT_CSS = """
    CompareScreen KeyedTable { height: 1fr; }
    CompareScreen #overlay-caption { height: 1; padding: 0 1; }
    CompareScreen #overlay { height: 1fr; min-height: 6; }
    CompareScreen #legend { height: 1; padding: 0 1; }
    """
    BINDINGS = [Binding("a", "toggle_all", "All rows / only differences"),
                Binding("right_square_bracket", "metric(1)", "Plot metric", key_display="[ ]"),
                Binding("left_square_bracket", "metric(-1)", "Previous metric", show=False),
                Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.only_differences = True
        self.comparison: Comparison | None = None
        self.metric: str | None = None  # the metric whose series are overlaid

    def compose(self) -> ComposeResult:
        yield Header()
        yield KeyedTable([("fact", ""), *((run_id, run_id[:8]) for run_id in self.run_ids)],
                         id="comparison")
        yield Static("", id="overlay-caption")
        yield PlotextPlot(id="overlay")
        yield Static("", id="legend")
        yield Footer()

    refresh_seconds = None

    def on_mount(self) -> None:
        self.title, self.sub_title = "amlocal", f"comparing {len(self.run_ids)} runs"
        super().on_mount()

    def fetch(self) -> Comparison:
        return compare_runs(self.dashboard.store, self.run_ids)

    def show(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self._show()
        self._plot()

    def _show(self) -> None:
        if self.comparison is None:
            return
        rows = self.comparison.differing() if self.only_differences else self.comparison.rows
        self.query_one(KeyedTable).sync((fact, (fact, *values)) for fact, values in rows)
        self.sub_title = (f"comparing {len(self.run_ids)} runs: "
                          + ("only differences (a: all rows)" if self.only_differences else "all rows"))

    def _plot(self, step: int = 0) -> None:
        """Overlay the chosen metric's series of every run (`step` moves to another metric)."""
        series = dict(self.comparison.series) if self.comparison else {}
        names = list(series)
        self.metric = pick_series(names, self.metric, step)
        caption = self.query_one("#overlay-caption", Static)
        plot = self.query_one(PlotextPlot)
        plot.plt.clear_data()
        if self.metric is None:
            caption.update("no metric has a series to overlay")
            self.query_one("#legend", Static).update("")
        else:
            caption.update(plain(f"metric {names.index(self.metric) + 1}/{len(names)}: {self.metric}"
                                 + ("   ([ ] other metric)" if len(names) > 1 else "")))
            for run_id, values in series[self.metric]:
                plot.plt.plot(list(values), label=run_id[:8], color=run_colour(self.run_ids, run_id))
            plot.plt.title(shown(self.metric))
            self.query_one("#legend", Static).update(
                legend(self.run_ids, [run_id for run_id, _ in series[self.metric]]))
        plot.refresh()

    def action_toggle_all(self) -> None:
        self.only_differences = not self.only_differences
        self._show()

    def action_metric(self, step: int) -> None:
        """`]`/`[` overlay the next/previous metric."""
        self._plot(step)
        if self.metric is None:
            self.notify("no metric has a series to overlay")
