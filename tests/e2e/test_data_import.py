"""CSV import in the browser: upload, mapping guessed, validation report, import."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlmodel import select

from mini_crm.models import Customer
from tests.e2e.conftest import e2e_session


def test_upload_validate_and_import(page: Page, app_url: str, e2e_env: dict[str, str],
                                   tmp_path: Path) -> None:
    csv_file = tmp_path / "new_customers.csv"
    lines = ["Customer ID,Name,Email,City,Tier"]
    lines += [f"csv-{i},Imported {i},imp{i}@example.in,Kochi,gold" for i in range(1500)]
    lines += ["csv-bad,Bad Email,nope,Kochi,gold"]
    csv_file.write_text("\n".join(lines) + "\n")

    page.goto(app_url + "/data")
    page.locator("input[type=file]").set_input_files(str(csv_file))
    expect(page.get_by_text("1501 rows")).to_be_visible()
    page.get_by_test_id("validate").click()
    expect(page.get_by_test_id("import-message")).to_have_text("1,500 of 1,501 rows are valid.")
    expect(page.get_by_role("cell", name="not a valid email address")).to_be_visible()
    page.get_by_test_id("import").click()
    expect(page.get_by_test_id("import-message")).to_have_text("Imported 1,500 customers.")
    page.screenshot(path="test-results/data-import.png", full_page=True)
    with e2e_session(e2e_env) as s:
        c = s.exec(select(Customer).where(Customer.external_id == "csv-42")).one()
        assert (c.name, c.city, c.attributes) == ("Imported 42", "Kochi", {"tier": "gold"})
