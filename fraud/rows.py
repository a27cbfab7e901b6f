"""A claim as a row of the claims-history table the fraud model learns from and scores.

The history's columns (`synth.history.COLUMNS`) are what an insurer's claims warehouse holds; this
maps one consolidated claim (`ClaimFacts`) onto them, so live claims are scored with the same
features as the history the model was trained on.
"""

from __future__ import annotations

import pandas as pd

from fraud.features import REQUIRED_COLUMNS
from pipeline.records import ClaimFacts

ROW_COLUMNS = ("claim_id", *REQUIRED_COLUMNS)


def history_row(
    facts: ClaimFacts, *, phone: str | None = None, agent_id: str | None = None
) -> dict[str, object]:
    claim, policy = facts.claim, facts.policy
    first_invoice = facts.invoices[0] if facts.invoices else None
    invoice_no = (
        f"{first_invoice.invoice_code or ''}-{first_invoice.invoice_number or ''}"
        if first_invoice and (first_invoice.invoice_code or first_invoice.invoice_number)
        else None
    )
    submitted = pd.Timestamp(claim.submitted_at)
    if submitted.tzinfo is not None:  # the history keeps Beijing wall-clock time
        submitted = submitted.tz_convert("Asia/Shanghai").tz_localize(None)
    return {
        "claim_id": claim.claim_id,
        "claim_time": submitted,
        "claimant_id": claim.claimant_id_number or claim.claimant,
        "policy_id": claim.policy_number,
        "policy_start": pd.Timestamp(policy.effective_date) if policy else pd.NaT,
        "reinstated_at": pd.Timestamp(policy.reinstated_at) if policy and policy.reinstated_at else pd.NaT,
        "agent_id": agent_id,
        "provider_id": facts.hospital or (first_invoice.hospital if first_invoice else None),
        "bank_account": facts.payee_account,
        "phone": phone,
        "claim_type": facts.claim_type.value,
        "diagnosis": facts.diagnoses[0] if facts.diagnoses else None,
        "amount_claimed": float(facts.total_claimed or (claim.amount_claimed or 0)),
        "invoice_no": invoice_no,
        "n_documents": len(facts.documents_present),
        "failed_checks": len(facts.failed_checks),
        "words_figures_mismatch": any(c.name == "words_vs_figures" for c in facts.failed_checks),
        "qr_mismatch": any(c.name == "qr_mismatch" for c in facts.failed_checks),
    }


def history_frame(facts: list[ClaimFacts]) -> pd.DataFrame:
    """Rows for many claims, typed as the history table is."""
    frame = pd.DataFrame([history_row(f) for f in facts], columns=list(ROW_COLUMNS))
    for col in ("claim_time", "policy_start", "reinstated_at"):
        frame[col] = pd.to_datetime(frame[col])
    return frame
