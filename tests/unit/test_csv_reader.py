"""CSV dialects and encodings, each fixture written here as its exact bytes."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from mini_crm.core.ingestion import csv_reader
from mini_crm.core.ingestion.csv_reader import CsvFileError, detect, records

ROWS = [["external_id", "name", "city", "amount"],
        ["c1", "Zoë Ñáñez", "Köln", "1,499.00"],
        ["c2", "Renée “Ray” O'Brien", "Pune", "₹2,500"],
        ["c3", "Asha", "Mumbai", "1,49,999"]]
CP1252_ROWS = [[c.replace("₹", "Rs ") for c in r] for r in ROWS]  # no ₹ in Windows-1252


def _text(rows: list[list[str]], delimiter: str, newline: str = "\n") -> str:
    def cell(c: str) -> str:
        return f'"{c}"' if delimiter in c or '"' in c else c
    return "".join(delimiter.join(cell(c) for c in r) + newline for r in rows)


def _write(tmp_path: Path, data: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _read(path: Path) -> tuple[csv_reader.Dialect, list[list[str]]]:
    dialect = detect(path)
    return dialect, [r.cells for r in records(path, dialect)]


@pytest.mark.parametrize(("delimiter", "label"), [(",", "comma"), (";", "semicolon"),
                                                  ("\t", "tab"), ("|", "pipe")])
def test_each_delimiter_maps_as_columns(tmp_path: Path, delimiter: str, label: str) -> None:
    path = _write(tmp_path, _text(ROWS, delimiter).encode())
    dialect, rows = _read(path)
    assert dialect.delimiter == delimiter and dialect.delimiter_label == label
    assert rows == ROWS


@pytest.mark.parametrize(("data", "encoding", "label", "rows"), [
    (_text(ROWS, ",").encode("utf-8"), "utf_8", "UTF-8", ROWS),
    (codecs.BOM_UTF8 + _text(ROWS, ";").encode("utf-8"), "utf_8_sig",
     "UTF-8 with a byte-order mark", ROWS),
    (codecs.BOM_UTF16_LE + _text(ROWS, "\t", "\r\n").encode("utf-16-le"), "utf_16",
     "UTF-16", ROWS),
    (codecs.BOM_UTF16_BE + _text(ROWS, ",", "\r\n").encode("utf-16-be"), "utf_16",
     "UTF-16", ROWS),
    (_text(CP1252_ROWS, ",", "\r\n").encode("cp1252"), "cp1252", "Windows-1252",
     CP1252_ROWS),
    (_text(CP1252_ROWS, ";").encode("cp1252"), "cp1252", "Windows-1252", CP1252_ROWS),
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "cp1252", "cp1252-semicolon"])
def test_each_encoding_reads_exactly(tmp_path: Path, data: bytes, encoding: str, label: str,
                                     rows: list[list[str]]) -> None:
    dialect, got = _read(_write(tmp_path, data))
    assert (dialect.encoding, dialect.encoding_label) == (encoding, label)
    assert got == rows


def test_the_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = _write(tmp_path, codecs.BOM_UTF8 + b"external_id,name\nc1,A\n")
    assert _read(path)[1][0] == ["external_id", "name"]


def test_quoted_delimiters_and_newlines_do_not_split(tmp_path: Path) -> None:
    data = b'id,note,amount\nc1,"a, b; c","1,499.00"\nc2,"two\nlines",5\n'
    dialect, rows = _read(_write(tmp_path, data))
    assert dialect.delimiter == ","
    assert rows[1:] == [["c1", "a, b; c", "1,499.00"], ["c2", "two\nlines", "5"]]
    assert [r.line for r in records(tmp_path / "f.csv", dialect)] == [1, 2, 3]


def test_semicolon_file_with_comma_amounts(tmp_path: Path) -> None:
    data = b"external_id;amount\no1;1,49,999\no2;2,500.50\n"
    dialect, rows = _read(_write(tmp_path, data))
    assert dialect.delimiter == ";" and rows[1] == ["o1", "1,49,999"]


def test_a_bad_byte_spoils_only_its_row_and_names_the_encoding(tmp_path: Path) -> None:
    data = "external_id,name\nc1,Zoë\n".encode() + b"c2,Zo\xeb\nc3,ok\n"
    path = _write(tmp_path, data)
    dialect = detect(path)
    got = list(records(path, dialect))
    assert dialect.encoding == "utf_8"
    assert [r.error is None for r in got] == [True, True, False, True]
    assert got[2].error == ("the file looks like UTF-8, comma-separated; could not read "
                            "line 3: byte 0xEB is not valid UTF-8 (is part of the file saved "
                            "in another encoding?)")
    assert got[3].cells == ["c3", "ok"]


def test_a_bad_utf16_unit_spoils_only_its_row(tmp_path: Path) -> None:
    data = (codecs.BOM_UTF16_LE + "a,b\n1,2\n".encode("utf-16-le") + b"\x00\xd8"
            + "x,5\n6,7\n".encode("utf-16-le"))
    got = list(records(_write(tmp_path, data), detect(tmp_path / "f.csv")))
    assert [r.cells for r in got if not r.error] == [["a", "b"], ["1", "2"], ["6", "7"]]
    assert "UTF-16, comma-separated; could not read line 3" in got[2].error


def test_quoting_errors_are_row_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, b'id,name\nc1,"Big" Store\nc2,ok\n')
    got = list(records(path, detect(path)))
    assert got[1].cells == [] and "line 2" in got[1].error and "two quotes" in got[1].error
    assert got[2].cells == ["c2", "ok"]
    open_quote = _write(tmp_path, b'id,name\nc1,"never closed\nc2,ok\n', "q.csv")
    last = list(records(open_quote, detect(open_quote)))[-1]
    assert "line 2: a quote opened in this row is never closed" in last.error


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b"  \r\n", "the file is empty"),
    (b"PK\x03\x04\x14\x00\x06\x00", "looks like a ZIP archive (an .xlsx or .ods spreadsheet?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook"),
])
def test_files_that_are_not_csv_are_named(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(CsvFileError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("?", r"\?").replace(".", r"\.")):
        detect(_write(tmp_path, data))


def test_detection_reads_only_the_sample(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(csv_reader, "SAMPLE_BYTES", 64)
    data = ("external_id;names\n" + "".join(f"c{i};Zoë\n" for i in range(50))).encode()
    with pytest.raises(UnicodeDecodeError):  # the sample ends inside an 'ë'
        data[:64].decode()
    dialect = detect(_write(tmp_path, data))
    assert (dialect.encoding, dialect.delimiter) == ("utf_8", ";")


def test_one_column_file_is_comma_separated(tmp_path: Path) -> None:
    dialect, rows = _read(_write(tmp_path, b"external_id\nc1\nc2\n"))
    assert dialect.delimiter == "," and rows == [["external_id"], ["c1"], ["c2"]]


@pytest.mark.parametrize("codec", ["utf-16-be", "utf-16-le"])
def test_utf16_without_a_bom_is_told_by_its_nul_bytes(tmp_path: Path, codec: str) -> None:
    path = _write(tmp_path, "external_id,name\nbe-1,Zoë\n".encode(codec))
    dialect = detect(path)
    assert dialect.encoding == codec.replace("-", "_")
    assert [r.cells for r in records(path, dialect)] == [["external_id", "name"],
                                                           ["be-1", "Zoë"]]


def test_nul_bytes_in_no_utf16_pattern_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CsvFileError, match="NUL bytes"):
        detect(_write(tmp_path, "id,name\n1,A\n".encode("utf-32-le")))
