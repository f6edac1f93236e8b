import json
from pathlib import Path

from mini_crm.api.app import create_api
from scripts.postman import collection


def test_collection_covers_every_operation_and_is_up_to_date() -> None:
    spec = create_api().openapi()
    generated = collection(spec)
    operations = sum(len(m) for m in spec["paths"].values())
    assert sum(len(folder["item"]) for folder in generated["item"]) == operations
    committed = json.loads((Path(__file__).parents[2] / "docs" / "postman_collection.json")
                           .read_text())
    assert committed == generated, "run: .venv/bin/python scripts/postman.py"
