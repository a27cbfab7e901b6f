"""Personal data kept out of the logs: ID, bank-account and phone numbers masked by their shape.

Log lines travel further than the case store (consoles, files, log shippers, Prefect's UI), and a
number turns up in them where nobody planned it: a check's message, an exception, a URL. So masking
does not trust field names; any run shaped like a resident ID (居民身份证号, 18 characters, or the
old 15 digits), a bank card or account (银行卡号, 12-19 digits, also printed in groups of four) or a
mainland mobile number (手机号, 11 digits from 13-19, with or without +86) is masked in every record
before any handler sees it: in the message, its arguments, the exception text and the stack.

`install()` puts the masking into the log-record factory, so it holds for every logger and handler
of the process (ours, uvicorn's, Prefect's, pytest's caplog); the `claims` command, `claims serve`,
the intake API and the review app call it when they start. `MaskPersonalData` is the same as a
`logging.Filter`, for a handler configured elsewhere (dictConfig).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MaskPersonalData", "install", "installed", "mask_pii", "mask_record"]

_EDGE_BEFORE = r"(?<![0-9A-Za-z])(?<!\d\.)"
"""Not inside a longer token (a SHA-256, a claim id) nor the fraction of a decimal number."""
_EDGE_AFTER = r"(?![0-9A-Za-z])(?!\.\d)"
"""Not followed by more of a token, nor by a fraction: 123456789012.50 is an amount."""

_GROUPED = re.compile(_EDGE_BEFORE + r"\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?" + _EDGE_AFTER)
"""A card number printed in groups of four: 6222 0212 3456 7890 123."""
_NUMBER = re.compile(_EDGE_BEFORE + r"(?:\d{17}[0-9Xx]|\d{12,19})" + _EDGE_AFTER)
"""An 18-character resident ID (last may be X), an old 15-digit ID, a 12-19 digit card or account."""
_PHONE = re.compile(_EDGE_BEFORE + r"(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})" + _EDGE_AFTER)
"""A mainland mobile number: 13812345678, 138-1234-5678, +86 138 1234 5678."""


def _keep_ends(value: str) -> str:
    """First four and last four digits, as the review app shows numbers to masked roles."""
    compact = re.sub(r"[\s-]", "", value)
    return f"{compact[:4]}{'*' * (len(compact) - 8)}{compact[-4:]}"


def mask_pii(text: str) -> str:
    """`text` with every ID-, account- and phone-shaped number masked; everything else unchanged."""
    if not any(c.isdigit() for c in text):
        return text
    text = _GROUPED.sub(lambda m: _keep_ends(m.group(0)), text)
    text = _NUMBER.sub(lambda m: _keep_ends(m.group(0)), text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def _mask_arg(value: Any) -> Any:
    return mask_pii(value) if isinstance(value, str) else value


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record in place (once): message, arguments, exception and stack text.

    String arguments are masked where they stand, so a formatter that reads `args` itself (uvicorn's
    access log) still finds them; a number hiding in any other argument (an int, an exception, a
    record) is caught in the formatted message, which then replaces the format string and its args.
    """
    if getattr(record, "pii_masked", False):
        return record
    record.pii_masked = True
    if isinstance(record.msg, str):
        record.msg = mask_pii(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_mask_arg(a) for a in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: _mask_arg(v) for k, v in record.args.items()}
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it for the handler to report, as logging does
        message = None
    if message is not None:
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # rendered here, masked, and the live exception dropped: a handler that formats exc_info
        # itself would print the unmasked message again
        record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = mask_pii(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_pii(record.stack_info)
    return record


class MaskPersonalData(logging.Filter):
    """The masking as a filter, for handlers configured outside `install()`."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def installed() -> bool:
    return bool(getattr(logging.getLogRecordFactory(), "masks_personal_data", False))


def install() -> None:
    """Mask every log record this process makes from now on (idempotent)."""
    if installed():
        return
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    factory.masks_personal_data = True  # type: ignore[attr-defined]
    factory.previous = previous  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
