"""Signatures on vendor traffic (mini_crm.core.delivery.signing)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mini_crm.core.delivery.signing import SignatureError, sign, signed_headers, verify

SECRET = "s3cret-for-tests"
BODY = b'{"receipts": []}'
NOW = 1_760_000_000


def test_sign_matches_the_contract_formula() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == "sha256=" + expected
    headers = signed_headers(SECRET, BODY, now=NOW)
    assert headers == {"X-Mini-CRM-Timestamp": str(NOW),
                       "X-Mini-CRM-Signature": "sha256=" + expected}


def test_a_fresh_valid_signature_passes() -> None:
    verify(SECRET, str(NOW), sign(SECRET, NOW, BODY), BODY, now=NOW + 299)
    verify(SECRET, str(NOW), sign(SECRET, NOW, BODY), BODY, now=NOW - 299)


@pytest.mark.parametrize("timestamp, signature, body, secret, reason", [
    (str(NOW), sign(SECRET, NOW, BODY), BODY + b" ", SECRET, "does not match"),
    (str(NOW), sign(SECRET, NOW, BODY), BODY, "other-secret", "does not match"),
    (str(NOW + 1), sign(SECRET, NOW, BODY), BODY, SECRET, "does not match"),
    (str(NOW), sign(SECRET, NOW, BODY).upper(), BODY, SECRET, "must start with"),
    (str(NOW), "sha256=" + "0" * 64, BODY, SECRET, "does not match"),
    (None, sign(SECRET, NOW, BODY), BODY, SECRET, "missing X-Mini-CRM-Timestamp"),
    (str(NOW), None, BODY, SECRET, "missing X-Mini-CRM-Signature"),
    ("yesterday", sign(SECRET, NOW, BODY), BODY, SECRET, "unix seconds"),
])
def test_bad_signatures_are_refused_with_a_reason(timestamp, signature, body, secret,
                                                  reason) -> None:
    with pytest.raises(SignatureError, match=reason) as info:
        verify(secret, timestamp, signature, body, now=NOW)
    assert info.value.code == "bad_signature"


@pytest.mark.parametrize("now, words", [(NOW + 301, "s old"), (NOW - 301, "in the future")])
def test_a_timestamp_outside_the_window_is_stale_in_both_directions(now, words) -> None:
    with pytest.raises(SignatureError, match=words) as info:
        verify(SECRET, str(NOW), sign(SECRET, NOW, BODY), BODY, now=now, window_seconds=300)
    assert info.value.code == "stale_timestamp"


def test_a_replay_outside_the_window_is_refused_even_with_a_valid_mac() -> None:
    # The MAC is genuine (captured traffic), only the time gives the replay away.
    captured = signed_headers(SECRET, BODY, now=NOW)
    verify(SECRET, captured["X-Mini-CRM-Timestamp"], captured["X-Mini-CRM-Signature"], BODY,
           now=NOW + 10)
    with pytest.raises(SignatureError) as info:
        verify(SECRET, captured["X-Mini-CRM-Timestamp"], captured["X-Mini-CRM-Signature"],
               BODY, now=NOW + 3600)
    assert info.value.code == "stale_timestamp"


def test_no_secret_is_never_a_pass() -> None:
    with pytest.raises(SignatureError):
        verify("", str(NOW), sign(SECRET, NOW, BODY), BODY, now=NOW)
    with pytest.raises(ValueError):
        sign("", NOW, BODY)
