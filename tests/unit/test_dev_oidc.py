"""The development identity provider's pages fetch nothing from the internet."""

from __future__ import annotations

import re

import httpx

from mini_crm import dev_oidc


def test_provider_pages_reference_no_external_resources() -> None:
    with dev_oidc.serve(0) as server:
        base = f"http://localhost:{server.server_port}"
        config = httpx.get(base + "/.well-known/openid-configuration").json()
        page = httpx.get(config["authorization_endpoint"], params={
            "client_id": "mini-crm-dev", "redirect_uri": "http://localhost/cb",
            "response_type": "code", "scope": "openid email", "nonce": "n", "state": "s"})
    assert page.status_code == 200 and "<form" in page.text
    assert not re.search(r"(href|src)=\"https?://", page.text), page.text[:500]
    assert "<style>" in page.text


def test_sign_in_field_is_labelled_email_not_sub() -> None:
    with dev_oidc.serve(0) as server:
        base = f"http://localhost:{server.server_port}"
        config = httpx.get(base + "/.well-known/openid-configuration").json()
        page = httpx.get(config["authorization_endpoint"], params={
            "client_id": "mini-crm-dev", "redirect_uri": "http://localhost/cb",
            "response_type": "code", "scope": "openid email", "nonce": "n", "state": "s"})
    assert '<label for="sub">Email</label>' in page.text
    assert 'placeholder="sub"' not in page.text
    assert 'type="email" name="sub"' in page.text  # the form still posts the field the mock reads
