"""TabularDataset read: ~100 MB of CSV in 10 files (numeric, bool, date and string columns).
Times `read_dataframe` with the from_delimited_files defaults against
`pandas.concat([pandas.read_csv(f) for f in files])`: the median of 3 runs each, alternating,
after a warm-up run of each; prints both and the ratio (target <= 1.2)."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from _common import median

FILES = 10
ROWS_PER_FILE = 115_000  # ~10 MB a file
REPEATS = 3


def make_files(folder: Path) -> list[Path]:
    """FILES CSV files of ROWS_PER_FILE rows: ints, floats, a bool, a date and two strings."""
    import numpy
    import pandas
    rng = numpy.random.default_rng(7)
    paths = []
    words = numpy.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"])
    for i in range(FILES):
        n = ROWS_PER_FILE
        frame = pandas.DataFrame({
            "id": numpy.arange(i * n, (i + 1) * n),
            "count": rng.integers(0, 1_000_000, n),
            "price": rng.random(n) * 1000,
            "ratio": rng.random(n),
            "flag": rng.random(n) < 0.5,
            "day": pandas.Timestamp("2024-01-01") + pandas.to_timedelta(rng.integers(0, 365, n), "D"),
            "word": words[rng.integers(0, len(words), n)],
            "label": [f"item-{k:07d}" for k in rng.integers(0, 10_000_000, n)],
        })
        path = folder / f"part-{i:02d}.csv"
        frame.to_csv(path, index=False, date_format="%Y-%m-%d")
        paths.append(path)
    return paths


def timed(ours, base) -> tuple[float, float]:
    """Median seconds of `ours` and of `base`, run alternately after one warm-up run each
    (the files in the page cache, pyarrow's first import out of the timing)."""
    ours(), base()
    took: tuple[list[float], list[float]] = ([], [])
    for _ in range(REPEATS):
        for fn, into in ((ours, took[0]), (base, took[1])):
            start = time.perf_counter()
            fn()
            into.append(time.perf_counter() - start)
    return median(took[0]), median(took[1])


def main() -> None:
    import pandas
    from runner.step_runtime.tabular_read import TabularFile, read_dataframe
    folder = Path(tempfile.mkdtemp(prefix="amlocal-bench-tabular-"))
    try:
        paths = make_files(folder)
        size = sum(p.stat().st_size for p in paths) / 1e6
        files = [TabularFile(str(p), f"/{p.name}", {}) for p in paths]
        read = {"format": "delimited", "separator": ",", "header": True,
                "infer_column_types": True, "empty_as_string": False, "encoding": "utf8"}
        ours, base = timed(lambda: read_dataframe(files, read, []),
                           lambda: pandas.concat([pandas.read_csv(p) for p in paths]))
        df = read_dataframe(files, read, [])
        assert len(df) == FILES * ROWS_PER_FILE and str(df["day"].dtype) == "datetime64[ns]"
        print(f"{size:.0f} MB of CSV in {FILES} files, {len(df):,} rows")
        print(f"read_dataframe: {ours:.3f} s  pandas concat(read_csv): {base:.3f} s (median of {REPEATS})")
        print(f"ratio: {ours / base:.2f}  [target <= 1.2]")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
