"""How times, durations and tables are written, the same everywhere in the CLI."""
from __future__ import annotations

import time


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def duration(start: float | None, end: float | None) -> str:
    if not start:
        return "-"
    seconds = (end or time.time()) - start
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]
            if chr(c) not in "\n\t"}


def shown(text: str) -> str:
    """`text` with control and escape bytes (ESC, BEL, CR, …) written as `\\xNN`: what a step
    printed or named can never drive the terminal. Newlines and tabs stay."""
    return text.replace("\r\n", "\n").translate(_CONTROL)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain left-aligned text table (cells shown escaped, see `shown`)."""
    rows = [[shown(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def short_value(value: object, limit: int = 40) -> str:
    text = shown(f"{value:.6g}" if isinstance(value, float) else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                 "%Y-%m-%d %H:%M:%S")


def parse_since(text: str, now: float | None = None) -> float:
    """`--since` as a Unix time: a date (`2026-12-01`, local midnight), a date and time
    (`2026-12-01T09:30`, local) or a duration back from now (`90s`, `15m`, `2h`, `3d`, `1w`).
    Raises ValueError with a one-line message for anything else."""
    value = text.strip()
    unit = value[-1:].lower()
    if unit in _UNITS and value[:-1].isdigit():
        return (time.time() if now is None else now) - int(value[:-1]) * _UNITS[unit]
    for fmt in _DATE_FORMATS:
        try:
            return time.mktime(time.strptime(value, fmt))
        except ValueError:
            continue
    raise ValueError(f"{text!r} is neither a date (2026-12-01, 2026-12-01T09:30) nor a "
                     "duration (90s, 15m, 2h, 3d, 1w)")
