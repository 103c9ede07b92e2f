"""CSV reading of ``decisionmodel voi`` (:func:`decisionmodel.voi.io.read_table`): the
layouts pandas reads are accepted, and the limits are enforced quickly."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from decisionmodel.exceptions import VOIInputError
from decisionmodel.voi import io as voiio
from decisionmodel.voi.io import read_table


def _write(tmp_path, text: str | bytes, name: str = "t.csv"):
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "sep"),
    [
        ('"cost, USD";"QALY, gained"\n1.5;2\n3;4\n', ";"),
        ('"cost, USD"\t"QALY, gained"\n1.5\t2\n3\t4\n', "\t"),
        ('"cost, USD","QALY, gained"\n1.5,2\n3,4\n', ","),
    ],
    ids=["semicolon", "tab", "comma"],
)
def test_quoted_comma_headers_are_read_as_pandas_reads_them(tmp_path, text, sep):
    p = _write(tmp_path, text)
    got = read_table(p)
    expected = pd.read_csv(p, sep=sep)
    assert got.columns.tolist() == ["cost, USD", "QALY, gained"]
    assert got.to_numpy().tolist() == expected.to_numpy(dtype=float).tolist()


def test_bom_r_row_names_and_spaces(tmp_path):
    p = _write(tmp_path, '\ufeff"","SoC", "Novel"\n"1",1.5, 2\n"2",3,4.25\n')
    assert read_table(p).to_dict("list") == {"SoC": [1.5, 3.0], "Novel": [2.0, 4.25]}


def test_write_table_row_names_without_a_header_cell(tmp_path):
    """R's write.table: the header has one name fewer than the rows (row names)."""
    p = _write(tmp_path, "SoC Novel\n".replace(" ", ",") + "r1,1,2\nr2,3,4\n")
    assert read_table(p).to_dict("list") == {"SoC": [1.0, 3.0], "Novel": [2.0, 4.0]}


def test_large_but_finite_values_are_kept(tmp_path):
    p = _write(tmp_path, "a,b\n1e99,-1e99\n2,3\n")
    assert read_table(p)["a"].tolist() == [1e99, 2.0]


def test_values_beyond_the_limit_are_refused(tmp_path):
    p = _write(tmp_path, "a,b\n1,2\n3,1e101\n")
    with pytest.raises(VOIInputError, match=r"column 'b', data row 2: 1e\+101 is beyond"):
        read_table(p, "--outputs")


def test_file_size_limit(tmp_path, monkeypatch):
    p = _write(tmp_path, "a,b\n" + "1,2\n" * 100)
    monkeypatch.setattr(voiio, "MAX_CSV_BYTES", 100)
    with pytest.raises(VOIInputError, match="larger than the limit"):
        read_table(p)


def test_many_columns_are_refused_quickly(tmp_path):
    header = ",".join(f"c{i}" for i in range(100_000))
    p = _write(tmp_path, header + "\n" + ",".join(["1"] * 100_000) + "\n")
    t0 = time.perf_counter()
    with pytest.raises(VOIInputError, match="100,000 columns; at most 10,000"):
        read_table(p)
    assert time.perf_counter() - t0 < 2


def test_ten_thousand_columns_are_read(tmp_path):
    n = voiio.MAX_CSV_COLUMNS
    header = ",".join(f"c{i}" for i in range(n))
    rows = "\n".join(",".join(str(j + i) for i in range(n)) for j in range(3))
    df = read_table(_write(tmp_path, header + "\n" + rows + "\n"))
    assert df.shape == (3, n)
    assert np.array_equal(df.iloc[:, -1].to_numpy(), [n - 1, n, n + 1])


def test_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(voiio, "MAX_CSV_ROWS", 5)
    p = _write(tmp_path, "a,b\n" + "1,2\n" * 6)
    with pytest.raises(VOIInputError, match="more than 5 data rows"):
        read_table(p)
    assert len(read_table(_write(tmp_path, "a,b\n" + "1,2\n" * 5, "ok.csv"))) == 5
