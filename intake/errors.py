"""The intake API's refusals: an HTTP status, a code and a sentence naming the file or field.

`intake.app` answers each as a `Problem` body (`{"error", "message", "file"?, "field"?}`).
"""

from __future__ import annotations

from typing import Any

from pipeline.errors import ClaimsError

__all__ = ["IntakeError"]


class IntakeError(ClaimsError):
    """A request the API refuses: the HTTP status, a code, and a sentence naming file or field."""

    def __init__(
        self,
        error: str,
        message: str,
        status: int = 422,
        *,
        file: str | None = None,
        field: str | None = None,
    ) -> None:
        self.error, self.message, self.status, self.file, self.field = error, message, status, file, field
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.file is not None:
            out["file"] = self.file
        if self.field is not None:
            out["field"] = self.field
        return out
