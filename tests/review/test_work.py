"""Working a claim in the app: locks, corrections (labels), decisions, four-eyes, audit and masking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from review_fixtures import ACCOUNT, ID_NUMBER, USERS, Built, Session, build_store, set_amounts
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from pipeline.reasons import read_reasons
from pipeline.records import ReviewAction, ReviewDecision, Route
from pipeline.settings import Authority, Settings
from pipeline.store import AuditEventRow, FieldRow, ReviewTaskRow
from review import casefile, work
from review.auth import Viewer

SignIn = Callable[[str | None], Session]


def _task(built: Built, claim_id: str) -> dict[str, object]:
    return next(t for t in built.store.review_tasks(status=None) if t["claim_id"] == claim_id)


def _actions(built: Built, claim_id: str | None = None) -> list[str]:
    return [e["action"] for e in built.store.audit_events(claim_id)]


# --- locks ---------------------------------------------------------------------------------------


def test_opening_a_claim_locks_it_for_others(sign_in: SignIn, built: Built) -> None:
    a, b = sign_in("adj1"), sign_in("adj2")
    assert a.get("/claims/C100").status_code == 200
    assert _task(built, "C100")["locked_by"] == "adj1"
    page = b.get("/claims/C100")
    assert page.status_code == 200 and 'data-testid="locked-by"' in page.text and "adj1" in page.text
    assert 'data-testid="decide-form"' not in page.text
    assert b.post("/claims/C100/lock").status_code == 409
    r = b.post("/claims/C100/decision", {"action": "deny", "reason": "不在保险责任内"})
    assert r.status_code == 409
    r = b.post("/claims/C100/fields", {"document_id": built.document_id, "name": "total", "value": "1.00"})
    assert r.status_code == 409
    queue = b.get("/queue").text
    assert "🔒 adj1" in queue
    # released, the other adjuster takes it
    assert a.post("/claims/C100/release").status_code == 303
    assert b.get("/claims/C100").status_code == 200
    assert _task(built, "C100")["locked_by"] == "adj2"
    assert _actions(built, "C100").count("lock") == 2 and "release" in _actions(built, "C100")


def test_a_lock_left_alone_can_be_taken_over(sign_in: SignIn, built: Built) -> None:
    a, b = sign_in("adj1"), sign_in("adj2")
    a.get("/claims/C100")
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=built.settings.review_lock_minutes + 1)
    with built.store.session() as s:
        s.execute(update(ReviewTaskRow).where(ReviewTaskRow.claim_id == "C100").values(locked_at=stale))
    b.get("/claims/C100")
    assert _task(built, "C100")["locked_by"] == "adj2"
    event = [e for e in built.store.audit_events("C100") if e["action"] == "take_over"]
    assert [(e["actor"], e["detail"]) for e in event] == [("adj2", {"previous_holder": "adj1"})]
    r = a.post("/claims/C100/decision", {"action": "deny", "reason": "x"})
    assert r.status_code == 409  # adj1 lost it; nobody decides twice


def test_auditor_reads_without_locking(sign_in: SignIn, built: Built) -> None:
    aud = sign_in("aud1")
    page = aud.get("/claims/C100")
    assert page.status_code == 200 and 'data-testid="decide-form"' not in page.text
    assert _task(built, "C100")["locked_by"] is None


# --- corrections ---------------------------------------------------------------------------------


def test_a_correction_is_a_labelled_field_row(sign_in: SignIn, built: Built) -> None:
    a = sign_in("adj1")
    a.get("/claims/C100")
    r = a.post("/claims/C100/fields", {"document_id": built.document_id, "name": "total", "value": "821.40"})
    assert r.status_code == 303
    with built.store.session() as s:
        rows = s.scalars(select(FieldRow).where(FieldRow.claim_id == "C100")).all()
    assert [(f.name, f.value, f.corrected_by, f.kind) for f in rows] == [("total", "821.40", "adj1", "money")]
    assert rows[0].record["box"] and rows[0].record["page"] == 1  # where it was read travels with the label
    page = a.get("/claims/C100").text
    assert "821.40" in page and "✎ adj1" in page
    event = next(e for e in built.store.audit_events("C100") if e["action"] == "correct_field")
    assert event["detail"] == {
        "document_id": built.document_id,
        "field": "total",
        "sensitive": False,
        "from": "812.40",
        "to": "821.40",
    }


def test_a_bad_value_is_refused_with_a_message(sign_in: SignIn, built: Built) -> None:
    a = sign_in("adj1")
    a.get("/claims/C100")
    r = a.post(
        "/claims/C100/fields", {"document_id": built.document_id, "name": "visit_date", "value": "3月1日"}
    )
    assert r.status_code == 400 and "not a valid date" in r.text
    r = a.post("/claims/C100/fields", {"document_id": built.document_id, "name": "nope", "value": "1"})
    assert r.status_code == 400
    with built.store.session() as s:
        assert s.scalar(select(FieldRow)) is None


def test_doc_type_correction_feeds_doc_type_retraining(sign_in: SignIn, built: Built) -> None:
    from flows.retrain import doc_type_labels

    a = sign_in("adj1")
    a.get("/claims/C100")
    r = a.post(
        "/claims/C100/fields", {"document_id": built.document_id, "name": "doc_type", "value": "expense_list"}
    )
    assert r.status_code == 303
    labels = doc_type_labels(built.store, key="test-ocr-1")
    assert len(labels) == 1 and labels[0][1] == "expense_list" and "合计" in labels[0][0][0].text
    assert built.store.get_claim("C100").documents[0].doc_type.value == "expense_list"  # type: ignore[union-attr]


def test_field_corrections_are_extraction_labels(sign_in: SignIn, built: Built) -> None:
    from flows.retrain import field_labels

    a = sign_in("adj1")
    a.get("/claims/C100")
    a.post("/claims/C100/fields", {"document_id": built.document_id, "name": "total", "value": "821.40"})
    a.post("/claims/C100/fields", {"document_id": built.document_id, "name": "total", "value": "812.40"})
    labels = field_labels(built.store)
    assert [(lb.name, lb.value, lb.read_as, lb.corrected_by) for lb in labels] == [
        ("total", "812.40", "812.40", "adj1")
    ]  # the latest correction wins


def test_extraction_check_replays_corrected_documents(sign_in: SignIn, built: Built) -> None:
    from flows.retrain import extraction_check, extraction_markdown

    assert extraction_check(built.store).labels == 0
    a = sign_in("adj1")
    a.get("/claims/C100")
    a.post("/claims/C100/fields", {"document_id": built.document_id, "name": "patient_name", "value": "张伟"})
    a.post("/claims/C100/fields", {"document_id": built.document_id, "name": "total", "value": "999.99"})
    check = extraction_check(built.store)
    assert check.labels == 2 and check.documents == 1
    assert [m["field"] for m in check.misses if m["label"] == "999.99"] == ["total"]
    assert "corrected fields" in extraction_markdown(check)


# --- decisions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"action": "deny", "reason": "  "}, "a denial needs a reason"),
        ({"action": "partial", "amount": "500"}, "partial payment needs a reason"),
        ({"action": "approve", "amount": "abc"}, "needs an amount"),
        (
            {"action": "approve", "amount": "900"},
            "the amount 900.00 is more than the 712.40 the benefit calculation allows",
        ),
        ({"action": "approve", "amount": "712.41"}, "more than the 712.40 the benefit calculation allows"),
        ({"action": "approve", "amount": "NaN"}, "needs an amount"),
        ({"action": "approve", "amount": "0"}, "more than 0"),
        ({"action": "request_info"}, "names the missing documents"),
        ({"action": "request_info", "missing_documents": "passport"}, "passport"),
    ],
)
def test_incomplete_decisions_are_refused(
    sign_in: SignIn, built: Built, form: dict[str, str], message: str
) -> None:
    a = sign_in("adj1")
    a.get("/claims/C100")
    r = a.post("/claims/C100/decision", form)
    assert r.status_code == 400 and message in r.text
    assert _task(built, "C100")["status"] == "open"


def test_decisions_within_authority_are_done(sign_in: SignIn, built: Built) -> None:
    a = sign_in("adj1")
    a.get("/claims/C100")
    r = a.post(
        "/claims/C100/decision",
        {"action": "request_info", "missing_documents": ["expense_list", "claim_form"]},
    )
    assert r.status_code == 303 and "note=decided" in r.headers["location"]
    task = _task(built, "C100")
    decision = ReviewDecision.model_validate(task["decision"])
    assert task["status"] == "done" and decision.action is ReviewAction.REQUEST_INFO
    assert [d.value for d in decision.missing_documents] == ["expense_list", "claim_form"]
    assert decision.reviewer == "adj1" and decision.approved_by is None
    assert a.post("/claims/C100/decision", {"action": "deny", "reason": "again"}).status_code == 409
    page = a.get("/claims/C100").text
    assert 'data-testid="pending-apply"' in page


def test_four_eyes_above_authority(sign_in: SignIn, built: Built) -> None:
    from flows.apply_review import apply_decision, pending_decisions

    adj, adj2, senior = sign_in("adj1"), sign_in("adj2"), sign_in("senior1")
    adj.get("/claims/C200")
    r = adj.post("/claims/C200/decision", {"action": "approve", "amount": "24500.00"})
    assert r.status_code == 303 and "note=proposed" in r.headers["location"]
    task = _task(built, "C200")
    assert task["status"] == "awaiting_approval" and task["locked_by"] is None
    assert pending_decisions(built.store) == []  # nothing is paid before the second approval
    assert "awaiting approval" in senior.get("/queue?status=awaiting_approval").text
    # another adjuster cannot approve; the senior can, for exactly the version shown
    assert adj2.post("/claims/C200/approve", {"version": str(task["version"])}).status_code == 403
    page = senior.get("/claims/C200").text
    assert 'data-testid="approve"' in page and "24,500.00" in page
    assert senior.post("/claims/C200/approve", {"version": str(int(task["version"]) - 1)}).status_code == 409
    r = senior.post("/claims/C200/approve", {"version": str(task["version"])})
    assert r.status_code == 303
    decision = ReviewDecision.model_validate(_task(built, "C200")["decision"])
    assert (
        decision.reviewer == "adj1"
        and decision.approved_by == "senior1"
        and decision.amount == Decimal("24500.00")
    )
    # the apply_review flow's step pays it once, and the claim page says so
    [pending] = pending_decisions(built.store)
    applied = apply_decision(built.store, pending.decision, pending.routed_version)
    assert applied.paid == "24500.00"
    assert built.store.latest_outcome("C200").route is Route.AUTO_APPROVE  # type: ignore[union-attr]
    page = senior.get("/claims/C200").text
    assert 'data-testid="applied"' in page and "approved by senior1" in page
    assert {"propose_decision", "approve_decision", "review_applied"} <= set(_actions(built, "C200"))


def test_senior_sends_a_proposal_back(sign_in: SignIn, built: Built) -> None:
    adj, senior = sign_in("adj1"), sign_in("senior1")
    adj.get("/claims/C200")
    adj.post("/claims/C200/decision", {"action": "approve", "amount": "24500.00"})
    version = str(_task(built, "C200")["version"])
    assert senior.post("/claims/C200/send-back", {"version": version, "reason": ""}).status_code == 400
    r = senior.post("/claims/C200/send-back", {"version": version, "reason": "自费药品未扣除"})
    assert r.status_code == 303
    task = _task(built, "C200")
    assert task["status"] == "open" and task["decision"] is None
    event = next(e for e in built.store.audit_events("C200") if e["action"] == "send_back")
    assert event["detail"]["reason"] == "自费药品未扣除"


def test_a_senior_decides_above_the_limit_alone(sign_in: SignIn, built: Built) -> None:
    senior = sign_in("senior1")
    senior.get("/claims/C200")
    r = senior.post(
        "/claims/C200/decision", {"action": "partial", "amount": "20000", "reason": "自费部分不赔"}
    )
    assert r.status_code == 303 and "note=decided" in r.headers["location"]
    assert _task(built, "C200")["status"] == "done"


def test_the_proposer_cannot_approve_their_own(built: Built) -> None:
    from review.auth import Role

    adj = Viewer("adj1", "A", Role.ADJUSTER, "t", "s")
    work.take_lock(built.store, built.settings, "C200", "adj1")
    form = work.DecisionForm(action="approve", amount="24000")
    assert work.decide(built.store, built.settings, adj, "C200", form) == work.AWAITING
    self_senior = Viewer("adj1", "A", Role.SENIOR, "t", "s")  # promoted meanwhile: still the same person
    with pytest.raises(work.ReviewError, match="four-eyes"):
        work.approve(built.store, built.settings, self_senior, "C200", int(_task(built, "C200")["version"]))  # type: ignore[call-overload]


# --- the authority table -------------------------------------------------------------------------


def _viewer(username: str) -> Viewer:
    return Viewer(username, username.upper(), USERS[username], "t", "s")


def _propose(built: Built, username: str, amount: str, claim_id: str = "C200") -> str:
    """`username` takes the claim and approves `amount` on it; returns the task's new state."""
    assert work.take_lock(built.store, built.settings, claim_id, username).ok
    form = work.DecisionForm(action="approve", amount=amount)
    return work.decide(built.store, built.settings, _viewer(username), claim_id, form)


def _approve(built: Built, username: str, claim_id: str = "C200") -> ReviewDecision:
    version = int(_task(built, claim_id)["version"])  # type: ignore[call-overload]
    return work.approve(built.store, built.settings, _viewer(username), claim_id, version)


@pytest.mark.parametrize(
    ("user", "amount", "state"),
    [
        ("adj1", "10000.00", work.DONE),
        ("adj1", "10000.01", work.AWAITING),
        ("senior1", "50000.00", work.DONE),
        ("senior1", "50000.01", work.AWAITING),
        ("mgr1", "90000.00", work.DONE),
    ],
)
def test_each_role_decides_alone_up_to_its_limit(built: Built, user: str, amount: str, state: str) -> None:
    set_amounts(built.store, "C200", payable=Decimal("90000.00"), claimed=Decimal("95000.00"))
    assert _propose(built, user, amount) == state
    assert _task(built, "C200")["status"] == state
    event = [e for e in built.store.audit_events("C200") if e["action"] in ("decide", "propose_decision")]
    assert event[-1]["detail"]["cap"] == "90000.00" and event[-1]["detail"]["cap_basis"] == "benefit"


def test_a_seniors_proposal_approved_by_a_second_senior(built: Built) -> None:
    set_amounts(built.store, "C200", payable=Decimal("90000.00"), claimed=Decimal("95000.00"))
    assert _propose(built, "senior1", "80000.00") == work.AWAITING
    approved = _approve(built, "senior2")
    assert approved.reviewer == "senior1" and approved.approved_by == "senior2"
    assert _task(built, "C200")["status"] == "done"
    event = next(e for e in built.store.audit_events("C200") if e["action"] == "approve_decision")
    assert event["detail"]["reviewer_role"] == event["detail"]["approver_role"] == "senior_adjuster"


def test_an_adjusters_large_proposal_needs_a_claims_manager(sign_in: SignIn, built: Built) -> None:
    set_amounts(built.store, "C200", payable=Decimal("90000.00"), claimed=Decimal("95000.00"))
    assert _propose(built, "adj1", "80000.00") == work.AWAITING
    senior, mgr = sign_in("senior1"), sign_in("mgr1")
    page = senior.get("/claims/C200").text
    assert 'data-testid="approve"' not in page and 'data-testid="cannot-approve"' in page
    who = "a claims manager, or a senior adjuster&#39;s own proposal approved by a second senior"
    assert f"Who can approve it: {who}." in page
    version = str(_task(built, "C200")["version"])
    r = senior.post("/claims/C200/approve", {"version": version})
    assert r.status_code == 400
    assert "beyond your authority (limit 50,000.00)" in r.text and f"it needs {who}" in r.text
    assert _task(built, "C200")["status"] == "awaiting_approval"
    with pytest.raises(work.ReviewError, match="needs a claims manager, or a senior adjuster's own proposal"):
        _approve(built, "senior2")
    assert 'data-testid="approve"' in mgr.get("/claims/C200").text
    assert mgr.post("/claims/C200/approve", {"version": version}).status_code == 303
    decision = ReviewDecision.model_validate(_task(built, "C200")["decision"])
    assert decision.approved_by == "mgr1" and decision.amount == Decimal("80000.00")


def test_an_approval_above_the_benefit_allowance_is_refused(sign_in: SignIn, built: Built) -> None:
    adj = sign_in("adj1")
    adj.get("/claims/C200")
    r = adj.post("/claims/C200/decision", {"action": "approve", "amount": "24900.01"})
    assert r.status_code == 400 and "more than the 24900.00 the benefit calculation allows" in r.text
    assert adj.post("/claims/C200/decision", {"action": "approve", "amount": "20000"}).status_code == 303
    # the claim is assessed again meanwhile, lower: the proposal can no longer be approved as it is
    set_amounts(built.store, "C200", payable=Decimal("15000.00"), claimed=Decimal("25000.00"))
    with pytest.raises(work.ReviewError, match=r"more than the 15000\.00 the benefit calculation allows"):
        _approve(built, "mgr1")
    assert _task(built, "C200")["status"] == "awaiting_approval"


def test_without_benefit_lines_the_claimed_amount_caps(built: Built) -> None:
    set_amounts(built.store, "C200", payable=None, claimed=Decimal("25000.00"))
    assert casefile.payable_cap(built.store, "C200") == (Decimal("25000.00"), "claimed")
    with pytest.raises(work.ReviewError, match=r"the amount 25000\.01 is more than the 25000\.00 claimed"):
        _propose(built, "senior1", "25000.01")
    assert _propose(built, "senior1", "25000.00") == work.DONE


def test_a_claim_with_no_amount_waits_for_a_senior(sign_in: SignIn, built: Built) -> None:
    set_amounts(built.store, "C200", payable=None, claimed=None)
    assert casefile.payable_cap(built.store, "C200") == (None, "none")
    adj = sign_in("adj1")
    page = adj.get("/claims/C200").text
    assert 'Cap: <span data-testid="cap">none: nothing assessed or claimed' in page
    assert 'data-always="yes"' in page and "needs a second approval by a senior adjuster" in page
    r = adj.post("/claims/C200/decision", {"action": "approve", "amount": "500.00"})
    assert r.status_code == 303 and "note=proposed" in r.headers["location"]
    assert _task(built, "C200")["status"] == "awaiting_approval"
    event = next(e for e in built.store.audit_events("C200") if e["action"] == "propose_decision")
    assert event["detail"]["needs_approval_above"] == "0.00" and event["detail"]["cap_basis"] == "none"
    with pytest.raises(work.ReviewError, match="senior adjuster or a claims manager"):
        work.approve(built.store, built.settings, _viewer("adj2"), "C200", 0)
    assert _approve(built, "senior1").approved_by == "senior1"


@pytest.mark.parametrize(("amount", "state"), [("50000.00", work.DONE), ("50000.01", work.AWAITING)])
def test_a_senior_on_a_claim_with_no_amount_is_held_to_their_limit(
    built: Built, amount: str, state: str
) -> None:
    set_amounts(built.store, "C200", payable=None, claimed=None)
    assert _propose(built, "senior1", amount) == state


def test_a_products_row_changes_a_persons_limit(built: Built) -> None:
    table = Authority(products={"OP-BASIC": {"adjuster": Decimal("30000")}})
    built.settings = built.settings.model_copy(update={"authority": table})
    assert _propose(built, "adj1", "24500.00") == work.DONE


def test_the_pages_show_the_viewers_limit_and_the_cap(sign_in: SignIn, built: Built) -> None:
    adj, mgr, aud = sign_in("adj1"), sign_in("mgr1"), sign_in("aud1")
    page = adj.get("/claims/C100").text
    assert 'data-testid="own-limit">10,000.00 yuan<' in page and 'data-limit="10000.00"' in page
    assert "<b>712.40</b> yuan, what the benefit calculation allows" in page
    assert "Above your limit of 10,000.00 yuan: needs a second approval." in page
    assert 'data-testid="own-limit">10,000.00 yuan<' in adj.get("/queue").text
    assert 'data-testid="own-limit">no limit<' in mgr.get("/queue").text
    adj.post("/claims/C100/release")
    page = mgr.get("/claims/C100").text
    assert 'data-testid="own-limit">no limit<' in page and 'data-limit=""' in page
    assert 'data-testid="own-limit"' not in aud.get("/claims/C100").text
    assert 'data-testid="own-limit"' not in aud.get("/queue").text


# --- audit ---------------------------------------------------------------------------------------


def test_every_view_and_action_is_on_the_claims_trail(sign_in: SignIn, built: Built) -> None:
    a = sign_in("adj1")
    a.get("/claims/C100")
    a.get(f"/claims/C100/documents/{built.document_id}/pages/1.jpg")
    a.post("/claims/C100/fields", {"document_id": built.document_id, "name": "total", "value": "812.00"})
    a.post("/claims/C100/decision", {"action": "approve", "amount": "700.00"})
    actions = _actions(built, "C100")
    assert actions[:5] == ["lock", "view_claim", "view_page_image", "correct_field", "decide"]
    view = next(e for e in built.store.audit_events("C100") if e["action"] == "view_claim")
    assert view["actor"] == "adj1" and view["detail"]["masked"] is False
    assert "claimant_id_number" in view["detail"]["identifiers_shown"]
    page = a.get("/claims/C100").text
    assert 'data-testid="audit"' in page and "correct_field" in page and "view_page_image" in page


def test_the_audit_trail_cannot_be_changed(built: Built) -> None:
    built.store.audit("adj1", "view_claim", "C100", {})
    with pytest.raises(DBAPIError, match="append-only"), built.store.session() as s:
        s.execute(update(AuditEventRow).values(actor="someone-else"))
    with pytest.raises(DBAPIError, match="append-only"), built.store.session() as s:
        s.execute(text("DELETE FROM audit_events"))


def test_auditor_audit_page(sign_in: SignIn, built: Built) -> None:
    a = sign_in("adj1")
    a.get("/claims/C100")
    aud = sign_in("aud1")
    page = aud.get("/audit?actor=adj1")
    assert page.status_code == 200 and "view_claim" in page.text and "sign_in" in page.text
    assert "aud1" not in page.text.split('data-testid="audit"')[1]  # filtered to adj1


# --- masking -------------------------------------------------------------------------------------


def test_identifiers_masked_for_auditors_not_for_adjusters(sign_in: SignIn, built: Built) -> None:
    with built.store.session() as s:  # a reason that quotes the number, as an ID check's would
        s.execute(
            update(ReviewTaskRow)
            .where(ReviewTaskRow.claim_id == "C100")
            .values(reasons=[f"ID_NUMBER_MISMATCH: 表单 {ID_NUMBER} 与身份证不符"])
        )
    adj, aud = sign_in("adj1"), sign_in("aud1")
    clear = adj.get("/claims/C100").text
    assert ID_NUMBER in clear and ACCOUNT in clear
    masked = aud.get("/claims/C100").text
    assert ID_NUMBER not in masked and ACCOUNT not in masked
    assert "1101**********4514" in masked and "6222***********0128" in masked
    view = [e for e in built.store.audit_events("C100") if e["action"] == "view_claim"][-1]
    assert view["actor"] == "aud1" and view["detail"] == {"masked": True, "identifiers_shown": []}
    # the audit trail shown to the auditor is masked too
    adj.post("/claims/C100/release")
    assert ID_NUMBER not in aud.get("/audit").text


def test_page_image_is_redacted_for_masked_roles(sign_in: SignIn, built: Built) -> None:
    import io

    from PIL import Image, ImageStat

    url = f"/claims/C100/documents/{built.document_id}/pages/1.jpg"
    clear = sign_in("adj1").get(url)
    redacted = sign_in("aud1").get(url)
    assert clear.status_code == redacted.status_code == 200
    assert clear.headers["cache-control"] == "private, no-store"
    a = Image.open(io.BytesIO(clear.content)).convert("L")
    b = Image.open(io.BytesIO(redacted.content)).convert("L")

    def mean(im: Image.Image, box: tuple[int, int, int, int]) -> float:
        return ImageStat.Stat(im.crop(box)).mean[0]

    id_line = (200, 205, 600, 235)  # the ID number's line on the rendered page
    title = (280, 45, 720, 85)
    assert mean(b, id_line) < 30 < 150 < mean(a, id_line)  # blacked out / text on white
    assert abs(mean(a, title) - mean(b, title)) < 5  # the rest untouched
    assert sign_in("adj1").get(url.replace(built.document_id, "0" * 64)).status_code == 404


def test_locks_and_four_eyes_on_both_databases(db_settings: Settings, tmp_path: Path) -> None:
    """The compare-and-set updates behave the same on SQLite and PostgreSQL."""
    from review.auth import Role

    built = build_store(tmp_path, db_settings)
    adj, adj2 = (Viewer(u, u, Role.ADJUSTER, "t", "s") for u in ("adj1", "adj2"))
    senior = Viewer("senior1", "S", Role.SENIOR, "t", "s")
    assert work.take_lock(built.store, built.settings, "C200", "adj1").ok
    assert not work.take_lock(built.store, built.settings, "C200", "adj2").ok
    with pytest.raises(work.Conflict):
        work.decide(built.store, built.settings, adj2, "C200", work.DecisionForm("deny", reason="x"))
    work.correct_field(built.store, adj, "C200", built.document_id, "total", "24990.00")
    form = work.DecisionForm(action="approve", amount="24500.00")
    assert work.decide(built.store, built.settings, adj, "C200", form) == work.AWAITING
    version = int(_task(built, "C200")["version"])  # type: ignore[call-overload]
    with pytest.raises(work.Conflict):
        work.approve(built.store, built.settings, senior, "C200", version - 1)
    approved = work.approve(built.store, built.settings, senior, "C200", version)
    assert approved.approved_by == "senior1" and _task(built, "C200")["status"] == "done"
    with pytest.raises(work.Conflict):
        work.approve(built.store, built.settings, senior, "C200", version + 1)
    assert [e["action"] for e in built.store.audit_events("C200")] == [
        "lock",
        "correct_field",
        "propose_decision",
        "approve_decision",
    ]
    built.store.engine.dispose()


# --- reopening a final decision ---------------------------------------------------------------------


def test_a_senior_reopens_a_final_decision_with_a_reason(sign_in: SignIn, built: Built) -> None:
    adj, senior = sign_in("adj1"), sign_in("senior1")
    assert 'data-testid="reopen-form"' not in adj.get("/claims/C050").text
    assert adj.post("/claims/C050/reopen", {"reason": "complaint"}).status_code == 403
    page = senior.get("/claims/C050").text
    assert 'data-testid="reopen-form"' in page
    assert senior.post("/claims/C050/reopen", {"reason": "  "}).status_code == 400
    assert senior.post("/claims/C100/reopen", {"reason": "x"}).status_code == 400  # not decided: in the queue
    r = senior.post("/claims/C050/reopen", {"reason": "客户投诉：漏赔检查费"})
    assert r.status_code == 303
    task = _task(built, "C050")
    assert task["status"] == "open" and task["decision_version"] == 2
    assert read_reasons(task["reasons"])[0].text.startswith("REOPENED: 客户投诉：漏赔检查费 (by senior1")  # type: ignore[arg-type]
    assert built.store.latest_outcome("C050").route is Route.ADJUSTER  # type: ignore[union-attr]
    assert "reopen" in _actions(built, "C050")
    assert 'data-testid="reopen-form"' not in senior.get("/claims/C050").text  # in the queue now
    assert "C050" in adj.get("/queue").text
