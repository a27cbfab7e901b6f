"""The claim book: who is insured by what, what happened to them, what they claim, what is planted.

Structure only, no pixels: `make_book` is fast enough for 10,000+ claims in seconds, and the
renderer draws exactly what the book says. Each claim has its own random stream derived from
(seed, index), so claim 7 is the same whether the corpus has 10 claims or 10,000.

Incidents span BOOK_START..BOOK_END, so every rule set (规则集) in force in those years decides some
claims, and a few claims sit on the day a new version comes into force (a stay admitted before it
and discharged after it). Everything a claim carries is dated on or before its submission: the
people and cards are drawn as of that day, the policy before the incident.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from pipeline.records import ClaimType, DocType, money
from synth import catalog
from synth.charges import draw_bill, items_for, planted_on_bill
from synth.discharge import plan_records
from synth.injuries import injured, injury_stream, new_policy
from synth.outcome import expected_outcome, fraud_signals
from synth.people import Person, make_bank_card, make_person, random_digits
from synth.policies import draw_policy
from synth.products import Product
from synth.provincial import pick_layout
from synth.rulesets import RuleSetTerms, change_dates, load_rule_sets, rule_set_on
from synth.truth import (
    BillTruth,
    ClaimRow,
    ClaimTruth,
    DocumentTruth,
    IncidentTruth,
)

CLAIM_MIX: list[tuple[ClaimType, float]] = [
    (ClaimType.OUTPATIENT, 0.60),
    (ClaimType.INPATIENT, 0.20),
    (ClaimType.ACCIDENT, 0.12),
    (ClaimType.CRITICAL_ILLNESS, 0.08),
]
PROBLEMS = [
    "missing_document",
    "exclusion",
    "waiting_period",
    "altered_invoice",
    "words_figures_mismatch",
    "duplicate_invoice",
    "over_limit",
    "shared_bank_account",
    "soon_after_inception",
    "provider_anomaly",
]
"""Problems the book plants, cycled from a seed-chosen start: a small corpus gets several, a large all."""
FRAUD_PATTERNS = {
    "altered_invoice",
    "words_figures_mismatch",
    "shared_bank_account",
    "soon_after_inception",
    "provider_anomaly",
}
CHANNELS = [("app", 0.55), ("wechat", 0.2), ("agent", 0.15), ("counter", 0.1)]
WEBP_CHANNELS = {"app", "wechat", "agent"}
"""The customer app, the WeChat mini-program and the agents' app compress photos on the phone to WebP
before upload (half the bytes of a JPEG of the same quality); the counter sends the scanner's JPEG."""
ROWS_PER_PAGE = 24
"""Expense-list rows per printed page: longer lists run onto more pages (and more files)."""


BOOK_START = dt.date(2025, 1, 1)
BOOK_END = dt.date(2026, 12, 31)
"""Incident dates of the book (fixed, never the wall clock): both rule sets' years."""
NEAR_CHANGE_SHARE = 0.03
"""Claims whose incident sits just before a rule-set change: a stay then straddles the change."""
ACCIDENT_STAY_SHARE = 0.3
"""Accident claims treated in hospital (住院): they bring an inpatient invoice and discharge summary."""


def _weighted(rng: random.Random, pairs: list[tuple]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _document_plan(
    claim_id: str,
    claim_type: ClaimType,
    product: Product,
    bills: list[BillTruth],
    rng: random.Random,
    channel: str = "agent",
    stay: bool = False,
) -> list[DocumentTruth]:
    """The files the claim carries: the product's required documents (a stay's, for an accident
    treated in hospital) plus some optional ones."""
    photo_ext, photo_media = ("webp", "image/webp") if channel in WEBP_CHANNELS else ("jpg", "image/jpeg")
    wanted = product.documents_for(claim_type, stay)
    if DocType.DIAGNOSIS_CERTIFICATE not in wanted and rng.random() < 0.25:
        wanted.insert(len(wanted) - 3, DocType.DIAGNOSIS_CERTIFICATE)
    if claim_type is ClaimType.INPATIENT and DocType.EXPENSE_LIST not in wanted:
        wanted.insert(1, DocType.EXPENSE_LIST)
    docs: list[DocumentTruth] = []
    for doc_type in wanted:
        n = 1
        if doc_type in (DocType.OUTPATIENT_INVOICE, DocType.INPATIENT_INVOICE):
            for n, bill in enumerate(bills, 1):
                ext, media = ("pdf", "application/pdf") if bill.as_pdf else (photo_ext, photo_media)
                docs.append(
                    DocumentTruth(
                        file=f"{claim_id}/{doc_type.value}_{n}.{ext}",
                        doc_type=doc_type,
                        media_type=media,
                        layout=bill.layout,
                        group=f"{doc_type.value}_{n}",
                        text_layer=bill.as_pdf,
                    )
                )
        elif doc_type is DocType.EXPENSE_LIST:
            for n, bill in enumerate(bills, 1):
                pages = max(1, math.ceil(len(bill.items) / ROWS_PER_PAGE))
                for p in range(1, pages + 1):
                    suffix = f"_p{p}" if pages > 1 else ""
                    docs.append(
                        DocumentTruth(
                            file=f"{claim_id}/expense_list_{n}{suffix}.{photo_ext}",
                            doc_type=doc_type,
                            media_type=photo_media,
                            layout="expense_list",
                            page_number=p,
                            page_count=pages,
                            group=f"expense_list_{n}",
                        )
                    )
        else:
            docs.append(
                DocumentTruth(
                    file=f"{claim_id}/{doc_type.value}_{n}.{photo_ext}",
                    doc_type=doc_type,
                    media_type=photo_media,
                    layout=doc_type.value,
                    group=f"{doc_type.value}_{n}",
                )
            )
    return docs


def _claim_type_for(rng: random.Random, problem: str | None) -> ClaimType:
    for _ in range(50):
        ct = _weighted(rng, CLAIM_MIX)
        if problem in ("waiting_period", "soon_after_inception") and ct is ClaimType.ACCIDENT:
            continue
        if (
            problem
            in (
                "altered_invoice",
                "words_figures_mismatch",
                "provider_anomaly",
                "over_limit",
                "duplicate_invoice",
            )
            and ct is ClaimType.CRITICAL_ILLNESS
        ):
            continue
        if problem == "duplicate_invoice" and ct is ClaimType.INPATIENT:
            continue
        return ct  # type: ignore[return-value]
    return ClaimType.OUTPATIENT


def _product_for(
    rng: random.Random, products: dict[str, Product], claim_type: ClaimType, problem: str | None
) -> Product:
    """The product a claim of this type is made under (an inpatient claim: medical or cash cover)."""
    if claim_type is ClaimType.OUTPATIENT:
        return products["OPM01"]
    if claim_type is ClaimType.INPATIENT:
        return products["IPM01"] if rng.random() < 0.75 or problem == "over_limit" else products["HCA01"]
    if claim_type is ClaimType.ACCIDENT:
        return products["AM01"]
    return products["CI01"]


def _people(rng: random.Random, on: dt.date, claim_type: ClaimType) -> tuple[Person, Person, str]:
    """The insured, who claims for them, and how they relate (本人, 父母 of a child, 配偶), as of `on`."""
    adult = claim_type is ClaimType.CRITICAL_ILLNESS or rng.random() < 0.85
    insured = make_person(
        rng, on, *((30, 68) if claim_type is ClaimType.CRITICAL_ILLNESS else (18, 75) if adult else (1, 17))
    )
    age = insured.age_on(on)
    if not adult:
        return insured, make_person(rng, on, age + 22, age + 40), "父母"
    if rng.random() < 0.06:
        return insured, make_person(rng, on, max(20, age - 5), age + 5), "配偶"
    return insured, insured, "本人"


def _incident_date(rng: random.Random, stay: int, changes: list[dt.date]) -> dt.date:
    """Any day of the book; for a few claims, next to a rule-set change (a stay admitted before it
    and discharged on or after it, a visit a day or two either side)."""
    if changes and rng.random() < NEAR_CHANGE_SHARE:
        change = rng.choice(changes)
        return change - dt.timedelta(days=rng.randint(1, stay) if stay else rng.randint(-2, 2))
    return BOOK_START + dt.timedelta(days=rng.randint(0, (BOOK_END - BOOK_START).days))


def _incident(
    rng: random.Random, claim_type: ClaimType, problem: str | None, changes: list[dt.date]
) -> tuple[IncidentTruth, catalog.Diagnosis, int]:
    """What happened: when, where, the diagnoses and the stay (days; 0 for a visit; some accidents
    are treated in hospital)."""
    stay = rng.randint(3, 12) if claim_type in (ClaimType.INPATIENT, ClaimType.CRITICAL_ILLNESS) else 0
    if claim_type is ClaimType.ACCIDENT and rng.random() < ACCIDENT_STAY_SHARE:
        stay = rng.randint(2, 8)
    incident_date = _incident_date(rng, stay, changes)
    pool = catalog.EXCLUDED_DIAGNOSES[claim_type] if problem == "exclusion" else catalog.DIAGNOSES[claim_type]
    diagnosis = rng.choice(pool)
    diagnoses = [(diagnosis.icd10, diagnosis.name)]
    if claim_type in (ClaimType.INPATIENT, ClaimType.CRITICAL_ILLNESS) and rng.random() < 0.4:
        extra = rng.choice([("I10", "原发性高血压"), ("E78.5", "高脂血症"), ("K76.0", "脂肪肝")])
        if extra[0] != diagnosis.icd10:
            diagnoses.append(extra)
    if problem == "provider_anomaly":
        hospital, grade, layout = rng.choice(catalog.ANOMALOUS_PROVIDERS)
    else:
        hospital, grade, layout = rng.choice(catalog.HOSPITALS)
    cause = rng.choice(catalog.ACCIDENT_CAUSES) if claim_type is ClaimType.ACCIDENT else None
    admission = incident_date if stay else None
    discharge = incident_date + dt.timedelta(days=stay) if stay else None
    description = {
        ClaimType.OUTPATIENT: f"因{diagnosis.name}于{incident_date:%Y年%m月%d日}到{hospital}门诊就诊",
        ClaimType.INPATIENT: f"因{diagnosis.name}于{incident_date:%Y年%m月%d日}入住{hospital}治疗{stay}天",
        ClaimType.ACCIDENT: f"{incident_date:%Y年%m月%d日}{cause[1] if cause else '受伤'}致{diagnosis.name}"
        + (f"，入住{hospital}治疗{stay}天" if stay else ""),
        ClaimType.CRITICAL_ILLNESS: f"于{incident_date:%Y年%m月%d日}在{hospital}确诊{diagnosis.name}",
    }[claim_type]
    incident = IncidentTruth(
        claim_type=claim_type,
        incident_date=incident_date,
        hospital=hospital,
        hospital_grade=grade,
        province_layout=layout,
        department=catalog.DEPARTMENTS.get(diagnosis.icd10[0], "内科"),
        doctor=rng.choice(catalog.DOCTORS),
        diagnoses=diagnoses,
        accident_cause=cause,
        admission_date=admission,
        discharge_date=discharge,
        hospital_number=("ZY" if stay else "MZ") + random_digits(rng, 8),
        description=description,
    )
    return incident, diagnosis, stay


def make_claim(
    seed: int, index: int, problem: str | None, rule_sets: tuple[RuleSetTerms, ...] | None = None
) -> ClaimTruth:
    """One claim of the book, from its own random stream; `problem` is planted if given."""
    rule_sets = rule_sets or load_rule_sets()
    rng = random.Random(f"{seed}:{index}")
    claim_id = f"C{index + 1:04d}"
    claim_type = _claim_type_for(rng, problem)
    product = _product_for(rng, rule_sets[0].products, claim_type, problem)

    incident, diagnosis, stay = _incident(rng, claim_type, problem, change_dates(rule_sets))
    side = injury_stream(seed, index)
    incident, diagnosis, is_new = injured(side, incident, diagnosis, problem)
    incident_date, layout = incident.incident_date, incident.province_layout
    discharge = incident.discharge_date
    rules = rule_set_on(incident_date, rule_sets)
    product = rules.products[product.product_id]  # as amended by the version in force
    last_day = discharge or incident_date
    submitted = dt.datetime.combine(
        last_day + dt.timedelta(days=rng.randint(1, 25)),
        dt.time(rng.randint(8, 22), rng.randint(0, 59), rng.randint(0, 59)),
    )
    insured, claimant, relationship = _people(rng, submitted.date(), claim_type)
    holder = claimant if relationship != "本人" else insured
    policy = draw_policy(
        rng, product, insured, holder, incident_date, problem, claim_type, rules.early_claim_days
    )
    if is_new:
        policy = new_policy(side, policy, product.waiting_period_days, incident_date)

    bills: list[BillTruth] = []
    if claim_type is not ClaimType.CRITICAL_ILLNESS:
        factor = rng.uniform(2.5, 4.0) if problem == "provider_anomaly" else 1.0
        items = items_for(rng, diagnosis, incident_date, stay, factor)
        billed_as = ClaimType.INPATIENT if stay else claim_type  # a stay is billed on an inpatient form
        kind = pick_layout(rng, layout, billed_as)
        bills.append(
            draw_bill(rng, items, kind, discharge or incident_date, policy.social_insurance, billed_as)
        )
    if bills:
        bills[0] = planted_on_bill(rng, bills[0], problem)

    card = make_bank_card(rng, claimant.name, submitted.date())
    channel = str(_weighted(rng, CHANNELS))
    documents = _document_plan(claim_id, claim_type, product, bills, rng, channel, stay=bool(stay))
    documents = plan_records(claim_id, incident, documents)  # layouts and pages of medical records
    if problem == "missing_document":
        required = set(product.documents_for(claim_type, bool(stay)))
        droppable = [d for d in {doc.doc_type for doc in documents} & required if d is not DocType.CLAIM_FORM]
        dropped = rng.choice(sorted(droppable))
        documents = [d for d in documents if d.doc_type is not dropped]

    benefit = product.benefit_for(claim_type)
    if benefit.kind == "daily_allowance":
        amount = money(benefit.per_day * stay)
    elif benefit.kind == "lump_sum":
        amount = policy.sum_insured
    else:
        amount = money(sum((b.printed_total for b in bills), Decimal(0)))
    row = ClaimRow(
        claim_id=claim_id,
        policy_number=policy.policy_number,
        claimant=claimant.name,
        claimant_id_number=claimant.id_number,
        insured=insured.name,
        claim_type=claim_type,
        incident_date=incident_date,
        submitted_at=submitted,
        channel=channel,
        amount_claimed=amount,
        documents=[d.file for d in documents],
    )
    claim = ClaimTruth(
        claim_id=claim_id,
        row=row,
        policy=policy,
        claimant=claimant,
        insured=insured,
        relationship=relationship,
        bank_card=card,
        incident=incident,
        bills=bills,
        planted=[problem] if problem else [],
        documents=documents,
        expected=expected_outcome(
            rules=rules,
            policy=policy,
            incident=incident,
            bills=bills,
            document_types=set(),
            fraud_patterns=[],
        ),  # replaced by finish()
    )
    claim = finish(claim, rule_sets)
    if problem == "over_limit":
        # leave less of the annual limit than the claim would otherwise get (or none at all)
        left = money(claim.expected.assessed * Decimal(str(round(rng.uniform(0.2, 0.7), 2))))
        paid = money(policy.sum_insured - left)
        total = policy.prior_paid_total - policy.prior_paid_this_year + paid  # earlier years stay as drawn
        policy = policy.model_copy(update={"prior_paid_this_year": paid, "prior_paid_total": total})
        claim = finish(claim.model_copy(update={"policy": policy}), rule_sets)
    return claim


def finish(
    claim: ClaimTruth, rule_sets: tuple[RuleSetTerms, ...], extra_patterns: list[str] | None = None
) -> ClaimTruth:
    """(Re)compute the expected outcome, under the rule set in force on the incident date, from the
    claim's data and any cross-claim fraud patterns."""
    rules = rule_set_on(claim.incident.incident_date, rule_sets)
    anomalous = {name for name, _, _ in catalog.ANOMALOUS_PROVIDERS}
    patterns = fraud_signals(claim.bills, claim.incident, claim.policy, rules, anomalous)
    patterns += [p for p in (extra_patterns or []) if p not in patterns]
    expected = expected_outcome(
        rules=rules,
        policy=claim.policy,
        incident=claim.incident,
        bills=claim.bills,
        document_types={d.doc_type for d in claim.documents},
        fraud_patterns=patterns,
    )
    return claim.model_copy(update={"expected": expected})


def _duplicate_of(
    source: ClaimTruth, index: int, seed: int, rule_sets: tuple[RuleSetTerms, ...]
) -> ClaimTruth:
    """The same invoice claimed again, later, by the same claimant under a new claim id."""
    rng = random.Random(f"{seed}:{index}:dup")
    claim_id = f"C{index + 1:04d}"
    bills = [b.model_copy(update={"duplicate_of": source.claim_id}) for b in source.bills]
    docs = [
        d.model_copy(update={"file": d.file.replace(source.claim_id, claim_id, 1)}) for d in source.documents
    ]
    submitted = source.row.submitted_at + dt.timedelta(days=rng.randint(20, 60), hours=rng.randint(0, 5))
    row = source.row.model_copy(
        update={
            "claim_id": claim_id,
            "submitted_at": submitted,
            "channel": rng.choice(["app", "wechat", "counter"]),
            "documents": [d.file for d in docs],
        }
    )
    claim = source.model_copy(
        update={
            "claim_id": claim_id,
            "row": row,
            "bills": bills,
            "documents": docs,
            "planted": ["duplicate_invoice"],
        }
    )
    return finish(claim, rule_sets)


def plant_schedule(claims: int, seed: int, problem_rate: float) -> dict[int, str]:
    """Which claims get which planted problem: about `problem_rate` of them, problems cycled in order."""
    rng = random.Random(f"{seed}:plants")
    count = min(claims, round(claims * problem_rate)) if problem_rate > 0 else 0
    if problem_rate > 0 and claims >= 10:
        count = max(count, 1)
    # duplicates need an earlier claim to copy, so keep index 0 clean
    indexes = sorted(rng.sample(range(1, claims), min(count, claims - 1))) if claims > 1 else []
    start = rng.randrange(len(PROBLEMS))  # a small corpus gets a seed's own run of problems
    return {i: PROBLEMS[(start + n) % len(PROBLEMS)] for n, i in enumerate(indexes)}


def make_book(claims: int, seed: int, problem_rate: float = 0.08) -> list[ClaimTruth]:
    """The whole book: `claims` claims with planted problems at about `problem_rate`."""
    rule_sets = load_rule_sets()
    schedule = plant_schedule(claims, seed, problem_rate)
    book: list[ClaimTruth] = []
    for i in range(claims):
        problem = schedule.get(i)
        if problem == "duplicate_invoice":
            # the latest clean claim with a bill (searched from the end: the book can be 100k long)
            source = next(
                (
                    c
                    for c in reversed(book)
                    if c.bills and not c.planted and c.incident.claim_type is not ClaimType.INPATIENT
                ),
                None,
            )
            if source is not None:
                book.append(_duplicate_of(source, i, seed, rule_sets))
                continue
            problem = "missing_document"
        if problem == "shared_bank_account":
            claim = make_claim(seed, i, None, rule_sets)
            j = next(
                (
                    j
                    for j in range(len(book) - 1, -1, -1)
                    if not book[j].planted
                    and book[j].bank_card.holder != ""
                    and book[j].claimant.id_number != claim.claimant.id_number
                ),
                None,
            )
            if j is not None:
                card = book[j].bank_card.model_copy(update={"holder": claim.claimant.name})
                claim = claim.model_copy(update={"bank_card": card, "planted": ["shared_bank_account"]})
                book.append(finish(claim, rule_sets, ["shared_bank_account"]))
                book[j] = finish(
                    book[j].model_copy(update={"planted": ["shared_bank_account"]}),
                    rule_sets,
                    ["shared_bank_account"],
                )
                continue
            book.append(claim)
            continue
        book.append(make_claim(seed, i, problem, rule_sets))
    return book
