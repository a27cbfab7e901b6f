"""An intake refusal carries its HTTP status, a code and a sentence, and names the file or field."""

from __future__ import annotations

from intake.errors import IntakeError
from pipeline.errors import ClaimsError


def test_a_refusal_is_a_claims_error_with_a_422_by_default() -> None:
    err = IntakeError("invalid_metadata", "incident_date is missing")
    assert isinstance(err, ClaimsError) and str(err) == "incident_date is missing"
    assert err.status == 422
    assert err.body() == {"error": "invalid_metadata", "message": "incident_date is missing"}


def test_the_body_names_the_file_or_field_only_when_known() -> None:
    on_file = IntakeError("file_too_large", "scan.jpg: file too large", 413, file="scan.jpg")
    assert on_file.status == 413
    assert on_file.body() == {
        "error": "file_too_large",
        "message": "scan.jpg: file too large",
        "file": "scan.jpg",
    }
    on_field = IntakeError("idempotency_key_missing", "send one", 400, field="Idempotency-Key")
    assert on_field.body()["field"] == "Idempotency-Key" and "file" not in on_field.body()
