"""The tabs of the highlighted step on the run screen: Logs, Metrics, Outputs and Details.

Each is a widget of its own that knows how to show its part of a step; the run screen only
hands them what its workers read."""
from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Log, Static, TabPane
from textual_plotext import PlotextPlot

from tui.dashboard.keyed_table import KeyedTable, plain
from tui.formatting import short_value, shown

Metric = tuple[str, str, str, list[float], list]  # name, kind, latest, numeric series, values


def metric_tables(metrics: list[Metric]) -> Group:
    """log_row and log_table metrics as tables, log_image metrics as their file paths."""
    parts: list = []
    for name, kind, _, _, values in metrics:
        if kind == "row":
            rows = [v for v in values if isinstance(v, dict)]
        elif kind == "table" and values and isinstance(values[-1], dict):
            columns = values[-1]
            rows = [dict(zip(columns, cells)) for cells in zip(*columns.values())]
        elif kind == "image":
            parts.append(plain(f"{name}: {values[-1] if values else '-'}"))
            continue
        else:
            continue
        table = Table(title=plain(name), title_justify="left")
        headers = list(dict.fromkeys(k for row in rows for k in row))
        for header in headers:
            table.add_column(plain(str(header)))
        for row in rows:
            table.add_row(*(plain(short_value(row.get(h, ""), 20)) for h in headers))
        parts.append(table)
    return Group(*parts)


class LogsTab(TabPane):
    """The step's stdout and stderr, tailed live."""

    def __init__(self) -> None:
        super().__init__("Logs", id="logs")

    def compose(self) -> ComposeResult:
        yield Log(id="log", max_lines=20_000)

    @property
    def log(self) -> Log:
        return self.query_one("#log", Log)

    def clear(self) -> None:
        self.log.clear()

    def append(self, lines: list[str]) -> None:
        self.log.write_lines([shown(line) for line in lines])

    def toggle_follow(self) -> bool:
        """Start or stop keeping the newest line in view; returns whether it follows now."""
        self.log.auto_scroll = not self.log.auto_scroll
        return self.log.auto_scroll


def series_of(metrics: list[Metric]) -> list[tuple[str, list[float]]]:
    """The metrics that can be plotted (more than one numeric value), by name."""
    return [(name, history) for name, _, _, history, _ in metrics if len(history) > 1]


def pick_series(names: list[str], current: str | None, step: int = 0) -> str | None:
    """The series `step` places after `current` among `names`, wrapping around; the first
    one when `current` is gone (or None), None when there is none."""
    if not names:
        return None
    if current not in names:
        return names[0]
    return names[(names.index(current) + step) % len(names)]


class MetricsTab(TabPane):
    """The step's metrics: latest values, a plot of one series (`[`/`]` pick which), row and
    table metrics."""

    def __init__(self) -> None:
        super().__init__("Metrics", id="metrics")
        self.metrics: list[Metric] = []
        self.series_name: str | None = None  # the plotted series, kept across refreshes

    def compose(self) -> ComposeResult:
        with Horizontal(id="metric-top"):  # side by side, so the plot keeps its height on small screens
            yield KeyedTable([("name", "METRIC"), ("kind", "KIND"), ("value", "LATEST"),
                              ("count", "VALUES")], id="metric-table")
            with Vertical(id="metric-plot"):
                yield Static("", id="series")
                yield PlotextPlot(id="plot")
        yield Static("", id="metric-tables")

    def show(self, metrics: list[Metric]) -> None:
        self.metrics = metrics
        self.query_one("#metric-table", KeyedTable).sync(
            (name, (name, kind, value, str(len(values)))) for name, kind, value, _, values in metrics)
        self.query_one("#metric-tables", Static).update(metric_tables(metrics))
        self._plot()

    def cycle(self, step: int) -> str | None:
        """Plot the next (`step` 1) or previous (-1) series; returns its name (None: no series)."""
        names = [name for name, _ in series_of(self.metrics)]
        self.series_name = pick_series(names, self.series_name, step)
        self._plot()
        return self.series_name

    def _plot(self) -> None:
        series = dict(series_of(self.metrics))
        names = list(series)
        self.series_name = pick_series(names, self.series_name)
        caption = self.query_one("#series", Static)
        plot = self.query_one(PlotextPlot)
        plot.plt.clear_data()
        if self.series_name is None:
            caption.update("no series to plot")
        else:
            name = self.series_name
            caption.update(plain(f"series {names.index(name) + 1}/{len(names)}: {name}"
                                 + ("   ([ ] other series)" if len(names) > 1 else "")))
            plot.plt.plot(series[name], label=shown(name))  # no title: the caption names it
        plot.refresh()


class OutputsTab(TabPane):
    """The step's outputs (datastore paths) and artifacts, with sizes."""

    def __init__(self) -> None:
        super().__init__("Outputs", id="outputs")

    def compose(self) -> ComposeResult:
        yield KeyedTable([("name", "NAME"), ("kind", "KIND"), ("size", "SIZE"), ("where", "WHERE")],
                         id="output-table")

    def show(self, outputs: list[tuple[str, str, str, str]]) -> None:
        self.query_one("#output-table", KeyedTable).sync(
            (f"{kind}:{name}", (name, kind, size, where)) for name, kind, size, where in outputs)


class DetailsTab(TabPane):
    """Live CPU and memory while the step runs, and how it ran (arguments, image, outcome)."""

    def __init__(self) -> None:
        super().__init__("Details", id="details")

    def compose(self) -> ComposeResult:
        yield Static("", id="usage")
        yield Static("", id="step-details")

    def show(self, details: str, usage: str) -> None:
        self.query_one("#step-details", Static).update(plain(details))
        self.query_one("#usage", Static).update(plain(usage))
