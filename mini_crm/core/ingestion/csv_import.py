"""CSV import: read the header, map columns to fields, validate and import in chunks.

The file is read by `csv_reader` (encoding and delimiter detected, streamed record by
record, never loaded whole); every chunk of CHUNK rows goes through the same item
schemas and upserts as the REST API, so amounts ("1,499.00", "₹2,500", "1,49,999")
are read by `core.numbers` and timestamps without an offset in BRAND_TIMEZONE exactly
as there. A bad row becomes a per-row error; every valid row is imported.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data
row is row 2 (a quoted value spanning several lines is still one row).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from mini_crm.core import brand_time, contacts
from mini_crm.core.consent import Change
from mini_crm.core.ingestion import limits
from mini_crm.core.ingestion.csv_reader import CsvFileError, Dialect, detect, records
from mini_crm.core.ingestion.schemas import CustomerIn, OrderIn, validate_items
from mini_crm.core.ingestion.upsert import (
    OrdersWritten,
    ingest_customers,
    write_orders_in_transaction,
)

CHUNK = 1000
KINDS: dict[str, tuple[type, Callable[..., int]]] = {
    # Consent columns change consent as an import (audited with source "import").
    # Attribute columns merge into the stored attributes (a column is one key).
    "customers": (CustomerIn, partial(ingest_customers, change=Change(source="import"),
                                      merge_attributes=True)),
    "orders": (OrderIn, write_orders_in_transaction)}
TARGETS = {
    "customers": ["external_id", "name", "email", "phone", "city", "created_at",
                  "unsubscribed", "consent_sms", "consent_email", "consent_whatsapp"],
    "orders": ["external_id", "customer_external_id", "amount", "currency", "status",
               "ordered_at"],
}
# What the Data page and mapping errors call each field: the marketer's words.
FIELD_LABELS = {
    "customers": {"external_id": "Customer ID", "name": "Name", "email": "Email",
                  "phone": "Phone", "city": "City", "created_at": "Signed up",
                  "unsubscribed": "Unsubscribed (all channels)", "consent_sms": "SMS opt-in",
                  "consent_email": "Email opt-in", "consent_whatsapp": "WhatsApp opt-in"},
    "orders": {"external_id": "Order ID", "customer_external_id": "Customer ID",
               "amount": "Amount", "currency": "Currency", "status": "Status",
               "ordered_at": "Order date"},
}
REQUIRED = {"customers": ["external_id"],
            "orders": ["external_id", "customer_external_id", "amount", "ordered_at"]}
ATTRIBUTE_KEY = re.compile(r"[^A-Za-z0-9_]+")
# What a blank cell means (docs/imports.md): "keep" the stored value (the default: a
# file without phones does not wipe stored phones) or "clear" it, as the API's null or
# blank text does. Fields that cannot be cleared stay "not given" either way: the
# required ones (a blank is a row error), created_at, and consent (an opt-out is only
# ever undone by an explicit opt-in, never by a blank).
BLANK_CELLS = ("keep", "clear")
CLEARABLE = {"customers": {"name", "email", "phone", "city"}, "orders": {"status"}}
# Timestamps as people type them in a sheet: "29/11/2026" in DATE_ORDER is read here
# (brand_time.parse_people_date) and handed to the schema as ISO text; the JSON API
# itself takes ISO 8601 only.
TIMESTAMP_FIELDS = ("created_at", "ordered_at")


class CellError(ValueError):
    """A cell that cannot be read before validation (a date that is none); `field` is
    its target field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

__all__ = ["CHUNK", "KINDS", "REQUIRED", "TARGETS", "CsvFile", "CsvFileError", "Report",
           "check_mapping", "count_rows", "first_rows", "guess_mapping", "open_csv", "process",
           "process_iter", "read_header"]


@dataclass(frozen=True)
class CsvFile:
    path: Path
    dialect: Dialect
    header: list[str]


def open_csv(path: Path, dialect: Dialect | None = None, encoding: str | None = None
             ) -> CsvFile:
    """Read the header row, detecting the dialect unless given (an import job keeps the
    one its upload was checked with); `encoding` overrides the detected encoding (any
    name csv_reader.resolve_encoding reads). Raises CsvFileError naming the cause."""
    dialect = dialect or detect(path, encoding)
    first = next(records(path, dialect), None)
    if first is None or not any(c.strip() for c in first.cells):
        raise CsvFileError("the file has no header row: its first line should name the "
                           "columns, e.g. external_id,name,email")
    if first.error:
        raise CsvFileError(first.error)
    header = [h.strip() for h in first.cells]
    _check_distinct(header)
    return CsvFile(path, dialect, header)


def _check_distinct(header: list[str]) -> None:
    """Refuse two columns that name the same thing ('name' twice, or 'External ID' beside
    'external_id'): which one is the name would be a guess, and the other would silently
    become a custom attribute. Blank column names (trailing commas) are left alone."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        key = re.sub(r"[^0-9a-z]", "", name.casefold())
        if not key:
            continue
        if key in seen:
            j = seen[key]
            same = (f"the column {name!r} appears twice" if header[j] == name
                    else f"the columns {header[j]!r} and {name!r} name the same thing")
            raise CsvFileError(f"{same} (columns {j + 1} and {i + 1} of the header): rename "
                               "or delete one, then upload the file again")
        seen[key] = i


def read_header(path: Path) -> list[str]:
    return open_csv(path).header


# Header words a shop's export uses for each field, per kind, after `_header_word`
# (lower-case letters only: "Mobile No." → "mobileno", "Order #" → "order"). Earlier
# words win, so an exact field name beats a looser synonym. Per kind, because "Customer
# ID" is the key of a customers file but the customer column of an orders file (a fresh
# tester's "Order No;Customer ID;…" mapped Customer ID to the order id).
HEADER_WORDS: dict[str, dict[str, list[str]]] = {
    "customers": {
        "external_id": ["externalid", "customerid", "id", "customerno", "customernumber",
                        "customercode", "clientid", "memberid", "userid"],
        "name": ["name", "fullname", "customername", "clientname"],
        "email": ["email", "emailaddress", "emailid", "mail"],
        "phone": ["phone", "mobile", "mobileno", "mobilenumber", "phonenumber", "phoneno",
                  "contactno", "contactnumber", "cell", "cellphone"],
        "city": ["city", "town"],
        "created_at": ["createdat", "signupdate", "signedup", "signedupon", "joined",
                       "joinedon", "registered", "registeredon", "registrationdate",
                       "customersince", "createdon"],
        "unsubscribed": ["unsubscribed", "optedout", "unsubscribe"],
        "consent_sms": ["consentsms", "smsoptin", "smsconsent"],
        "consent_email": ["consentemail", "emailoptin", "emailconsent"],
        "consent_whatsapp": ["consentwhatsapp", "whatsappoptin", "whatsappconsent"],
    },
    "orders": {
        "external_id": ["externalid", "orderid", "orderno", "ordernumber", "order", "id",
                        "invoiceno", "invoicenumber", "invoiceid", "billno"],
        "customer_external_id": ["customerexternalid", "customerid", "customer",
                                 "customerno", "customernumber", "customercode", "clientid"],
        "amount": ["amount", "total", "value", "ordervalue", "ordertotal", "totalamount",
                   "grandtotal", "amountinr", "netamount"],
        "currency": ["currency"],
        "status": ["status", "orderstatus"],
        "ordered_at": ["orderedat", "date", "orderdate", "orderedon", "purchasedate",
                       "placedat", "placedon", "invoicedate", "createdat"],
    },
}


def _header_word(column: str) -> str:
    return re.sub(r"[^a-z]", "", column.lower())


def guess_mapping(kind: str, header: list[str]) -> dict[str, str]:
    """Target field -> CSV column, by the header's words (HEADER_WORDS: 'Customer ID',
    'Mobile No.', 'Order #', 'Email Opt-in'); each column serves one field."""
    words = [_header_word(c) for c in header]
    mapping: dict[str, str] = {}
    for target in TARGETS[kind]:
        for wanted in HEADER_WORDS[kind][target]:
            column = next((c for c, w in zip(header, words, strict=True)
                           if w == wanted and c not in mapping.values()), None)
            if column is not None:
                mapping[target] = column
                break
    if kind == "customers" and "external_id" not in mapping:
        # A marketer's list often has no id column: the email (else the phone) is the
        # person's key, as in Mailchimp's audience imports. Shown in the mapping, changeable.
        key = next((mapping[f] for f in ("email", "phone") if f in mapping), None)
        if key is not None:
            mapping["external_id"] = key
    return mapping


def check_mapping(kind: str, mapping: dict[str, str], header: list[str] | None = None
                  ) -> None:
    """ValueError unless `mapping` (target field -> column) names every required field,
    only known fields and (given the header) only columns the file has."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: expected customers or orders")
    unknown = sorted(set(mapping) - set(TARGETS[kind]))
    if unknown:
        raise ValueError(f"unknown field(s) for {kind}: {', '.join(unknown)}; the fields "
                         f"are {', '.join(TARGETS[kind])}")
    if header is not None:
        absent = sorted({c for c in mapping.values() if c and c not in header})
        if absent:
            raise ValueError(f"the file has no column named {', '.join(map(repr, absent))}; "
                             f"its columns are {', '.join(map(repr, header))}")
    missing = [t for t in REQUIRED[kind] if not mapping.get(t)]
    if missing:
        raise ValueError("map a column to: "
                         + ", ".join(f"{FIELD_LABELS[kind][t]} ({t})" for t in missing))


def _blank_on_row(error: dict[str, Any], mapping: dict[str, str], row: int) -> str:
    """A blank required cell reads "Customer ID is empty on row 7", as a person says it
    pointing at the sheet; other messages are kept (the row is beside them)."""
    column = mapping.get(error["field"] or "")
    if column is not None and error["message"] == f"{column} is empty":
        return f"{column} is empty on row {row}"
    return str(error["message"])


def _columns_by_field(mapping: dict[str, str], layout: _Layout, header: list[str]
                      ) -> dict[str, str]:
    """Field path as the item schema names it → the file's column header: mapped fields,
    the flat consent columns under their nested name (`consent_sms` is `consent.sms`) and
    attribute columns (`attributes.loyalty_tier` is "Loyalty Tier")."""
    columns = {f: c for f, c in mapping.items() if c}
    for f, c in list(columns.items()):
        if f.startswith("consent_"):
            columns["consent." + f.removeprefix("consent_")] = c
    for key, i in layout.attributes.items():
        if i < len(header):
            columns[f"attributes.{key}"] = header[i]
    return columns


def _in_column_words(error: dict[str, Any], columns: dict[str, str]
                     ) -> tuple[str | None, str]:
    """(field, message) of one schema error with the file's column headers in place of
    the schema's field names, since the person fixing the file knows only the headers:
    "ordered_at 1 May 2027 is in the future" → "Order Date 1 May 2027 …", "unsubscribed
    is true but consent.sms is true" → "Unsubscribed is true but SMS opt-in is true". A
    message that names no column (a value error such as "'abc' is not a number") is
    prefixed with its column: "Total: 'abc' is not a number …"."""
    field, message = error["field"], str(error["message"])
    for name, column in sorted(columns.items(), key=lambda fc: -len(fc[0])):
        if name == column:
            continue
        if "_" in name or "." in name:  # never an everyday word: replace wherever it stands
            message = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w.])", lambda _m, c=column: c,
                             message)
        elif message.startswith(name + " "):  # "email …", "unsubscribed …": the subject
            message = column + message[len(name):]
    column = columns.get(field or "") or columns.get((field or "").split(".")[0])
    if column and column not in message:
        message = f"{column}: {message}"
    return field, message


def _attribute_key(column: str) -> str:
    key = ATTRIBUTE_KEY.sub("_", column.strip()).strip("_").lower() or "column"
    return key if key[0].isalpha() or key[0] == "_" else f"c_{key}"


@dataclass
class _Layout:
    """Where each mapped field and each extra (attribute) column sits in a record."""

    fields: dict[str, int]
    attributes: dict[str, int]
    width: int
    clear: frozenset[str] = frozenset()  # fields (and "attributes") a blank cell clears

    @classmethod
    def build(cls, kind: str, header: list[str], mapping: dict[str, str],
              extra_as_attributes: bool, ignore: Collection[str] = (),
              blank_cells: str = "keep") -> _Layout:
        first = {}
        for i, name in enumerate(header):
            first.setdefault(name, i)
        fields = {t: first[c] for t, c in mapping.items() if c in first}
        used = set(fields.values())
        attributes = {}
        if kind == "customers" and extra_as_attributes:
            for i, name in enumerate(header):
                if name and i not in used and name not in ignore:
                    attributes.setdefault(_attribute_key(name), i)
        clear = frozenset(CLEARABLE[kind] | {"attributes"}) if blank_cells == "clear" \
            else frozenset()
        return cls(fields, attributes, len(header), clear)

    @property
    def keyed_by(self) -> str | None:
        """"email" or "phone" when the id column is that contact column (a list without
        ids, guess_mapping), else None."""
        key = self.fields.get("external_id")
        return next((f for f in ("email", "phone")
                     if key is not None and self.fields.get(f) == key), None)

    def item(self, cells: list[str]) -> dict[str, Any]:
        def cell(i: int) -> str:
            return cells[i].strip() if i < len(cells) else ""

        # A blank cell is "not given" (the stored value stays, as when an API client
        # leaves a field out), or with blank_cells="clear" an explicit null.
        item: dict[str, Any] = {t: v or None for t, i in self.fields.items()
                                if (v := cell(i)) or t in self.clear}
        attrs = {k: v or None for k, i in self.attributes.items()
                 if (v := cell(i)) or "attributes" in self.clear}
        if attrs:
            item["attributes"] = attrs  # merged into the stored ones; None removes a key
        return _keyed_by_contact(item, self.fields)

    @staticmethod
    def read_dates(item: dict[str, Any]) -> list[CellError]:
        """Read the timestamp cells of `item` in place (a people's date → ISO text, see
        brand_time.parse_people_date) and return the cells that are no date at all. A
        bad cell is taken out of the item, so the schema still checks the row's other
        cells and the row reports all its errors at once, as the JSON API does."""
        bad: list[CellError] = []
        for name in TIMESTAMP_FIELDS:
            if not item.get(name):
                continue
            try:
                item[name] = brand_time.parse_people_date(item[name]) or item[name]
                brand_time.parse_input_timestamp(item[name])
            except brand_time.TimestampError as exc:
                message = str(exc)
                if "is not an ISO 8601 timestamp" in message:
                    # Neither a people's date nor ISO text: say every shape that reads,
                    # not the API's "ISO 8601 only" (a spreadsheet cell is not an API).
                    message = (f"{str(item[name])[:40]!r} is not a date this import reads; "
                               f"write it like {brand_time.people_date_shapes()}")
                bad.append(CellError(name, message))
                del item[name]
        return bad

    def overflow(self, cells: list[str]) -> str | None:
        extra = [c for c in cells[self.width:] if c.strip()]
        if not extra:
            return None
        return (f"this row has {self.width + len(extra)} values but the header names "
                f"{self.width} columns (a delimiter inside a value that is not quoted?)")


def _keyed_by_contact(item: dict[str, Any], fields: dict[str, int]) -> dict[str, Any]:
    """A list keyed by its email (or phone) column (guess_mapping, when the file has no
    id column) is keyed by the normalised address: "New.Person@Example.in" and
    "new.person@example.in" on two rows are one person, as at launch, not two
    customers. An address that does not read stays as written; its own field reports
    it on the row."""
    key = item.get("external_id")
    for contact, normalise in (("email", contacts.normalise_email),
                               ("phone", contacts.normalise_phone)):
        if key and fields.get("external_id") == fields.get(contact, -1):
            with contextlib.suppress(contacts.InvalidContact):
                item["external_id"] = normalise(key) or key
    return item


@dataclass
class Report:
    """Running totals of one pass; `errors` holds the first `max_errors` row errors."""

    rows: int = 0
    valid: int = 0
    imported: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    bytes_read: int = 0


@dataclass(frozen=True)
class _Row:
    number: int
    item: dict[str, Any] | None  # None when the row cannot be read
    error: str | None
    offset: int
    # Cells that cannot be read (a date that is none): the row is refused, and its item
    # (without those cells) is still validated so that every other error is reported too.
    cells: tuple[CellError, ...] = ()


def _rows(csv_file: CsvFile, layout: _Layout, skip: int) -> Iterator[_Row]:
    """Every non-blank data row after the first `skip` ones."""
    number = 1
    for record in records(csv_file.path, csv_file.dialect):
        if number == 1:
            number = 2
            continue  # the header
        if not record.error and not any(c.strip() for c in record.cells):
            continue  # a blank line, common at the end of exported files
        row, number = number, number + 1
        if row - 2 < skip:
            continue
        error = record.error or layout.overflow(record.cells)
        if error:
            yield _Row(row, None, error, record.offset)
            continue
        item = layout.item(record.cells)
        yield _Row(row, item, None, record.offset, tuple(layout.read_dates(item)))


def process_iter(csv_file: CsvFile, kind: str, mapping: dict[str, str], *, write: bool,
                 extra_as_attributes: bool = True, max_errors: int = 50,
                 resume: Report | None = None, ignore: Collection[str] = (),
                 chunk: int | None = None, blank_cells: str = "keep"
                 ) -> Iterator[tuple[Report, list[dict[str, Any]]]]:
    """Validate (and with write=True import) chunk by chunk (`chunk` rows, CHUNK default).

    Yields after every chunk the running report and that chunk's row errors
    (`{"row", "field", "message"}`). Columns in `ignore` are not kept as attributes.
    `blank_cells` ("keep" | "clear", see BLANK_CELLS) says what a blank cell does.
    With `resume`, the first `resume.rows` data rows
    are skipped and counting goes on from that report (an import picked up again after
    its worker stopped; upserts are idempotent, so a chunk written twice is harmless).
    Raises ValueError for a mapping that cannot work and CsvFileError when the rest of
    the file cannot be read.
    """
    check_mapping(kind, mapping, csv_file.header)
    model, ingest = KINDS[kind]
    if blank_cells not in BLANK_CELLS:
        raise ValueError(f"blank_cells must be {' or '.join(BLANK_CELLS)}, not "
                         f"{blank_cells!r}")
    layout = _Layout.build(kind, csv_file.header, mapping, extra_as_attributes, ignore,
                           blank_cells)
    report = resume or Report()
    batch: list[_Row] = []
    columns = _columns_by_field(mapping, layout, csv_file.header)

    # Order id -> the row that holds it, over this pass: an id on two rows is stored
    # once (the later row wins, as in one API batch), and the earlier row says so.
    first_row: dict[str, int] = {}

    def repeated_orders(checked: Any, readable: list[_Row]) -> list[dict[str, Any]]:
        """Errors for earlier rows whose order id a later row repeats, taking the earlier
        valid item out of `checked` (or, when it was in an earlier chunk, out of the
        report's valid and imported counts): that row is not what is stored."""
        errors: list[dict[str, Any]] = []
        drop: set[int] = set()
        position: dict[str, int] = {}
        for k, (i, order) in enumerate(zip(checked.indexes, checked.items, strict=True)):
            ext, row = order.external_id, readable[i].number
            if ext in first_row:
                before = first_row[ext]
                errors.append({"row": before, "field": "external_id", "message": (
                    f"order {ext} appears on rows {before} and {row}; the later row was "
                    "used")})
                if ext in position:
                    drop.add(position[ext])
                else:  # counted in an earlier chunk: it no longer counts
                    report.valid -= 1
                    if write:
                        report.imported -= 1
            first_row[ext], position[ext] = row, k
        if drop:
            kept = [k for k in range(len(checked.items)) if k not in drop]
            checked.items[:] = [checked.items[k] for k in kept]
            checked.indexes[:] = [checked.indexes[k] for k in kept]
        return errors

    def flush() -> list[dict[str, Any]]:
        readable = [r for r in batch if r.item is not None]
        # Errors name the CSV column the user mapped, and a required field left out of
        # the item is a blank cell there ("Customer ID is empty on row 7").
        checked = validate_items([r.item for r in readable], model, labels=mapping,
                                 missing="is empty")
        errors = [{"row": r.number, "field": None, "message": r.error} for r in batch
                  if r.error]
        errors += [{"row": r.number, "field": named, "message": text} for r in readable
                   for cell in r.cells
                   for named, text in [_in_column_words(
                       {"field": cell.field, "message": str(cell)}, columns)]]
        for e in checked.errors:
            r = readable[e["index"]]
            if any(cell.field == e["field"] for cell in r.cells):
                continue  # the unreadable cell, taken out of the item: said once above
            named, text = _in_column_words(
                {"field": e["field"], "message": _blank_on_row(e, mapping, r.number)},
                columns)
            errors.append({"row": r.number, "field": named, "message": text})
        # A row with an unreadable cell is refused even when the rest of it validates.
        keep = [k for k, i in enumerate(checked.indexes) if not readable[i].cells]
        checked.items[:] = [checked.items[k] for k in keep]
        checked.indexes[:] = [checked.indexes[k] for k in keep]
        earlier = repeated_orders(checked, readable) if kind == "orders" else []
        errors += earlier
        errors.sort(key=lambda e: e["row"])
        report.rows += len(batch)
        if batch:
            report.bytes_read = max(report.bytes_read, batch[-1].offset)
        report.valid += len(checked.items)
        report.error_count += len(errors)
        report.errors.extend(errors[:max(0, max_errors - len(report.errors))])
        refused: dict[str, str] = {}
        if write and checked.items:
            # A list keyed by email or phone updates whoever already holds the address.
            done = (ingest(checked.items, keyed_by=layout.keyed_by)
                    if kind == "customers" and layout.keyed_by else ingest(checked.items))
            if isinstance(done, OrdersWritten):
                refused = done.refused
            report.imported += done.written if isinstance(done, OrdersWritten) else done
        elif kind == "orders" and checked.items:
            # A check before importing reports what the write would refuse (read-only).
            refused = limits.check_orders(checked.items)
        if refused:
            row_of = {o.external_id: readable[i].number
                      for i, o in zip(checked.indexes, checked.items, strict=True)}
            for ext in refused:
                first_row.pop(ext, None)  # not stored: a later row of it replaces nothing
            over = [{"row": row_of[ext], "field": "amount", "message": why}
                    for ext, why in refused.items()]
            report.valid -= len(over)
            report.error_count += len(over)
            report.errors.extend(over[:max(0, max_errors - len(report.errors))])
            report.errors.sort(key=lambda e: e["row"])
            errors = sorted(errors + over, key=lambda e: e["row"])
        batch.clear()
        return errors

    for row in _rows(csv_file, layout, skip=report.rows):
        batch.append(row)
        if len(batch) == (chunk or CHUNK):
            yield report, flush()
    if batch or report.rows == 0:
        yield report, flush()


def process(path: Path, kind: str, mapping: dict[str, str], *, write: bool,
            extra_as_attributes: bool = True, max_errors: int = 50,
            progress: Callable[[Report], None] | None = None,
            blank_cells: str = "keep", encoding: str | None = None) -> Report:
    """The whole file in one call (tests, scripts); the import job uses process_iter."""
    report = Report()
    for report, _ in process_iter(open_csv(path, encoding=encoding), kind, mapping,
                                  write=write, extra_as_attributes=extra_as_attributes,
                                  max_errors=max_errors, blank_cells=blank_cells):
        if progress:
            progress(report)
    return report


def first_rows(csv_file: CsvFile, n: int = 3, width: int = 160) -> list[str]:
    """The first `n` non-blank data rows as read (cells joined by " · ", cut to `width`
    characters): what a person checks to see that the encoding reads names right."""
    out: list[str] = []
    for record in islice(records(csv_file.path, csv_file.dialect), 1, None):
        if len(out) == n:
            break
        if record.error:
            out.append(record.error[:width])
        elif any(c.strip() for c in record.cells):
            out.append(" · ".join(c.strip() for c in record.cells)[:width])
    return out


def count_rows(path: Path | CsvFile) -> int:
    """Data rows (not blank lines), counted by streaming the file once."""
    csv_file = path if isinstance(path, CsvFile) else open_csv(path)
    return sum(1 for _ in _rows(csv_file, _Layout({}, {}, len(csv_file.header)), 0))
