"""Files and submissions the intake tests send: good, broken and hostile, all made here."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zlib
from decimal import Decimal
from typing import Any

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

HOSPITAL = "安康市第一人民医院"
HOSPITAL_ACCOUNT = "0200001234567890123"  # a corporate account: 19 digits, no card check digit


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48), seed: int = 0) -> bytes:
    """Noise, so every seed gives other bytes and compression cannot hide truncation."""
    arr = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(arr).save(out, fmt)
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def pdf_bytes(pages: int) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims any size: the bomb is in the header, not in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def _rc4(key: bytes, data: bytes) -> bytes:
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes = b"secret") -> bytes:
    """A one-page PDF with a real RC4-40 Standard security handler (as tests/pipeline/test_ingest.py)."""
    file_id = bytes(16)
    owner = _rc4(hashlib.md5((b"owner" + _PAD)[:32]).digest()[:5], (user_password + _PAD)[:32])
    perms = -44
    key = hashlib.md5(
        (user_password + _PAD)[:32] + owner + perms.to_bytes(4, "little", signed=True) + file_id
    ).digest()[:5]
    user = _rc4(key, _PAD)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (owner.hex().encode(), user.hex().encode(), perms),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    ident = file_id.hex().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1, ident, ident,
    )  # fmt: skip
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# --- policies and a hospital's submission ---------------------------------------------------------

POLICY_COLUMNS = (
    "policy_number,product_id,product_version,policyholder,insured,insured_id_number,effective_date,"
    "sum_insured,social_insurance,cumulative_annualised_premium,star_tier,prior_paid_this_year,"
    "deductible_used_this_year"
)
OUTPATIENT_POLICY = "POPTEST000001"
ACCIDENT_POLICY = "PAMTEST000001"
INPATIENT_POLICY = "PIPTEST000001"
PATIENT, PATIENT_ID = "李静芳", "110108197903055584"


def policies_csv() -> str:
    rows = [
        f"{OUTPATIENT_POLICY},OPM01,2025.1,{PATIENT},{PATIENT},{PATIENT_ID},2020-01-01,20000.00,True,"
        "38781.18,3,0.00,100.00",
        f"{ACCIDENT_POLICY},AM01,2025.1,{PATIENT},{PATIENT},{PATIENT_ID},2020-01-01,20000.00,True,"
        "5000.00,1,0.00,0.00",
        f"{INPATIENT_POLICY},IPM01,2025.1,{PATIENT},{PATIENT},{PATIENT_ID},2020-01-01,50000.00,True,"
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
