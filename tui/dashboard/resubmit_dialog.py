"""The resubmit dialog (`p`): a run's pipeline parameters as editable values, and the steps to
force, then OK resubmits the run through the client API as `amlocal rerun --param --step` does."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


def value_text(value: Any) -> str:
    """A parameter value as the dialog shows it: text as it is, anything else as JSON (what
    `tui.rerun_command.parse_params` reads back to the same value and type)."""
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Resubmission:
    """What the dialog's OK gives: each parameter's text, and the steps to force (as typed)."""

    values: dict[str, str]
    steps_text: str


class ResubmitDialog(ModalScreen[Resubmission | None]):
    """Edit a run's parameters and the steps to force; OK gives a Resubmission, Cancel None."""

    DEFAULT_CSS = """
    ResubmitDialog { align: center middle; }
    ResubmitDialog > VerticalScroll { width: 70; height: auto; max-height: 90%;
                                      border: thick $accent; padding: 0 1; background: $surface; }
    ResubmitDialog Horizontal { height: auto; }
    ResubmitDialog Button { margin: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, run_id: str, parameters: Mapping[str, Any]) -> None:
        super().__init__()
        self.run_id = run_id
        self.names = list(parameters)
        self.parameters = dict(parameters)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(f"Resubmit run {self.run_id[:8]}")
            if not self.names:
                yield Label("(the pipeline has no parameters)")
            for i, name in enumerate(self.names):
                yield Label(name)
                yield Input(value_text(self.parameters[name]), id=f"param-{i}")
            yield Label("steps to force (comma-separated names, optional)")
            yield Input(placeholder="train, score", id="steps")
            with Horizontal():
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_ok()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any field is OK."""
        self.action_ok()

    def action_ok(self) -> None:
        values = {name: self.query_one(f"#param-{i}", Input).value
                  for i, name in enumerate(self.names)}
        self.dismiss(Resubmission(values, self.query_one("#steps", Input).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_resubmit(screen: Any, run_id: str) -> None:
    """Open the dialog on `run_id`'s parameters over `screen` (a LiveScreen); its OK resubmits
    in the screen's action worker, which notifies the new run or what was wrong."""
    from store.runs import get_pipeline_run
    from store.workspace import open_workspace
    from tui.dashboard.actions import resubmit
    layout = screen.dashboard.store.layout
    with open_workspace(layout) as local:
        parameters = dict(get_pipeline_run(local.conn, run_id).parameters)

    def done(answer: Resubmission | None) -> None:
        if answer is not None:
            screen.act(lambda: resubmit(layout, run_id, answer.values, answer.steps_text))
    screen.app.push_screen(ResubmitDialog(run_id, parameters), done)
