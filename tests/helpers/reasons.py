"""What a decision's reasons must say about where they came from (`pipeline.reasons`), for any claim."""

from __future__ import annotations

from adjudication.decide import DecisionBundle
from pipeline.reasons import FRAUD_SUSPECTED, SourceKind, describe_source

KIND_OF_CODE = {
    "FRAUD_SCORE_HIGH": SourceKind.MODEL,
    "FRAUD_SCORE_MEDIUM": SourceKind.MODEL,
    "GATE_NOT_CONFIDENT": SourceKind.MODEL,
    "GATE_UNAVAILABLE": SourceKind.MODEL,
    "ABOVE_AUTO_PAY_LIMIT": SourceKind.AUTHORITY,
    "INTAKE_PROBLEMS": SourceKind.CHECK,
    "MISSING_DOCUMENT": SourceKind.RULE,
    "PROVIDER_WATCHLIST": SourceKind.RULE,
}


def unsourced(bundle: DecisionBundle) -> list[str]:
    """Every way the bundle's reasons fail to name their source; empty when they all do.

    Each reason has a known source with an id and a label; each code of the adjudication has a reason
    (so a source); each failed rule in the trace has its source; a `FRAUD_SUSPECTED` is raised by a
    failed fraud-flag rule or check of the trace, never by a model; and the codes whose source is fixed
    (the model's, the authority table's) name it.
    """
    claim = bundle.outcome.claim_id
    out: list[str] = []
    reasons = bundle.outcome.reasons
    for r in reasons:
        s = r.source
        if s.kind is SourceKind.UNKNOWN or not s.id or not s.label:
            out.append(f"{claim}: {r.text!r} has no source ({describe_source(s)})")
        want = KIND_OF_CODE.get(r.code or "")
        if want is not None and s.kind is not want:
            out.append(f"{claim}: {r.code} raised by {describe_source(s)}, expected a {want.value}")
    codes = {r.code for r in reasons}
    out += [
        f"{claim}: code {c} has no reason naming its source"
        for c in bundle.adjudication.reason_codes
        if c not in codes
    ]
    failed = [h for h in bundle.adjudication.trace if not h.passed]
    out += [f"{claim}: failed rule {h.rule_id} has no source" for h in failed if h.source is None]
    raisers = {h.source for h in failed}
    for r in reasons:
        if r.code == FRAUD_SUSPECTED and (r.source.kind is SourceKind.MODEL or r.source not in raisers):
            out.append(
                f"{claim}: FRAUD_SUSPECTED raised by {describe_source(r.source)}, no failed rule of the trace"
            )
    return out
