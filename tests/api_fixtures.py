"""An HTTP client on the real FastAPI app over the test database, with API keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from mini_crm.api.app import create_api
from mini_crm.core import apikeys


@pytest.fixture
def api(app_settings: sa.Engine) -> TestClient:
    return TestClient(create_api())


@pytest.fixture
def make_key(app_settings: sa.Engine) -> Callable[..., dict[str, str]]:
    """make_key("read", "ingest") -> headers carrying a fresh key with those scopes."""

    def make(*scopes: str) -> dict[str, str]:
        with Session(app_settings) as s:
            key = apikeys.create_key(s, "test", list(scopes))
            s.commit()
        return {"Authorization": f"Bearer {key.secret}"}

    return make
