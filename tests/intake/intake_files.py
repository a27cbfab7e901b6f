"""What the intake tests send besides files: policies and a hospital's structured submission (the
files themselves come from `helpers.files`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

HOSPITAL = "安康市第一人民医院"
HOSPITAL_ACCOUNT = "0200001234567890123"  # a corporate account: 19 digits, no card check digit


# --- policies and a hospital's submission ---------------------------------------------------------

POLICY_COLUMNS = (
    "policy_number,product_id,product_version,policyholder,insured,insured_id_number,effective_date,expiry_date,"
    "sum_insured,social_insurance,cumulative_annualised_premium,star_tier,prior_paid_this_year,"
    "deductible_used_this_year"
)
OUTPATIENT_POLICY = "POPTEST000001"
ACCIDENT_POLICY = "PAMTEST000001"
INPATIENT_POLICY = "PIPTEST000001"
PATIENT, PATIENT_ID = "李静芳", "110108197903055584"


def policies_csv() -> str:
    rows = [
        f"{OUTPATIENT_POLICY},OPM01,2025.1,{PATIENT},{PATIENT},{PATIENT_ID},2020-01-01,2025-12-31,20000.00,True,"
        "38781.18,3,0.00,100.00",
        f"{ACCIDENT_POLICY},AM01,2025.1,{PATIENT},{PATIENT},{PATIENT_ID},2020-01-01,2025-12-31,20000.00,True,"
        "5000.00,1,0.00,0.00",
        f"{INPATIENT_POLICY},IPM01,2025.1,{PATIENT},{PATIENT},{PATIENT_ID},2020-01-01,2025-12-31,50000.00,True,"
        "5000.00,1,0.00,0.00",
    ]
    return POLICY_COLUMNS + "\n" + "\n".join(rows) + "\n"


def hospital_submission(
    policy: str = OUTPATIENT_POLICY, *, number: str = "0012345678", hospital: str = HOSPITAL, **over: Any
) -> dict[str, Any]:
    """An outpatient visit as a hospital's billing system sends it (医疗信息直连): 226.93 yuan, 甲/乙."""
    visit = dt.date(2025, 6, 1)
    items = [
        ("阿莫西林胶囊", "西药费", "甲", "2", "28.50", "57.00"),
        ("血常规", "化验费", "甲", "1", "25.00", "25.00"),
        ("胸部正位片", "检查费", "乙", "1", "120.00", "120.00"),
        ("诊查费", "诊查费", "甲", "1", "24.93", "24.93"),
    ]
    total = sum(Decimal(i[5]) for i in items)
    by_category: dict[str, Decimal] = {}
    for i in items:
        by_category[i[1]] = by_category.get(i[1], Decimal(0)) + Decimal(i[5])
    body: dict[str, Any] = {
        "policy_number": policy,
        "claimant": PATIENT,
        "claimant_id_number": PATIENT_ID,
        "invoice": {
            "kind": "outpatient",
            "invoice_code": "11060125",
            "invoice_number": number,
            "check_code": "a1b2c3d4",
            "issue_date": visit.isoformat(),
            "hospital": hospital,
            "patient_name": PATIENT,
            "patient_id_number": PATIENT_ID,
            "sex": "女",
            "insurance_type": "城镇职工基本医疗保险",
            "hospital_number": "MZ2025060100",
            "visit_date": visit.isoformat(),
            "total": str(total),
            "total_in_words": "贰佰贰拾陆元玖角叁分",
            "fund_paid": "0.00",
            "account_paid": "0.00",
            "cash_paid": str(total),
            "fee_items": [{"category": c, "amount": str(a)} for c, a in by_category.items()],
        },
        "expense_list": {
            "hospital_number": "MZ2025060100",
            "patient_name": PATIENT,
            "department": "呼吸内科",
            "visit_date": visit.isoformat(),
            "items": [
                {
                    "date": visit.isoformat(),
                    "name": n,
                    "category": c,
                    "insurance_class": k,
                    "quantity": q,
                    "unit_price": p,
                    "amount": a,
                }
                for n, c, k, q, p, a in items
            ],
            "total": str(total),
        },
        "visit": {
            "department": "呼吸内科",
            "doctor": "王医生",
            "visit_date": visit.isoformat(),
            "diagnoses": [{"code": "J06.9", "name": "急性上呼吸道感染"}],
        },
    }
    body.update(over)
    return body
