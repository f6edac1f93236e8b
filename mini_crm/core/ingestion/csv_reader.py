"""Reading CSV files as people save them: any common encoding, any common delimiter.

`detect(path)` looks at the start of the file only (SAMPLE_BYTES) and returns its
`Dialect`: the encoding (a byte-order mark first; then strict UTF-8; else the reading
charset-normalizer finds least garbled, preferring Windows-1252 among equally clean
single-byte readings because that is what Excel on Windows saves as "CSV") and the
delimiter (comma, semicolon, tab or pipe: the one that splits the sample's lines into
the same number of columns, more than one).

`records(path, dialect)` then streams the file through a decoding text wrapper and
`csv.reader`, yielding one record at a time with its line number, so memory stays
constant whatever the file's size. Every failure is a `CsvFileError` whose message
names what the file looks like and the line ("the file looks like UTF-8,
semicolon-separated; could not read line 7: ..."), never a raw codec error. An
undecodable byte spoils only its own record: the record's `unreadable` says so and the
import reports that row and goes on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 256 * 1024
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Names people know, by Python codec name.
ENCODING_LABELS = {
    "utf_8": "UTF-8", "utf_8_sig": "UTF-8 with a byte-order mark", "utf_16": "UTF-16",
    "utf_16_le": "UTF-16 LE", "utf_16_be": "UTF-16 BE", "utf_32": "UTF-32",
    "cp1252": "Windows-1252", "latin_1": "ISO-8859-1", "iso8859_1": "ISO-8859-1",
    "cp1250": "Windows-1250",
    "cp1251": "Windows-1251", "ascii": "ASCII",
}
_BOMS = ((codecs.BOM_UTF32_LE, "utf_32"), (codecs.BOM_UTF32_BE, "utf_32"),
         (codecs.BOM_UTF8, "utf_8_sig"), (codecs.BOM_UTF16_LE, "utf_16"),
         (codecs.BOM_UTF16_BE, "utf_16"))
# Undecodable bytes become lone surrogates U+DC00+byte (like surrogateescape, but for
# every byte value and every codec): strict decoding never yields those, so a record that
# holds one is known to be unreadable, and the rest of the file still reads.
_MARK = "mini_crm_csv_mark"
_ESCAPED = re.compile("[\udc00-\udcff]")


def _mark_bad_bytes(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start:exc.end]), exc.end


codecs.register_error(_MARK, _mark_bad_bytes)
# Unicode blocks of Latin-script text (as charset-normalizer names them).
_LATIN_BLOCKS = {"Basic Latin", "Latin-1 Supplement", "Latin Extended-A", "Latin Extended-B",
                 "Latin Extended Additional", "General Punctuation", "Currency Symbols",
                 "Control character", "Letterlike Symbols", "Spacing Modifier Letters"}
# Spreadsheet files saved without "Save as CSV": name them instead of guessing a charset.
_NOT_CSV = ((b"PK\x03\x04", "a ZIP archive (an .xlsx or .ods spreadsheet?)"),
            (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
            (b"%PDF", "a PDF document"))


class CsvFileError(ValueError):
    """The file cannot be read as CSV; `str()` is the message for the user."""


# The encodings the import page offers besides auto-detection (the API takes any text
# codec name Python knows, e.g. "windows-1251", "koi8_r", "shift_jis").
ENCODING_CHOICES = ("utf_8", "utf_8_sig", "utf_16", "cp1252", "latin_1", "cp1250", "cp1251")
# Below this many non-ASCII characters a single-byte guess rests on too little text to
# trust: the guess is used, and said to be a guess (Dialect.note).
SURE_NON_ASCII = 20
_WORD = re.compile(r"[^\W\d_]+")


def resolve_encoding(name: str) -> str:
    """A person's encoding name ("Windows-1251", "cp1251", "UTF-8", "latin1") -> the
    Python codec name ("cp1251", "utf_8", "latin_1"). Raises CsvFileError for a name
    that is not a text encoding."""
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise CsvFileError(f"{name!r} is not an encoding this import can read: choose one of "
                           f"{', '.join(ENCODING_LABELS[c] for c in ENCODING_CHOICES)} "
                           "(or any name Python knows, e.g. koi8-r), or leave it to "
                           "auto-detect")
    return info.name.replace("-", "_")


@dataclass(frozen=True)
class Dialect:
    encoding: str  # a Python codec name
    delimiter: str
    # Set when the encoding is a guess on too little evidence: what to check, in words.
    note: str | None = field(default=None, compare=False)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding.replace("_", "-").upper())

    @property
    def delimiter_label(self) -> str:
        return DELIMITERS.get(self.delimiter, repr(self.delimiter))

    def describe(self) -> str:
        """'UTF-8, semicolon-separated'."""
        return f"{self.encoding_label}, {self.delimiter_label}-separated"


@dataclass(frozen=True)
class Record:
    line: int  # the file line the record starts on (1 = the first line)
    cells: list[str]
    error: str | None = None  # why this record cannot be used, in the user's words
    offset: int = 0  # bytes of the file read so far (read-ahead included): for progress


def detect(path: Path, encoding: str | None = None) -> Dialect:
    """The file's encoding and delimiter, from its first SAMPLE_BYTES.

    `encoding` (a name resolve_encoding reads) overrides the detection; the delimiter
    is still sniffed, from the sample read in that encoding. A detected encoding that
    rests on little evidence comes with `note` saying so and what to do.
    Raises CsvFileError for an empty file, a file that is not text (naming what it looks
    like when it can), an unknown encoding name, or text no encoding reads cleanly.
    """
    with path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
        complete = not f.read(1)
    if not sample.strip():
        raise CsvFileError("the file is empty")
    for magic, what in _NOT_CSV:
        if sample.startswith(magic):
            raise CsvFileError(f"the file looks like {what}, not CSV text: save it as CSV "
                               "(comma- or semicolon-separated) and upload that")
    if encoding is not None:
        chosen, note = resolve_encoding(encoding), None
    else:
        chosen, note = _encoding(sample, complete)
    text = _decode_sample(sample, chosen, complete, errors=_MARK)
    return Dialect(chosen, sniff_delimiter(text), note)


def _encoding(sample: bytes, complete: bool) -> tuple[str, str | None]:
    """(codec name, note): the note is set when the choice is a guess on little text."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name, None
    if b"\x00" in sample:
        return _wide_without_bom(sample), None
    as_utf8 = _decode_sample(sample, "utf_8", complete, errors=_MARK)
    if not _ESCAPED.search(as_utf8):
        return "utf_8", None
    # Genuine multi-byte UTF-8 beside a few bad bytes: a UTF-8 file with some rows pasted
    # from elsewhere. Read it as UTF-8 and report those rows rather than garble the rest.
    if any(ord(c) > 127 and not _ESCAPED.match(c) for c in as_utf8):
        return "utf_8", None
    chosen = _single_byte(sample, complete)
    evidence = sum(b > 127 for b in sample)
    if evidence >= SURE_NON_ASCII:
        return chosen, None
    label = ENCODING_LABELS.get(chosen, chosen)
    return chosen, (f"the encoding was guessed as {label} from only {evidence} non-ASCII "
                    f"character{'s' if evidence != 1 else ''}: if names or cities look "
                    "wrong in the preview, choose the file's encoding instead of "
                    "auto-detect (Excel on Windows saves Windows-1252 in Western Europe "
                    "and the Americas, Windows-1251 for Cyrillic)")


def _wide_without_bom(sample: bytes) -> str:
    """UTF-16 without a byte-order mark, told by where its NUL bytes fall.

    NUL bytes are valid UTF-8, so such a file would otherwise be "read" as UTF-8 with a
    NUL beside every character (ids like '\\x00b\\x00e'). ASCII text in UTF-16 has a NUL
    in every high byte: the even positions in big-endian, the odd ones in little-endian.
    Raises CsvFileError for NUL bytes in any other pattern (not CSV text).
    """
    n = len(sample) - len(sample) % 2
    half = max(n // 2, 1)
    even, odd = sample[0:n:2].count(0), sample[1:n:2].count(0)
    if even >= 0.3 * half and odd <= 0.02 * half:
        return "utf_16_be"
    if odd >= 0.3 * half and even <= 0.02 * half:
        return "utf_16_le"
    raise CsvFileError("the file contains NUL bytes, so it is not CSV text (is it UTF-32, "
                       "or a spreadsheet?): save it as CSV UTF-8 and upload that")


def _single_byte(sample: bytes, complete: bool) -> str:
    """The code page of a file that is neither UTF-8 nor marked by a byte-order mark."""
    # UTF-16/32 without a byte-order mark would put NUL bytes beside every ASCII
    # character (a CSV header is ASCII): without NULs, charset-normalizer's UTF-16
    # reading of a few bytes ("1,Ж" in Windows-1251) is noise.
    wide = b"\x00" in sample
    matches = [m for m in from_bytes(sample)
               if wide or not m.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        raise CsvFileError("the file does not look like text in any encoding (is it a "
                           "spreadsheet or an archive? save it as CSV)")
    best = matches[0]
    if not _decodes(sample, "cp1252", complete):
        return best.encoding
    # charset-normalizer cannot tell the code pages apart on short text: it reads "Zoë
    # “Ñáñez”" as Baltic cp1257 and a one-line Windows-1251 file ("Иван Петров,Москва")
    # as Czech cp1250. Latin text read as Windows-1252 has accents inside ASCII words;
    # another script read as Windows-1252 is words made only of accented letters
    # ("Èâàí Ïåòðîâ"). So: Windows-1252 (what Excel on Windows saves as CSV) unless its
    # reading looks like that, then the best reading in another script.
    if not _looks_like_another_script(_decode_sample(sample, "cp1252", complete)):
        return "cp1252"
    other = next((m for m in matches if not set(m.alphabets) <= _LATIN_BLOCKS), None)
    return (other or best).encoding


def _looks_like_another_script(text: str) -> bool:
    """Most words with accented letters consist of nothing else (see _single_byte)."""
    accented = [w for w in _WORD.findall(text) if any(ord(c) > 127 for c in w)]
    whole = [w for w in accented if len(w) >= 2 and all(ord(c) > 127 for c in w)]
    return bool(accented) and len(whole) * 2 > len(accented)


def _decodes(sample: bytes, encoding: str, complete: bool) -> bool:
    try:
        _decode_sample(sample, encoding, complete)
    except UnicodeDecodeError:
        return False
    return True


def _decode_sample(sample: bytes, encoding: str, complete: bool, errors: str = "strict"
                   ) -> str:
    # A sample cut mid-file may end inside a multi-byte character: decode it incrementally.
    return codecs.getincrementaldecoder(encoding)(errors).decode(sample, final=complete)


def sniff_delimiter(text: str, max_lines: int = 50) -> str:
    """The delimiter (comma, semicolon, tab, pipe) that splits `text` most consistently.

    Each candidate parses the sample's first lines as CSV (quotes respected, so a quoted
    "1,499.00" does not count); it qualifies when the header has more than one column,
    and wins by the share of lines with the header's column count, then by more columns.
    A one-column file reads as comma-separated.
    """
    lines = text.splitlines(keepends=True)
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may stop mid-line
    lines = lines[:max_lines]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def records(path: Path, dialect: Dialect) -> Iterator[Record]:
    """Every record of the file, header included, streamed; see the module docstring.

    A record with undecodable bytes or broken quoting comes with `error` set and reading
    goes on at the next line. A quote still open at the end of the file ends the reading
    with such a record. Raises CsvFileError only when the rest of the file cannot be
    read: a field longer than csv.field_size_limit() (a quote left open in a big file).
    """
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=dialect.encoding, errors=_MARK, newline="")
        # strict: a stray quote ('"Big" Store') is an error for its row, not a silent guess
        reader = csv.reader(text, delimiter=dialect.delimiter, strict=True)
        line = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                message = str(exc)
                if "field limit" in message:
                    raise CsvFileError(_cannot_read(dialect, line, f"{message} (is a quote "
                                                    "left open?)")) from None
                if "unexpected end of data" in message:
                    yield Record(line, [], _cannot_read(
                        dialect, line, "a quote opened in this row is never closed, so the "
                        "rest of the file was read into it"), raw.tell())
                    return
                yield Record(line, [], _cannot_read(
                    dialect, line, f"{message} (a quote inside a field is written as two "
                    "quotes, and the field itself quoted)"), raw.tell())
            else:
                yield Record(line, cells, _unreadable(dialect, line, cells), raw.tell())
            line = reader.line_num + 1


def _unreadable(dialect: Dialect, line: int, cells: list[str]) -> str | None:
    bad = next((m.group() for c in cells if (m := _ESCAPED.search(c))), None)
    if bad is None:
        return None
    return _cannot_read(dialect, line, f"byte 0x{ord(bad) - 0xDC00:02X} is not valid "
                        f"{dialect.encoding_label} (is part of the file saved in another "
                        "encoding?)")


def _cannot_read(dialect: Dialect, line: int, reason: str) -> str:
    return f"the file looks like {dialect.describe()}; could not read line {line}: {reason}"
