"""The TabularDataset engine (runner.step_runtime.tabular_*): each reader option, each
transform, the column types, the writers and every validation error's text."""
from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import numpy
import pandas as pd
import pytest

from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.tabular_read import (TabularFile, check_read_options, check_transform,
                                              read_dataframe, write_csv_files,
                                              write_parquet_files)
from runner.step_runtime.tabular_types import DataType

REPO = Path(__file__).resolve().parents[1]
PEOPLE = "name,age,ok,born,score,note\nann,30,true,2024-01-02,1.5,\nbob,41,false,2023-05-06,,NA\n"


def put(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", **partitions) -> TabularFile:
    """`text` written as tmp_path/name; its TabularFile (path '/name')."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return TabularFile(str(path), "/" + name, partitions)


def delimited(files: list[TabularFile], transforms: list[dict] | None = None, **options):
    return read_dataframe(files, {"format": "delimited", **options}, transforms or [])


def error_of(fn, *args, **kwargs) -> str:
    with pytest.raises(UserErrorException) as caught:
        fn(*args, **kwargs)
    return str(caught.value)


# --- delimited: inference, nulls, strings ---------------------------------------------------

def test_defaults_infer_int_float_bool_datetime_and_str(tmp_path):
    df = delimited([put(tmp_path, "a.csv", PEOPLE)])
    assert list(df.columns) == ["name", "age", "ok", "born", "score", "note"]
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        "name": "str", "age": "int64", "ok": "bool", "born": "datetime64[ns]",
        "score": "float64", "note": "str"}
    assert df.loc[0, "name"] == "ann" and type(df.loc[0, "name"]) is str
    assert df.loc[1, "age"] == 41 and type(df.loc[1, "age"]) is numpy.int64
    assert df.loc[0, "ok"] is numpy.True_ and df.loc[1, "ok"] is numpy.False_
    assert df.loc[0, "born"] == pd.Timestamp("2024-01-02")
    assert df.loc[0, "score"] == 1.5 and type(df.loc[0, "score"]) is numpy.float64
    assert pd.isna(df.loc[1, "score"]) and pd.isna(df.loc[0, "note"])
    assert df.loc[1, "note"] == "NA"  # only empty fields are null, as in dataprep
    assert df.index.tolist() == [0, 1]


def test_iso_datetimes_with_time_and_zone_become_naive_utc(tmp_path):
    text = "t,u\n2024-01-02T10:00:00,2024-01-02T10:00:00+01:00\n2024-01-03 11:30:00.5,2024-01-02T10:00:00Z\n"
    df = delimited([put(tmp_path, "a.csv", text)])
    assert str(df["t"].dtype) == "datetime64[ns]" and str(df["u"].dtype) == "datetime64[ns]"
    assert df["t"].tolist() == [pd.Timestamp("2024-01-02 10:00"), pd.Timestamp("2024-01-03 11:30:00.5")]
    assert df["u"].tolist() == [pd.Timestamp("2024-01-02 09:00"), pd.Timestamp("2024-01-02 10:00")]


def test_a_column_with_one_non_date_stays_text(tmp_path):
    df = delimited([put(tmp_path, "a.csv", "d\n2024-01-02\nsoon\n")])
    assert str(df["d"].dtype) == "str" and df["d"].tolist() == ["2024-01-02", "soon"]


def test_infer_column_types_false_keeps_strings_and_nulls(tmp_path):
    df = delimited([put(tmp_path, "a.csv", PEOPLE)], infer_column_types=False)
    assert {str(t) for t in df.dtypes} == {"str"}
    assert df.loc[0, "age"] == "30" and df.loc[0, "ok"] == "true" and df.loc[0, "born"] == "2024-01-02"
    assert pd.isna(df.loc[1, "score"]) and pd.isna(df.loc[0, "note"])


def test_empty_as_string_keeps_empty_text_but_numbers_stay_null(tmp_path):
    df = delimited([put(tmp_path, "a.csv", "name,note,n\nann,,1\nbob,x,\n")], empty_as_string=True)
    assert df["note"].tolist() == ["", "x"] and str(df["note"].dtype) == "str"
    assert str(df["n"].dtype) == "float64" and df.loc[0, "n"] == 1.0 and pd.isna(df.loc[1, "n"])
    strings = delimited([put(tmp_path, "b.csv", "a,b\n,1\n")], empty_as_string=True,
                        infer_column_types=False)
    assert strings.loc[0, "a"] == "" and strings.loc[0, "b"] == "1"


def test_files_are_concatenated_in_the_given_order(tmp_path):
    a = put(tmp_path, "a.csv", "n,w\n1,x\n2,y\n")
    b = put(tmp_path, "b.csv", "n,w\n3,z\n")
    df = delimited([b, a])
    assert df["n"].tolist() == [3, 1, 2] and df["w"].tolist() == ["z", "x", "y"]
    assert df.index.tolist() == [0, 1, 2] and str(df["n"].dtype) == "int64"


def test_quoted_fields_with_separators_and_newlines(tmp_path):
    df = delimited([put(tmp_path, "a.csv", 'a,b\n"x, y","line1\nline2"\n')], support_multi_line=True)
    assert df.loc[0, "a"] == "x, y" and df.loc[0, "b"] == "line1\nline2" and len(df) == 1


# --- headers ------------------------------------------------------------------------------

def test_same_headers_drops_each_files_first_line(tmp_path):
    files = [put(tmp_path, "a.csv", "n,w\n1,x\n"), put(tmp_path, "b.csv", "n,w\n2,y\n")]
    for header in (True, "all_files_same_headers", 3):
        df = delimited(files, header=header)
        assert df["n"].tolist() == [1, 2] and str(df["n"].dtype) == "int64", header


def test_only_first_file_has_headers(tmp_path):
    files = [put(tmp_path, "a.csv", "n,w\n1,x\n"), put(tmp_path, "b.csv", "2,y\n3,z\n")]
    for header in ("from_first_file", 1):
        df = delimited(files, header=header)
        assert df["n"].tolist() == [1, 2, 3] and df["w"].tolist() == ["x", "y", "z"], header


def test_combine_all_files_headers_unions_columns_by_name(tmp_path):
    files = [put(tmp_path, "a.csv", "n,w\n1,x\n"), put(tmp_path, "b.csv", "w,m\ny,2.5\n")]
    for header in ("combine_all_files_headers", "all_files_different_headers", 2):
        df = delimited(files, header=header)
        assert list(df.columns) == ["n", "w", "m"], header
        assert df["w"].tolist() == ["x", "y"]
        assert df.loc[0, "n"] == 1.0 and pd.isna(df.loc[1, "n"]) and str(df["n"].dtype) == "float64"
        assert pd.isna(df.loc[0, "m"]) and df.loc[1, "m"] == 2.5


def test_no_headers_names_columns_column1_column2(tmp_path):
    files = [put(tmp_path, "a.csv", "ann,30\n"), put(tmp_path, "b.csv", "bob,41\n")]
    for header in (False, "no_headers", 0):
        df = delimited(files, header=header)
        assert list(df.columns) == ["Column1", "Column2"], header
        assert df["Column1"].tolist() == ["ann", "bob"] and df["Column2"].tolist() == [30, 41]
        assert str(df["Column2"].dtype) == "int64"


def test_header_accepts_an_enum_like_value(tmp_path):
    class Behavior:
        value = 0
    df = delimited([put(tmp_path, "a.csv", "a,b\n")], header=Behavior())
    assert df.loc[0, "Column1"] == "a" and list(df.columns) == ["Column1", "Column2"]


# --- separators and encodings ---------------------------------------------------------------

@pytest.mark.parametrize("separator", [";", "\t", "||", "|"])
def test_separators_including_multi_character(tmp_path, separator):
    text = f"a{separator}b\n1{separator}x.y\n"
    df = delimited([put(tmp_path, "a.csv", text)], separator=separator)
    assert list(df.columns) == ["a", "b"] and df.loc[0, "a"] == 1 and df.loc[0, "b"] == "x.y"


@pytest.mark.parametrize("name, python", [("latin1", "latin-1"), ("iso88591", "iso-8859-1"),
                                          ("windows1252", "cp1252"), ("utf16", "utf-16"),
                                          ("utf32", "utf-32"), ("utf8bom", "utf-8-sig"),
                                          ("utf8", "utf-8")])
def test_encodings(tmp_path, name, python):
    df = delimited([put(tmp_path, "a.csv", "city,n\nMünchen,1\n", encoding=python)], encoding=name)
    assert list(df.columns) == ["city", "n"] and df.loc[0, "city"] == "München"


def test_ascii_encoding_and_an_undecodable_file(tmp_path):
    assert delimited([put(tmp_path, "a.csv", "a\nx\n")], encoding="ascii").loc[0, "a"] == "x"
    bad = put(tmp_path, "b.csv", "a\nMünchen\n", encoding="latin-1")
    message = error_of(delimited, [bad], encoding="utf8")
    assert message.startswith("to_pandas_dataframe: cannot read /b.csv as delimited text: ")
    assert "\n" not in message


# --- Path and partition columns -------------------------------------------------------------

def test_include_path_adds_a_first_path_column(tmp_path):
    files = [put(tmp_path, "2024/a.csv", "n\n1\n2\n"), put(tmp_path, "2025/b.csv", "n\n3\n")]
    df = delimited(files, include_path=True)
    assert list(df.columns) == ["Path", "n"]
    assert df["Path"].tolist() == ["/2024/a.csv", "/2024/a.csv", "/2025/b.csv"]
    assert type(df.loc[0, "Path"]) is str


def test_partition_values_become_columns_str_and_datetime(tmp_path):
    files = [put(tmp_path, "a.csv", "n\n1\n2\n", region="eu", day=datetime.datetime(2024, 1, 5)),
             put(tmp_path, "b.csv", "n\n3\n", region="us", day=datetime.datetime(2024, 2, 1))]
    df = delimited(files, include_path=True, partition_columns=["day", "region"])
    assert list(df.columns) == ["Path", "n", "day", "region"]
    assert df["region"].tolist() == ["eu", "eu", "us"] and type(df.loc[0, "region"]) is str
    assert str(df["day"].dtype) == "datetime64[ns]"
    assert df["day"].tolist() == [pd.Timestamp("2024-01-05")] * 2 + [pd.Timestamp("2024-02-01")]


def test_files_given_as_dicts(tmp_path):
    file = put(tmp_path, "a.csv", "n\n1\n", part="x")
    df = delimited([{"local_path": file.local_path, "path": "/a.csv", "partition_values": {"part": "x"}}])
    assert df.to_dict("list") == {"n": [1], "part": ["x"]}


# --- set_column_types and DataType ------------------------------------------------------------

def test_set_column_types_string_long_double(tmp_path):
    file = put(tmp_path, "a.csv", "a,b,c,d\n30,7,\"1,5\",x\n41,,2,3\n")
    df = delimited([file], set_column_types={
        "a": DataType.to_string().to_json(), "b": DataType.to_long().to_json(),
        "c": DataType.to_float(decimal_mark=",").to_json(), "d": {"type": "long"}})
    assert df["a"].tolist() == ["30", "41"] and type(df.loc[0, "a"]) is str
    assert str(df["b"].dtype) == "float64" and df.loc[0, "b"] == 7.0 and pd.isna(df.loc[1, "b"])
    assert str(df["c"].dtype) == "float64" and df["c"].tolist() == [1.5, 2.0]
    assert str(df["d"].dtype) == "float64" and pd.isna(df.loc[0, "d"]) and df.loc[1, "d"] == 3.0
    whole = delimited([put(tmp_path, "b.csv", "a\n1\n2\n")], infer_column_types=False,
                      set_column_types={"a": DataType.to_long()})
    assert str(whole["a"].dtype) == "int64" and whole["a"].tolist() == [1, 2]


def test_set_column_types_boolean(tmp_path):
    file = put(tmp_path, "a.csv", "a,b\nyes,Y\nno,maybe\n")
    df = delimited([file], set_column_types={
        "a": DataType.to_bool().to_json(),
        "b": DataType.to_bool(["y"], ["n"], mismatch_as="false").to_json()})
    assert str(df["a"].dtype) == "bool" and df["a"].tolist() == [True, False]
    assert str(df["b"].dtype) == "bool" and df["b"].tolist() == [True, False]
    errors = delimited([file], set_column_types={"b": DataType.to_bool(["y"], ["n"]).to_json()})
    assert str(errors["b"].dtype) == "object" and errors["b"].tolist() == [True, None]


def test_set_column_types_datetime_with_formats(tmp_path):
    file = put(tmp_path, "a.csv", "d,e\n05/01/2024,2024-01-05\n2024.02.03,x\n")
    df = delimited([file], set_column_types={
        "d": DataType.to_datetime(["%d/%m/%Y", "%Y.%m.%d"]).to_json(),
        "e": DataType.to_datetime().to_json()})
    assert str(df["d"].dtype) == "datetime64[ns]"
    assert df["d"].tolist() == [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-02-03")]
    assert df.loc[0, "e"] == pd.Timestamp("2024-01-05") and pd.isna(df.loc[1, "e"])


def test_set_column_types_on_an_unknown_column(tmp_path):
    message = error_of(delimited, [put(tmp_path, "a.csv", "a,b\n1,2\n")],
                       set_column_types={"zip": {"type": "string"}})
    assert message == "set_column_types: column 'zip' not found in the dataset; its columns are: a, b"


def test_datatype_json_round_trip():
    assert DataType.to_string().to_json() == {"type": "string"}
    assert DataType.to_long().to_json() == {"type": "long"}
    assert DataType.to_float().to_json() == {"type": "double", "decimal_mark": "."}
    assert DataType.to_bool(["y"], ["n"], "error").to_json() == {
        "type": "boolean", "true_values": ["y"], "false_values": ["n"], "mismatch_as": "error"}
    assert DataType.to_bool().to_json() == {"type": "boolean"}
    assert DataType.to_datetime("%Y").to_json() == {"type": "datetime", "formats": ["%Y"]}
    assert DataType.to_datetime().to_json() == {"type": "datetime"}
    spec = DataType.to_datetime(["%Y-%m-%d"]).to_json()
    assert DataType.from_json(json.loads(json.dumps(spec))) == DataType.to_datetime("%Y-%m-%d")
    assert DataType.from_json({"type": "long"}) != DataType.to_string()


def test_datatype_errors():
    assert error_of(DataType.from_json, {"type": "int"}) == (
        "Invalid column type 'int': expected a DataType (string, long, double, boolean, datetime)")
    assert error_of(DataType.to_bool, mismatch_as="maybe") == (
        "Invalid mismatch_as 'maybe': expected one of true, false, error")
    assert error_of(DataType.to_float, decimal_mark=";") == (
        "Invalid decimal_mark ';': expected '.' or ','")
    assert error_of(DataType.from_json, {"type": "datetime", "formats": "%Y"}) == (
        "DataType formats must be a list of strings, got '%Y'")


# --- parquet and JSON lines -----------------------------------------------------------------

def test_parquet_keeps_its_types_with_path_partitions_and_types(tmp_path):
    frame = pd.DataFrame({"n": [1, 2], "x": [0.5, None], "s": ["a", None], "b": [True, False],
                          "t": pd.to_datetime(["2024-01-01", "2024-06-01"])})
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    pd.DataFrame({"n": [3], "x": [1.0], "s": ["c"], "b": [True],
                  "t": pd.to_datetime(["2025-01-01"])}).to_parquet(tmp_path / "b.parquet", index=True)
    files = [TabularFile(str(tmp_path / "a.parquet"), "/a.parquet", {"k": "1"}),
             TabularFile(str(tmp_path / "b.parquet"), "/b.parquet", {"k": "2"})]
    df = read_dataframe(files, {"format": "parquet", "include_path": True,
                                "set_column_types": {"n": {"type": "string"}}}, [])
    assert list(df.columns) == ["Path", "n", "x", "s", "b", "t", "k"]
    assert {c: str(t) for c, t in df.dtypes.items()} == {
        "Path": "str", "n": "str", "x": "float64", "s": "str", "b": "bool",
        "t": "datetime64[ns]", "k": "str"}
    assert df["n"].tolist() == ["1", "2", "3"] and df["k"].tolist() == ["1", "1", "2"]
    assert pd.isna(df.loc[1, "x"]) and pd.isna(df.loc[1, "s"]) and df.loc[2, "s"] == "c"
    assert df.loc[2, "t"] == pd.Timestamp("2025-01-01") and df.index.tolist() == [0, 1, 2]


def test_parquet_file_that_is_not_parquet(tmp_path):
    file = put(tmp_path, "a.parquet", "not parquet")
    message = error_of(read_dataframe, [file], {"format": "parquet"}, [])
    assert message.startswith("to_pandas_dataframe: cannot read /a.parquet as parquet: ")


def test_json_lines_types_and_nested_values(tmp_path):
    text = '{"n": 1, "x": 1.5, "s": "a", "b": true, "o": {"k": 1}}\n\n{"n": 2, "s": null, "b": false, "extra": "e"}\n'
    df = read_dataframe([put(tmp_path, "a.jsonl", text)],
                        {"format": "json_lines", "include_path": True}, [])
    assert list(df.columns) == ["Path", "n", "x", "s", "b", "o", "extra"]
    assert str(df["n"].dtype) == "int64" and df["n"].tolist() == [1, 2]
    assert str(df["x"].dtype) == "float64" and pd.isna(df.loc[1, "x"])
    assert df.loc[0, "s"] == "a" and pd.isna(df.loc[1, "s"])
    assert str(df["b"].dtype) == "bool" and df.loc[0, "o"] == {"k": 1}
    assert pd.isna(df.loc[0, "extra"]) and df.loc[1, "extra"] == "e"


def test_json_lines_invalid_lines_error_or_drop(tmp_path):
    file = put(tmp_path, "a.jsonl", '{"n": 1}\nnot json\n[1, 2]\n{"n": 2}\n')
    message = error_of(read_dataframe, [file], {"format": "json_lines"}, [])
    assert message == ("to_pandas_dataframe: line 2 of /a.jsonl is not a JSON object "
                       "(invalid_lines='error'; pass invalid_lines='drop' to skip such lines)")
    df = read_dataframe([file], {"format": "json_lines", "invalid_lines": "drop"}, [])
    assert df["n"].tolist() == [1, 2] and str(df["n"].dtype) == "int64"


def test_json_lines_encoding(tmp_path):
    file = put(tmp_path, "a.jsonl", '{"city": "München"}\n', encoding="utf-16")
    df = read_dataframe([file], {"format": "json_lines", "encoding": "utf16"}, [])
    assert df.loc[0, "city"] == "München"


# --- transforms -----------------------------------------------------------------------------

@pytest.fixture
def numbers(tmp_path) -> list[TabularFile]:
    rows = "\n".join(f"{i},w{i}" for i in range(1000))
    return [put(tmp_path, "n.csv", "n,w\n" + rows + "\n")]


def test_keep_and_drop_columns(tmp_path):
    files = [put(tmp_path, "a.csv", PEOPLE)]
    kept = delimited(files, [{"op": "keep_columns", "columns": ["score", "name"]}])
    assert list(kept.columns) == ["name", "score"] and kept.loc[0, "name"] == "ann"
    one = delimited(files, [{"op": "keep_columns", "columns": "age"}])
    assert one.to_dict("list") == {"age": [30, 41]}
    dropped = delimited(files, [{"op": "drop_columns", "columns": ["ok", "born", "note"]}])
    assert list(dropped.columns) == ["name", "age", "score"]


def test_unknown_columns_name_the_columns_there_are(tmp_path):
    files = [put(tmp_path, "a.csv", "name,age\nann,1\n")]
    assert error_of(delimited, files, [{"op": "keep_columns", "columns": ["name", "zip"]}]) == (
        "keep_columns: column(s) 'zip' not found in the dataset; its columns are: name, age")
    assert error_of(delimited, files, [{"op": "drop_columns", "columns": ["a", "b"]}]) == (
        "drop_columns: column(s) 'a', 'b' not found in the dataset; its columns are: name, age")
    assert error_of(check_transform, {"op": "keep_columns", "columns": ["zip"], "validate": True},
                    ["name", "age"]) == (
        "keep_columns: column(s) 'zip' not found in the dataset; its columns are: name, age")
    assert check_transform({"op": "keep_columns", "columns": ["zip"]}, None) is None


def test_take_and_skip_in_order(numbers):
    assert delimited(numbers, [{"op": "take", "count": 3}])["n"].tolist() == [0, 1, 2]
    assert delimited(numbers, [{"op": "skip", "count": 997}])["n"].tolist() == [997, 998, 999]
    both = delimited(numbers, [{"op": "skip", "count": 10}, {"op": "take", "count": 2}])
    assert both["n"].tolist() == [10, 11] and both.index.tolist() == [0, 1]
    assert len(delimited(numbers, [{"op": "take", "count": 0}])) == 0
    assert len(delimited(numbers, [{"op": "skip", "count": 5000}])) == 0


def test_take_sample_is_deterministic_for_a_seed(numbers):
    first = delimited(numbers, [{"op": "take_sample", "probability": 0.2, "seed": 7}])
    again = delimited(numbers, [{"op": "take_sample", "probability": 0.2, "seed": 7}])
    other = delimited(numbers, [{"op": "take_sample", "probability": 0.2, "seed": 8}])
    assert first["n"].tolist() == again["n"].tolist()
    assert first["n"].tolist() != other["n"].tolist()
    assert 150 <= len(first) <= 250 and first.index.tolist() == list(range(len(first)))
    assert first["n"].is_monotonic_increasing


def test_take_sample_without_seed_differs_between_reads(numbers):
    a = delimited(numbers, [{"op": "take_sample", "probability": 0.5, "seed": None}])
    b = delimited(numbers, [{"op": "take_sample", "probability": 0.5}])
    assert a["n"].tolist() != b["n"].tolist()


def test_random_split_sides_partition_the_rows(numbers):
    sides = [delimited(numbers, [{"op": "random_split", "percentage": 0.3, "seed": 11, "side": s}])
             for s in (0, 1)]
    left, right = (set(side["n"].tolist()) for side in sides)
    assert not left & right and left | right == set(range(1000))
    assert len(sides[0]) + len(sides[1]) == 1000 and 230 <= len(sides[0]) <= 370
    again = delimited(numbers, [{"op": "random_split", "percentage": 0.3, "seed": 11, "side": 0}])
    assert again["n"].tolist() == sides[0]["n"].tolist()


def test_time_filters(tmp_path):
    text = "t,v\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n,4\n"
    files = [put(tmp_path, "a.csv", text)]

    def values(**transform) -> list[int]:
        return delimited(files, [{"column": "t", **transform}])["v"].tolist()
    assert values(op="time_after", start="2024-01-02") == [2, 3]
    assert values(op="time_after", start="2024-01-02", include_boundary=False) == [3]
    assert values(op="time_before", end="2024-01-02") == [1, 2]
    assert values(op="time_before", end="2024-01-02T00:00:00", include_boundary=False) == [1]
    assert values(op="time_between", start="2024-01-01", end="2024-01-03") == [1, 2, 3]
    assert values(op="time_between", start="2024-01-01", end="2024-01-03",
                  include_boundary=False) == [2]
    assert values(op="time_after", start="2024-01-02T00:00:00+01:00") == [2, 3]


def test_time_recent_and_a_text_timestamp_column(tmp_path):
    now = datetime.datetime.now()
    recent = [now - datetime.timedelta(hours=h) for h in (1, 30, 50)]
    text = "t,v\n" + "".join(f"{t:%Y/%m/%d %H:%M:%S},{i}\n" for i, t in enumerate(recent))
    files = [put(tmp_path, "a.csv", text)]
    df = delimited(files, [{"op": "time_recent", "column": "t", "seconds": 2 * 86400}],
                   set_column_types={"t": DataType.to_datetime("%Y/%m/%d %H:%M:%S").to_json()})
    assert df["v"].tolist() == [0, 1]
    iso = put(tmp_path, "b.csv", "t,v\n2024-01-01,1\n2025-01-01,2\n")
    strings = delimited([iso], [{"op": "time_after", "column": "t", "start": "2024-06-01"}],
                        infer_column_types=False)
    assert strings["v"].tolist() == ["2"] and strings.loc[0, "t"] == "2025-01-01"
    assert error_of(delimited, [iso], [{"op": "time_after", "column": "v", "start": "2024-06-01"}]) == (
        "time_after: the timestamp column 'v' is not of type datetime (int64)")


# --- writers ----------------------------------------------------------------------------------

def test_write_csv_and_parquet_files_round_trip(tmp_path):
    df = delimited([put(tmp_path, "a.csv", PEOPLE)])
    csvs = write_csv_files(df, str(tmp_path / "out-csv"), separator=";")
    assert csvs == [str(tmp_path / "out-csv" / "part-00000.csv")]
    assert Path(csvs[0]).read_text().splitlines()[0] == "name;age;ok;born;score;note"
    back = delimited([TabularFile(csvs[0], "/part-00000.csv", {})], separator=";")
    assert back.equals(df)
    parquets = write_parquet_files(df, str(tmp_path / "out-pq"))
    assert parquets == [str(tmp_path / "out-pq" / "part-00000.parquet")]
    again = read_dataframe([TabularFile(parquets[0], "/part-00000.parquet", {})], {"format": "parquet"}, [])
    assert again.equals(df) and str(again["born"].dtype) == "datetime64[ns]"


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("read, message", [
    ({"format": "xml"}, "Unknown tabular format 'xml': expected one of delimited, parquet, json_lines"),
    ({}, "Unknown tabular format None: expected one of delimited, parquet, json_lines"),
    ({"format": "delimited", "header": "sometimes"},
     "Invalid header 'sometimes': expected True, False or a PromoteHeadersBehavior (0-3 or one of "
     "no_headers, from_first_file, combine_all_files_headers, all_files_different_headers, "
     "all_files_same_headers)"),
    ({"format": "delimited", "header": 4},
     "Invalid header 4: expected True, False or a PromoteHeadersBehavior (0-3 or one of "
     "no_headers, from_first_file, combine_all_files_headers, all_files_different_headers, "
     "all_files_same_headers)"),
    ({"format": "delimited", "encoding": "utf7"},
     "Invalid encoding 'utf7': expected one of utf8, iso88591, latin1, ascii, utf16, utf32, "
     "utf8bom, windows1252"),
    ({"format": "json_lines", "encoding": "ebcdic"},
     "Invalid encoding 'ebcdic': expected one of utf8, iso88591, latin1, ascii, utf16, utf32, "
     "utf8bom, windows1252"),
    ({"format": "delimited", "separator": ""}, "separator must be a non-empty string, got ''"),
    ({"format": "delimited", "separator": None}, "separator must be a non-empty string, got None"),
    ({"format": "parquet", "include_path": "yes"}, "include_path must be True or False, got 'yes'"),
    ({"format": "delimited", "infer_column_types": 1}, "infer_column_types must be True or False, got 1"),
    ({"format": "delimited", "set_column_types": {"age": {"type": "int"}}},
     "Invalid column type 'int' for column 'age': expected a DataType (string, long, double, "
     "boolean, datetime)"),
    ({"format": "delimited", "set_column_types": ["age"]},
     "set_column_types must be a dictionary of column name to DataType, got ['age']"),
    ({"format": "json_lines", "invalid_lines": "skip"}, "Invalid invalid_lines 'skip': expected 'error' or 'drop'"),
    ({"format": "parquet", "partition_columns": "year"}, "partition_columns must be a list of names, got 'year'"),
])
def test_check_read_options_errors(read, message):
    assert error_of(check_read_options, read) == message


def test_check_read_options_accepts_the_sdk_defaults():
    for read in ({"format": "delimited", "separator": ",", "header": True, "infer_column_types": True,
                  "set_column_types": {"a": DataType.to_long().to_json()}, "support_multi_line": False,
                  "empty_as_string": False, "encoding": "utf8", "include_path": False,
                  "partition_columns": ["year"]},
                 {"format": "delimited", "separator": "::", "header": "from_first_file", "encoding": "UTF-8"},
                 {"format": "parquet", "include_path": True, "set_column_types": {}},
                 {"format": "json_lines", "invalid_lines": "drop", "encoding": "latin1"}):
        assert check_read_options(read) is None


@pytest.mark.parametrize("transform, message", [
    ({"op": "shuffle"}, "Unknown transform 'shuffle': expected one of keep_columns, drop_columns, take, "
                        "skip, take_sample, random_split, time_after, time_before, time_between, time_recent"),
    ({"op": "take", "count": -1}, "take: count must be a non-negative integer, got -1"),
    ({"op": "skip", "count": 1.5}, "skip: count must be a non-negative integer, got 1.5"),
    ({"op": "take_sample", "probability": 1.5, "seed": 1},
     "take_sample: probability must be a number between 0.0 and 1.0 (exclusive), got 1.5"),
    ({"op": "take_sample", "probability": 0.5, "seed": "x"}, "take_sample: seed must be an integer, got 'x'"),
    ({"op": "random_split", "percentage": 0, "seed": 1, "side": 0},
     "random_split: percentage must be a number between 0.0 and 1.0 (exclusive), got 0"),
    ({"op": "random_split", "percentage": 1.0, "seed": 1, "side": 0},
     "random_split: percentage must be a number between 0.0 and 1.0 (exclusive), got 1.0"),
    ({"op": "random_split", "percentage": 0.5, "seed": 1, "side": 2}, "random_split: side must be 0 or 1, got 2"),
    ({"op": "keep_columns", "columns": 3},
     "keep_columns: columns must be a column name or a list of column names, got 3"),
    ({"op": "time_after", "start": "2024-01-01"},
     "time_after: the dataset has no timestamp column (call with_timestamp_columns first)"),
    ({"op": "time_after", "column": "t", "start": "yesterday"},
     "time_after: start must be a datetime (ISO 8601 text), got 'yesterday'"),
    ({"op": "time_between", "column": "t", "start": "2024-01-01"},
     "time_between: end must be a datetime (ISO 8601 text), got None"),
    ({"op": "time_recent", "column": "t", "seconds": -5},
     "time_recent: time_delta must be a non-negative timedelta, got -5 seconds"),
    ({"op": "time_before", "column": "t", "end": "2024-01-01", "include_boundary": "no"},
     "time_before: include_boundary must be True or False"),
])
def test_check_transform_errors(transform, message):
    assert error_of(check_transform, transform, None) == message


def test_check_transform_checks_the_timestamp_column_when_columns_are_known():
    assert error_of(check_transform, {"op": "time_after", "column": "t", "start": "2024-01-01"},
                    ["a"]) == "time_after: column(s) 't' not found in the dataset; its columns are: a"
    assert check_transform({"op": "time_after", "column": "t", "start": "2024-01-01"}, ["t"]) is None


# --- pandas and pyarrow only when called --------------------------------------------------------

def test_modules_import_only_the_standard_library():
    code = ("import sys; import runner.step_runtime.tabular_read, runner.step_runtime.tabular_types, "
            "runner.step_runtime.tabular_transforms; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_missing_pandas_names_the_call_and_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    file = put(tmp_path, "a.csv", "a\n1\n")
    assert error_of(read_dataframe, [file], {"format": "delimited"}, []) == (
        "to_pandas_dataframe needs pandas: add pandas to this environment (pip install pandas; "
        "the SDK needs azureml-dataprep[pandas] for the same call)")
    assert error_of(read_dataframe, [file], {"format": "delimited"}, [], call="to_csv_files") == (
        "to_csv_files needs pandas: add pandas to this environment (pip install pandas; "
        "the SDK needs azureml-dataprep[pandas] for the same call)")


def test_missing_pyarrow_for_parquet(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    file = put(tmp_path, "a.parquet", "x")
    assert error_of(read_dataframe, [file], {"format": "parquet"}, []) == (
        "to_pandas_dataframe needs pyarrow: add pyarrow to this environment (pip install pyarrow; "
        "the SDK needs azureml-dataprep[pandas] for the same call)")
    assert error_of(write_parquet_files, pd.DataFrame({"a": [1]}), str(tmp_path / "o")) == (
        "to_parquet_files needs pyarrow: add pyarrow to this environment (pip install pyarrow; "
        "the SDK needs azureml-dataprep[pandas] for the same call)")


def test_empty_as_string_makes_an_all_empty_column_text(tmp_path):
    df = delimited([put(tmp_path, "a.csv", "a,b\n1,\n2,\n")], empty_as_string=True)
    assert df["b"].tolist() == ["", ""] and str(df["b"].dtype) == "str"
    nulls = delimited([put(tmp_path, "a.csv", "a,b\n1,\n2,\n")])
    assert str(nulls["b"].dtype) == "float64" and nulls["b"].isna().all()


def test_tabular_file_json_round_trip():
    file = TabularFile("/tmp/x.csv", "/2024/x.csv", {"day": datetime.datetime(2024, 1, 5, 6), "r": "eu"})
    data = json.loads(json.dumps(file.to_json()))
    assert data == {"local_path": "/tmp/x.csv", "path": "/2024/x.csv",
                    "partition_values": {"day": {"datetime": "2024-01-05T06:00:00"}, "r": "eu"}}
    assert TabularFile.from_json(data) == file


@pytest.mark.parametrize("fmt", ["delimited", "json_lines", "parquet"])
def test_leading_take_and_skip_read_only_the_rows_needed(tmp_path, fmt, monkeypatch):
    files = []
    for i in range(3):
        frame = pd.DataFrame({"n": range(i * 10, i * 10 + 10)})
        path = tmp_path / f"f{i}.{fmt}"
        if fmt == "delimited":
            frame.to_csv(path, index=False)
        elif fmt == "json_lines":
            frame.to_json(path, orient="records", lines=True)
        else:
            frame.to_parquet(path, index=False)
        files.append(TabularFile(str(path), f"/f{i}", {"i": str(i)}))
    opened: list[str] = []
    real_open = open
    real_read_csv = pd.read_csv

    def spy_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    def spy_read_csv(path, *args, **kwargs):
        opened.append(str(path))
        return real_read_csv(path, *args, **kwargs)
    monkeypatch.setattr("builtins.open", spy_open)
    monkeypatch.setattr(pd, "read_csv", spy_read_csv)
    read = {"format": fmt, "include_path": True}
    df = read_dataframe(files, read, [{"op": "skip", "count": 8}, {"op": "take", "count": 4}])
    assert df["n"].tolist() == [8, 9, 10, 11] and df["i"].tolist() == ["0", "0", "1", "1"]
    assert df["Path"].tolist() == ["/f0", "/f0", "/f1", "/f1"] and str(df["n"].dtype) == "int64"
    if fmt != "parquet":
        assert sorted({p for p in opened if p.startswith(str(tmp_path))}) == [
            files[0].local_path, files[1].local_path]  # not the third file
    none = read_dataframe(files, read, [{"op": "take", "count": 0}])
    assert len(none) == 0
    if fmt != "json_lines":  # a JSON-lines file read for no row has no columns
        assert list(none.columns) == ["Path", "n", "i"]
    later = read_dataframe(files, read, [{"op": "take", "count": 25}, {"op": "keep_columns", "columns": ["n"]},
                                         {"op": "take", "count": 30}])
    assert later["n"].tolist() == list(range(25))


def test_dates_across_files_one_empty_one_not_a_date(tmp_path):
    a = put(tmp_path, "a.csv", "d,n\n2024-01-01,1\n2024-01-02,2\n")
    empty = put(tmp_path, "b.csv", "d,n\n,3\n")
    odd = put(tmp_path, "c.csv", "d,n\nlater,4\n")
    df = delimited([a, empty])
    assert str(df["d"].dtype) == "datetime64[ns]"
    assert df["d"].tolist()[:2] == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")]
    assert pd.isna(df.loc[2, "d"]) and df["n"].tolist() == [1, 2, 3]
    mixed = delimited([a, odd])
    assert str(mixed["d"].dtype) == "str" and mixed["d"].tolist() == ["2024-01-01", "2024-01-02", "later"]
    late = delimited([empty, a])
    assert str(late["d"].dtype) == "datetime64[ns]" and pd.isna(late.loc[0, "d"])


def test_set_column_types_columns_are_read_as_text_first(tmp_path):
    file = put(tmp_path, "a.csv", "zip,day,n\n00123,2024-01-02,1.0\n")
    df = delimited([file], set_column_types={"zip": {"type": "string"}, "day": {"type": "string"},
                                             "n": {"type": "long"}})
    assert df.to_dict("list") == {"zip": ["00123"], "day": ["2024-01-02"], "n": [1]}
    assert str(df["zip"].dtype) == "str" and str(df["n"].dtype) == "int64"
    headless = delimited([put(tmp_path, "b.csv", "007,x\n")], header=False,
                         set_column_types={"Column1": DataType.to_string().to_json()})
    assert headless.loc[0, "Column1"] == "007"
