"""TabularDataset in a script, as the SDK has it: the factories and their options, lazy
transformations read only when asked, writing the table out, registering a DataFrame, and the
errors a user meets (a path that matches nothing, a bad option, a time filter without a
timestamp column)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from runner.sdk import Dataset
from runner.sdk.tabular_dataset import TabularDataset
from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.tabular_types import DataType


@pytest.fixture
def store(workspace, tmp_path):
    data = tmp_path / "sales"
    for country, day, rows in (("BE", "2024-01-05", "1,2.5\n2,3.5\n"), ("NL", "2024-02-09", "3,4.5\n")):
        folder = data / country / day
        folder.mkdir(parents=True)
        (folder / "part.csv").write_text("units,price\n" + rows)
    datastore = workspace.get_default_datastore()
    datastore.upload(str(data), target_path="sales", show_progress=False)
    return datastore


def test_delimited_files_with_partitions_and_paths(store):
    ds = Dataset.Tabular.from_delimited_files((store, "sales/**/*.csv"), include_path=True,
                                              partition_format="/{country}/{day:yyyy-MM-dd}/part.csv")
    assert type(ds) is TabularDataset and ds.partition_keys == ["country", "day"]
    df = ds.to_pandas_dataframe()
    assert list(df.columns) == ["Path", "units", "price", "country", "day"]
    assert df["units"].tolist() == [1, 2, 3] and str(df["units"].dtype) == "int64"
    assert df["price"].tolist() == [2.5, 3.5, 4.5] and str(df["price"].dtype) == "float64"
    assert df["day"].tolist() == [pd.Timestamp("2024-01-05")] * 2 + [pd.Timestamp("2024-02-09")]
    assert df["Path"].tolist()[0] == "/BE/2024-01-05/part.csv"
    assert ds.get_partition_key_values(["country"]) == [{"country": "BE"}, {"country": "NL"}]


def test_transformations_are_lazy_and_compose(store):
    ds = Dataset.Tabular.from_delimited_files((store, "sales/**/*.csv"),
                                              set_column_types={"units": DataType.to_string()})
    assert ds.keep_columns("units").skip(1).to_pandas_dataframe()["units"].tolist() == ["2", "3"]
    assert ds.drop_columns(["units"]).take(1).to_pandas_dataframe().to_dict("list") == {"price": [2.5]}
    left, right = ds.random_split(0.5, seed=7)
    assert sorted(left.to_pandas_dataframe()["price"].tolist() +
                  right.to_pandas_dataframe()["price"].tolist()) == [2.5, 3.5, 4.5]
    timed = Dataset.Tabular.from_delimited_files(
        (store, "sales/**/*.csv"), partition_format="/{country}/{day:yyyy-MM-dd}/part.csv"
    ).with_timestamp_columns(timestamp="day")
    assert timed.timestamp_columns == ("day", None)
    after = timed.time_after(dt.datetime(2024, 2, 1)).to_pandas_dataframe()
    assert after["country"].tolist() == ["NL"]
    assert timed.time_between(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 31)) \
        .to_pandas_dataframe()["units"].tolist() == [1, 2]


def test_writing_the_table_out_and_registering_a_dataframe(workspace, store):
    ds = Dataset.Tabular.from_delimited_files((store, "sales/**/*.csv"))
    parquet = ds.to_parquet_files()
    assert parquet.to_path() == ["/part-00000.parquet"]
    (written,) = parquet.download()
    assert pd.read_parquet(written)["units"].tolist() == [1, 2, 3]
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    registered = Dataset.Tabular.register_pandas_dataframe(frame, (store, "frames"), "frame")
    assert (registered.name, registered.version) == ("frame", 1)
    assert Dataset.get_by_name(workspace, "frame").to_pandas_dataframe().to_dict("list") == {
        "a": [1, 2], "b": ["x", "y"]}


def test_json_lines_files(workspace, tmp_path):
    (tmp_path / "j").mkdir()
    (tmp_path / "j" / "e.jsonl").write_text('{"id": 1, "ok": true}\n{"id": 2, "ok": false}\n')
    datastore = workspace.get_default_datastore()
    datastore.upload(str(tmp_path / "j"), target_path="events", show_progress=False)
    df = Dataset.Tabular.from_json_lines_files((datastore, "events/e.jsonl")).to_pandas_dataframe()
    assert df.to_dict("list") == {"id": [1, 2], "ok": [True, False]}


def test_bad_input_says_what_is_wrong(store):
    with pytest.raises(UserErrorException, match=r"^Dataset validation failed: workspaceblobstore:"
                                                 r"nothing/\*\.csv has no files \(looked in .*nothing\)$"):
        Dataset.Tabular.from_delimited_files((store, "nothing/*.csv"))
    with pytest.raises(UserErrorException, match="encoding 'klingon' is not supported"):
        Dataset.Tabular.from_delimited_files((store, "sales/**/*.csv"), encoding="klingon")
    with pytest.raises(UserErrorException, match="set_column_types takes a dict"):
        Dataset.Tabular.from_delimited_files((store, "sales/**/*.csv"), set_column_types=["units"])
    ds = Dataset.Tabular.from_delimited_files((store, "sales/**/*.csv"))
    with pytest.raises(UserErrorException, match=r"^time_after needs a timestamp column: call "
                                                 r"with_timestamp_columns\(timestamp='column'\) first$"):
        ds.time_after(dt.datetime(2024, 1, 1))
    with pytest.raises(UserErrorException, match="percentage must be a number greater than 0"):
        ds.random_split(1)
    with pytest.raises(UserErrorException, match="to_spark_dataframe needs a Spark cluster"):
        ds.to_spark_dataframe()
