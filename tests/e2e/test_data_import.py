"""CSV import in the browser: upload, dialect detected, mapping guessed, validation
report, import with progress, row errors downloadable; and the real server's /api
answers JSON errors and reads external ids with slashes."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, expect
from sqlmodel import select

from mini_crm.models import Customer, ImportJob
from tests.e2e.conftest import e2e_session


def test_upload_validate_and_import(page: Page, app_url: str, e2e_env: dict[str, str],
                                   tmp_path: Path) -> None:
    csv_file = tmp_path / "new_customers.csv"
    # What Excel saves on a European Windows machine: semicolons, Windows-1252, CRLF.
    lines = ["Customer ID;Name;Email;City;Tier"]
    lines += [f"csv-{i};Imported {i} Zoë;imp{i}@example.in;Köln;gold" for i in range(1500)]
    lines += ["csv-bad;Bad Email;nope;Kochi;gold"]
    csv_file.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))

    page.goto(app_url + "/data")
    page.locator("input[type=file]").set_input_files(str(csv_file))
    # Generous timeouts: the shared test machine can be slow; nothing here is timed.
    expect(page.get_by_test_id("file-summary")).to_contain_text(
        "1501 rows · Windows-1252, semicolon-separated", timeout=30_000)
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("import-message")).to_have_text("1,500 of 1,501 rows are valid.",
                                                               timeout=30_000)
    expect(page.get_by_role("cell", name="not a valid email address")).to_be_visible()
    page.get_by_test_id("import").click()
    expect(page.get_by_test_id("import-message")).to_have_text("Imported 1,500 customers.",
                                                               timeout=60_000)
    link = page.get_by_test_id("errors-csv")
    expect(link).to_be_visible()
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"test-results/data-import-{width}.png", full_page=True)
    with e2e_session(e2e_env) as s:
        c = s.exec(select(Customer).where(Customer.external_id == "csv-42")).one()
        assert (c.name, c.city, c.attributes) == ("Imported 42 Zoë", "Köln", {"tier": "gold"})
        job = s.exec(select(ImportJob).order_by(ImportJob.created_at.desc())).first()
        assert (job.source, job.status, job.imported, job.error_count) == \
            ("ui", "completed", 1500, 1)
    # The signed-in browser downloads the row errors with its session cookie.
    got = page.request.get(app_url + link.get_attribute("href"))
    assert got.status == 200 and got.text().splitlines()[1].startswith("1502,email,")


def test_a_short_cyrillic_file_says_it_guessed_and_the_encoding_can_be_chosen(
        page: Page, app_url: str, e2e_env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "moscow.csv"
    csv_file.write_bytes("external_id,name,city\ncyr-1,Иван Петров,Москва\n".encode("cp1251"))
    page.goto(app_url + "/data")
    page.locator("input[type=file]").set_input_files(str(csv_file))
    summary = page.get_by_test_id("file-summary")
    expect(summary).to_contain_text("1 row · Windows-1251, comma-separated", timeout=30_000)
    expect(page.get_by_test_id("encoding-note")).to_contain_text(
        "guessed as Windows-1251 from only 16 non-ASCII characters")
    preview = page.get_by_test_id("csv-preview")
    expect(preview).to_contain_text("cyr-1 · Иван Петров · Москва")
    # Choosing another encoding reads the file again with it, and says nothing is guessed.
    page.get_by_test_id("encoding").click()
    page.get_by_role("option", name="Windows-1252").click()
    expect(summary).to_contain_text("Windows-1252, comma-separated")
    expect(preview).to_contain_text("Èâàí Ïåòðîâ")
    expect(page.get_by_test_id("encoding-note")).to_have_count(0)
    page.get_by_test_id("encoding").click()
    page.get_by_role("option", name="Windows-1251").click()
    expect(preview).to_contain_text("Иван Петров")
    page.get_by_test_id("blank-cells").click()
    page.get_by_role("option", name="Blank cells clear stored values").click()
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"test-results/data-encoding-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_test_id("import").click()
    expect(page.get_by_test_id("import-message")).to_have_text("Imported 1 customer.",
                                                               timeout=60_000)
    with e2e_session(e2e_env) as s:
        c = s.exec(select(Customer).where(Customer.external_id == "cyr-1")).one()
        assert (c.name, c.city) == ("Иван Петров", "Москва")
        job = s.exec(select(ImportJob).order_by(ImportJob.created_at.desc())).first()
        assert (job.encoding, job.mapping["blank_cells"], job.mapping["encoding_chosen"]) \
            == ("cp1251", "clear", True)


def test_real_server_api_errors_are_json_and_slashed_ids_read(app_url: str) -> None:
    with httpx.Client(base_url=app_url, timeout=30) as client:
        missing = client.get("/api/v1/no-such-thing")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        wrong = client.delete("/api/v1/customers")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, HEAD, POST"
        assert wrong.json()["error"]["code"] == "method_not_allowed"
        head = client.head("/api/v1/customers")  # HEAD is GET without the body: 401 here
        assert head.status_code == 401 and head.content == b""
        # Past routing to the route itself (401 without a key), not Reflex's page:
        slashed = client.get("/api/v1/customers/" + quote("gid://shop/Customer/7001", safe=""))
        assert slashed.status_code == 401 and slashed.json()["error"]["code"] == "unauthorized"
        page = client.get("/data", follow_redirects=True)
        assert page.headers["content-type"].startswith("text/html")


def test_real_server_api_edges_are_json(app_url: str) -> None:
    """Through Reflex's own CORS layers (mini_crm.MiniCrmApp wraps them): /api
    preflights, TRACE, and literal paths beside id routes (tests/integration/
    test_api_paths.py has the details)."""
    with httpx.Client(base_url=app_url, timeout=30) as client:
        ok = client.options("/api/v1/customers", headers={
            "Origin": app_url, "Access-Control-Request-Method": "POST"})
        assert ok.status_code == 204 and ok.content == b"", ok.text
        assert ok.headers["access-control-allow-origin"] == app_url
        refused = client.options("/api/v1/customers", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        trace = client.request("TRACE", "/api/v1/customers")
        assert trace.status_code == 405 and trace.json()["error"]["code"] == \
            "method_not_allowed"
        fields = client.put("/api/v1/segments/fields")
        assert fields.status_code == 405 and fields.headers["allow"] == "GET, HEAD"
