"""Layouts of the hospital's and the insurer's papers: discharge summary (出院小结), diagnosis
certificate (诊断证明书) and the claim application form (理赔申请书), filled in by hand.

The bills are drawn in `synth/bills.py`, the cards in `synth/cards.py`.
"""

from __future__ import annotations

import random

from pipeline.records import ClaimType, FieldKind, LineItem
from synth.render import BLUE_INK, INK, Canvas, rect_box
from synth.truth import ClaimTruth, DocumentTruth

__all__ = ["INSURER", "claim_form", "cn_date", "diagnosis_certificate", "discharge_summary"]

INSURER = "安康人寿保险股份有限公司"
M, D, T = FieldKind.MONEY, FieldKind.DATE, FieldKind.TEXT
FormRow = tuple[str, str, str, FieldKind, str | None]


def cn_date(d) -> str:
    return f"{d:%Y年%m月%d日}"


def discharge_summary(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    """出院小结: the stay, diagnoses with ICD-10 codes, course and advice."""
    inc = claim.incident
    p = claim.insured
    c = Canvas(1240, 1754)
    c.text(620, 60, inc.hospital, 40, face="serif", anchor="ma", name="hospital")
    c.text(620, 120, "出 院 小 结", 44, face="serif", anchor="ma", name="title")
    c.hline(60, 1180, 190, INK, 3)
    admission = inc.admission_date or inc.incident_date
    discharge = inc.discharge_date or inc.incident_date
    days = (discharge - admission).days
    info = [
        ("姓名：", p.name, "patient_name", T),
        ("性别：", p.sex, "sex", T),
        ("年龄：", f"{p.age_on(admission)}岁", "age", FieldKind.INT),
        ("科室：", inc.department, "department", T),
        ("住院号：", inc.hospital_number, "hospital_number", T),
        ("床号：", f"{rng.randint(1, 60)}床", None, T),
        ("入院日期：", admission.isoformat(), "admission_date", D),
        ("出院日期：", discharge.isoformat(), "discharge_date", D),
        ("住院天数：", f"{days}天", "days_in_hospital", FieldKind.INT),
    ]
    for k, (label, value, name, kind) in enumerate(info):
        r, col = divmod(k, 3)
        bb = c.text(80 + col * 370, 215 + r * 48, label, 24)
        c.text(
            bb[2] + 4,
            215 + r * 48,
            value,
            24,
            name=name,
            kind=kind,
            value=str(days)
            if name == "days_in_hospital"
            else value.removesuffix("岁")
            if name == "age"
            else None,
        )
    y = 380
    c.hline(60, 1180, y - 12, INK, 1)
    principal = inc.diagnoses[0]
    bb = c.text(80, y, "入院诊断：", 26)
    c.text(bb[2] + 4, y, principal[1] + "?" if rng.random() < 0.3 else principal[1], 26)
    y += 52
    bb = c.text(80, y, "出院诊断：", 26)
    for k, (code, name) in enumerate(inc.diagnoses):
        bb2 = c.text(  # the value is the diagnosis; "1. " only numbers the printed list
            bb[2] + 4,
            y,
            f"{k + 1}. {name}",
            26,
            name="diagnosis" if k == 0 else f"diagnosis_{k + 1}",
            value=name,
        )
        c.text(
            bb2[2] + 16,
            y,
            f"（ICD-10：{code}）",
            24,
            name="diagnosis_code" if k == 0 else f"diagnosis_code_{k + 1}",
            value=code,
        )
        y += 44
    y += 20
    sections = [
        (
            "入院情况：",
            f"患者{p.name}，{p.sex}，{p.age_on(admission)}岁，{inc.description}。"
            "入院时神志清，精神可，生命体征平稳，查体配合。",
        ),
        (
            "诊疗经过：",
            "入院后完善相关检查，予以对症支持治疗"
            + ("，择期行手术治疗，术程顺利" if days > 4 else "")
            + "，病情好转。",
        ),
        ("出院情况：", "患者一般情况可，无明显不适，予以办理出院。"),
        ("出院医嘱：", "1. 注意休息，清淡饮食；2. 按时服药；3. 出院后两周门诊复查，不适随诊。"),
    ]
    for label, text in sections:
        bb = c.text(80, y, label, 26)
        y = c.paragraph(bb[2] + 4, y + 2, text, 1080 - bb[2], 24)
        y += 24
    y = max(y + 40, 1450)
    bb = c.text(700, y, "主治医师：", 26)
    c.text(bb[2] + 4, y, inc.doctor, 28, face="serif", fill=BLUE_INK, name="doctor")
    c.text(700, y + 60, cn_date(discharge), 26, name="signed_date", kind=D, value=discharge.isoformat())
    c.seal(880, y + 40, 95, inc.hospital, "病案管理专用章", rng=rng)
    return c, [], []


def diagnosis_certificate(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    """诊断证明书: who, what diagnosis (with ICD-10), since when, signed and sealed."""
    inc = claim.incident
    p = claim.insured
    c = Canvas(1240, 1000, paper=(253, 252, 248))
    c.text(620, 45, inc.hospital, 40, face="serif", anchor="ma", name="hospital")
    c.text(620, 105, "诊 断 证 明 书", 44, face="serif", anchor="ma", name="title")
    c.text(1000, 175, f"编号：{inc.hospital_number[-6:]}", 20)
    c.hline(60, 1180, 205, INK, 2)
    info = [
        ("姓名：", p.name, "patient_name", T),
        ("性别：", p.sex, "sex", T),
        ("年龄：", f"{p.age_on(inc.incident_date)}岁", "age", FieldKind.INT),
        ("科室：", inc.department, "department", T),
        ("门诊/住院号：", inc.hospital_number, "hospital_number", T),
        ("就诊日期：", inc.incident_date.isoformat(), "visit_date", D),
    ]
    for k, (label, value, name, kind) in enumerate(info):
        r, col = divmod(k, 3)
        bb = c.text(80 + col * 370, 230 + r * 50, label, 24)
        shown = value.removesuffix("岁") if name == "age" else None  # the age is its number
        c.text(bb[2] + 4, 230 + r * 50, value, 24, name=name, kind=kind, value=shown)
    bb = c.text(80, 340, "身份证号：", 24)
    c.text(bb[2] + 4, 340, p.id_number, 24, name="id_number")
    y = 420
    bb = c.text(80, y, "诊断：", 28)
    code, name = inc.diagnoses[0]
    bb2 = c.text(bb[2] + 8, y, name, 30, fill=BLUE_INK, face="serif", name="diagnosis")
    c.text(bb2[2] + 20, y + 2, f"ICD-10：{code}", 26, fill=BLUE_INK, name="diagnosis_code", value=code)
    y += 80
    advice = {
        ClaimType.CRITICAL_ILLNESS: "经病理及影像学检查确诊，建议进一步专科治疗。",
        ClaimType.ACCIDENT: "外伤后就诊，建议休息两周，避免剧烈活动，定期复查。",
        ClaimType.INPATIENT: "住院治疗后好转出院，建议休息一周，门诊随访。",
        ClaimType.OUTPATIENT: "建议休息三天，按时服药，不适随诊。",
    }[inc.claim_type]
    bb = c.text(80, y, "医嘱建议：", 26)
    c.paragraph(bb[2] + 4, y, advice, 900, 26, fill=BLUE_INK, face="serif")
    y = 800
    bb = c.text(640, y, "医师签名：", 26)
    c.text(bb[2] + 4, y - 2, inc.doctor, 30, face="serif", fill=BLUE_INK, name="doctor")
    c.text(
        640,
        y + 60,
        cn_date(inc.incident_date),
        26,
        name="issue_date",
        kind=D,
        value=inc.incident_date.isoformat(),
    )
    c.seal(900, y + 30, 88, inc.hospital, "诊断证明专用章", rng=rng)
    return c, [], []


def _claim_form_sections(claim: ClaimTruth) -> list[tuple[str, list[FormRow]]]:
    """The form's four boxes: applicant, insured, incident and payee account, each (label, value,
    field name, kind, value as read)."""
    inc = claim.incident
    row = claim.row
    return [
        (
            "申请人信息",
            [
                ("申请人姓名", claim.claimant.name, "claimant_name", T, None),
                ("与被保险人关系", claim.relationship, "relationship", T, None),
                ("证件号码", claim.claimant.id_number, "claimant_id_number", T, None),
                ("联系电话", claim.claimant.phone, "phone", T, None),
            ],
        ),
        (
            "被保险人信息",
            [
                ("被保险人姓名", claim.insured.name, "insured_name", T, None),
                ("性别", claim.insured.sex, "insured_sex", T, None),
                ("证件号码", claim.insured.id_number, "insured_id_number", T, None),
                ("出生日期", claim.insured.birth_date.isoformat(), "insured_birth_date", D, None),
            ],
        ),
        (
            "出险信息",
            [
                ("出险日期", inc.incident_date.isoformat(), "incident_date", D, None),
                ("就诊医院", inc.hospital, "hospital", T, None),
                (
                    "申请金额（元）",
                    f"{row.amount_claimed:.2f}",
                    "amount_claimed",
                    M,
                    f"{row.amount_claimed:.2f}",
                ),
                ("诊断", inc.diagnoses[0][1], "diagnosis", T, None),
            ],
        ),
        (
            "领款账户",
            [
                ("开户银行", claim.bank_card.bank, "bank_name", T, None),
                ("户名", claim.claimant.name, "account_holder", T, None),
                ("银行账号", claim.bank_card.number, "account_number", T, None),
                ("", "", "", T, None),
            ],
        ),
    ]


def claim_form(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    """理赔申请书: pre-printed boxes filled in by hand (blue ink) by the claimant."""
    c = Canvas(1240, 1754)
    inc = claim.incident
    row = claim.row
    c.text(620, 50, INSURER, 34, face="serif", anchor="ma")
    c.text(620, 100, "理 赔 申 请 书", 46, face="serif", anchor="ma", name="title")
    c.text(860, 175, "保单号：", 22)
    c.text(950, 172, claim.policy.policy_number, 24, fill=BLUE_INK, name="policy_number")

    def blue(
        x: float,
        y: float,
        text: str,
        name: str,
        kind: FieldKind = T,
        value: str | None = None,
        size: int = 26,
    ) -> None:
        c.text(
            x + rng.uniform(-6, 6),
            y + rng.uniform(-5, 3),
            text,
            size,
            face="serif",
            fill=BLUE_INK,
            name=name,
            kind=kind,
            value=value,
        )

    sections = _claim_form_sections(claim)
    y = 220
    for title, rows in sections:
        c.rect(60, y, 1180, y + 50, fill=(235, 235, 235), width=2)
        c.text(80, y + 12, title, 24)
        y += 50
        xs, ys = c.grid(60, y, [200, 360, 200, 360], [70, 70], width=2)
        for k, (label, value, name, kind, v) in enumerate(rows):
            r, col = divmod(k, 2)
            if not label:
                continue
            size = c.fit_size(label, 22, 190)
            c.text(xs[col * 2] + 8, ys[r] + 22, label, size)
            wide = c.fit_size(value, 26, 340, "serif")
            blue(xs[col * 2 + 1] + 10, ys[r] + 18, value, name, kind, v, wide)
        y = ys[-1] + 24
    c.rect(60, y, 1180, y + 50, fill=(235, 235, 235), width=2)
    c.text(80, y + 12, "申请类型（请在□内打√）", 24)
    y += 70
    types = [
        (ClaimType.OUTPATIENT, "门急诊医疗"),
        (ClaimType.INPATIENT, "住院医疗"),
        (ClaimType.ACCIDENT, "意外医疗"),
        (ClaimType.CRITICAL_ILLNESS, "重大疾病"),
    ]
    for k, (ct, label) in enumerate(types):
        x = 90 + k * 270
        c.rect(x, y, x + 28, y + 28, width=2)
        bb = c.text(x + 40, y, label, 24)
        if ct is inc.claim_type:
            c.draw.line([(x + 4, y + 14), (x + 12, y + 26), (x + 30, y - 4)], fill=BLUE_INK, width=4)
            c.fields.append(
                c.fields[-1].model_copy(
                    update={
                        "name": "claim_type",
                        "value": ct.value,
                        "text": label,
                        "box": rect_box(x, y - 4, bb[2], bb[3]),
                    }
                )
            )
    y += 70
    bb = c.text(80, y, "出险经过：", 24)
    blue_y = c.paragraph(bb[2] + 8, y, inc.description + "。", 900, 26, fill=BLUE_INK, face="serif")
    y = blue_y + 40
    statement = (
        "本人声明：以上所填内容及所附资料均真实、完整，如有隐瞒或虚假，愿承担相应法律责任。"
        "本人授权贵公司向医疗机构及相关单位查询与本次理赔有关的资料。"
    )
    y = c.paragraph(80, y, statement, 1080, 22) + 60
    c.text(640, y, "申请人签名：", 26)
    blue(800, y - 4, claim.claimant.name, "signature", size=34)
    sub = row.submitted_at.date()
    c.text(640, y + 70, "申请日期：", 26)
    blue(780, y + 68, cn_date(sub), "application_date", D, sub.isoformat())
    return c, [], []
