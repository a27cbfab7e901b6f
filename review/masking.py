"""Masking of ID and bank numbers for roles that do not need them in clear.

Numbers hide in more places than their own fields: a check's message quotes them, an OCR line holds
them, the page image shows them. So masking is by shape as well as by field name: any run that looks
like a resident ID (18 characters, 身份证号) or a card/account number (12-19 digits) is masked
wherever text is shown, and the boxes of such lines and fields are blacked out on page images.
"""

from __future__ import annotations

import re

SENSITIVE_FIELDS = frozenset(
    {
        "id_number",
        "claimant_id_number",
        "insured_id_number",
        "insured_id_number_form",
        "account_number",
        "card_number",
        "payee_account",
        "social_security_number",
    }
)
"""Field names whose value is an ID or bank number (claim form, ID card, bank card, invoice, facts)."""

_ID_OR_ACCOUNT = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{5,9})(\d{3}[0-9Xx]|\d{4})(?![0-9A-Za-z])")
"""An 18-character resident ID (last may be X), a 15-digit old ID, or a 15-19 digit card number."""
_SPACED_CARD = re.compile(r"(?<!\d)(\d{4})((?:[ -]\d{4}){2,3})([ -]\d{1,4})(?!\d)")
"""A card number printed in groups of four (6222 0212 3456 7890 123)."""


def is_sensitive_field(name: str) -> bool:
    return name in SENSITIVE_FIELDS or name.endswith(("id_number", "account_number", "card_number"))


def mask_number(value: str) -> str:
    """Keep what identifies a number to a person without giving it away: first 4 and last 4."""
    compact = re.sub(r"[\s-]", "", value)
    if len(compact) < 8:
        return "*" * len(compact)
    return f"{compact[:4]}{'*' * (len(compact) - 8)}{compact[-4:]}"


def mask_text(text: str) -> str:
    """Every ID- or account-shaped run in free text masked; everything else unchanged."""
    text = _SPACED_CARD.sub(lambda m: mask_number(m.group(0)), text)
    return _ID_OR_ACCOUNT.sub(lambda m: mask_number(m.group(0)), text)


def has_identifier(text: str) -> bool:
    return mask_text(text) != text
