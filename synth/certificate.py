"""Diagnosis certificates (诊断证明书 / 出院诊断证明书) in the styles hospitals print them.

Besides the original form (`forms.diagnosis_certificate`): the discharge certificate (出院诊断证明书)
with the stay written as `入院日期：自 2019年12月3日 起`, `共住院 6 天`, `出院日期：至 … 止`, the
diagnoses side by side after 诊断, the treatment and the advice; and the ruled certificate (a grid
of 姓名 / 性别 / 年龄 / 科别 / 门诊号, a large 诊断 cell, 建议 休息). Truth is recorded as drawn.
"""

from __future__ import annotations

import random

from pipeline.records import LineItem
from synth import clinical, forms
from synth.discharge import date_text, rng_label, title_block
from synth.render import BLUE_INK, INK, Canvas
from synth.sheet import INT, D, Sheet, Style, T
from synth.truth import ClaimTruth, DocumentTruth, IncidentTruth

LAYOUTS = ("diagnosis_certificate", "certificate_discharge", "certificate_grid")


def plan(claim_id: str, incident: IncidentTruth, document: DocumentTruth) -> list[DocumentTruth]:
    """The certificate's layout: the discharge form only for a stay in hospital."""
    rng = clinical.record_rng(claim_id, incident.hospital_number, "certificate-plan")
    choices = list(LAYOUTS) if incident.admission_date else [LAYOUTS[0], LAYOUTS[2]]
    return [document.model_copy(update={"layout": rng.choice(choices)})]


def draw(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    if doc.layout == LAYOUTS[0]:
        return forms.diagnosis_certificate(claim, doc, rng)
    inc = claim.incident
    r = clinical.record_rng(claim.claim_id, inc.hospital_number, "certificate")
    words = clinical.record_rng(claim.claim_id, inc.hospital_number, "diagnosis-wording")
    diagnoses = [(code, clinical.printed_diagnosis(code, name, words)) for code, name in inc.diagnoses]
    style = Style.draw(r)
    sheet = Sheet(style, 1, r)
    if doc.layout == "certificate_discharge":
        _discharge(sheet, claim, diagnoses)
    else:
        _grid(sheet, claim, diagnoses)
    pages = sheet.finish(lambda c, g: c.seal(g.randint(800, 980), g.randint(560, 1300), 90, inc.hospital,
                                              g.choice(["医疗专用章", "诊断证明专用章"]), rng=g))  # fmt: skip
    return pages[0], [], []


def _discharge(sheet: Sheet, claim: ClaimTruth, diagnoses: list[tuple[str, str]]) -> None:
    """出院诊断证明书: who, the diagnoses, the treatment, the stay from … to …, the advice."""
    rng, inc, p, s = sheet.rng, claim.incident, claim.insured, sheet.style
    admitted = inc.admission_date or inc.incident_date
    discharged = inc.discharge_date or inc.incident_date
    days = (discharged - admitted).days
    title_block(sheet, inc.hospital, rng.choice(["出院诊断证明书", "诊断证明书", "出院证明书"]))
    age = p.age_on(admitted)
    sheet.rows(
        [
            [
                ("姓名：", p.name, "patient_name", T, None),
                ("性别：", p.sex, "sex", T, None),
                ("年龄：", f"{age}岁", "age", INT, str(age)),
            ],
            [
                (rng.choice(["科别：", "科室："]), inc.department, "department", T, None),
                (rng_label(rng), inc.hospital_number, "hospital_number", T, None),
            ],
        ]
    )
    sheet.c.hline(s.left - 10, s.right + 10, sheet.y - 6, INK, 1)
    sheet.y += sheet.line * 0.5
    sheet.diagnoses(
        rng.choice(["诊断：", "诊    断：", "出院诊断："]), diagnoses, record=True, layout="inline"
    )
    sheet.y += sheet.line * 0.5
    sheet.paragraph("治疗经过：", clinical.course(diagnoses[0][0], admitted, days, rng)[-2:])
    sheet.y += sheet.line * 0.5
    x = s.left
    for label, d, word, name in (("入院日期：", admitted, ("自", "起"), "admission_date"),
                                 ("出院日期：", discharged, ("至", "止"), "discharge_date")):  # fmt: skip
        bb = sheet.text(x, label)
        ax = sheet.text(bb[2] + 60, word[0])[2]
        vb = sheet.text(ax + 40, date_text(d, rng, with_time=False), name=name, kind=D, value=d.isoformat())
        sheet.text(vb[2] + 60, word[1])
        sheet.y += sheet.line
        if name == "admission_date":
            bb = sheet.text(s.left + 520, "共住院")
            vb = sheet.text(bb[2] + 10, str(days), name="days_in_hospital", kind=INT)
            sheet.text(vb[2] + 10, "天")
            sheet.y += sheet.line
    sheet.y += sheet.line * 0.5
    sheet.paragraph("治疗结果：", [rng.choice(["治愈", "好转", "未愈", "好转出院"])])
    sheet.paragraph("出院后注意事项：", clinical.numbered(clinical.advice(rng), rng), hanging=False)
    sheet.y += sheet.line * 2
    doctor = inc.doctor if rng.random() < 0.6 else None
    labels = [rng.choice(["主任医生：", "医师签名：", "主治医师："])]
    sheet.signatures(labels, doctor, date_text(discharged, rng, with_time=False))


def _grid(sheet: Sheet, claim: ClaimTruth, diagnoses: list[tuple[str, str]]) -> None:
    """The ruled certificate: who in a grid, the diagnoses in a large cell, the advice, the doctor."""
    rng, inc, p, s = sheet.rng, claim.incident, claim.insured, sheet.style
    title_block(sheet, inc.hospital, rng.choice(["诊断证明书", "疾病诊断证明书", "诊断证明"]))
    age = p.age_on(inc.incident_date)
    visit = inc.admission_date or inc.incident_date
    cells = [
        [("姓名", p.name, "patient_name", T, None), ("性别", p.sex, "sex", T, None),
         ("年龄", f"{age}岁", "age", INT, str(age))],
        [("科别", inc.department, "department", T, None),
         ("住院号" if inc.admission_date else "门诊号", inc.hospital_number, "hospital_number", T, None),
         ("就诊日期" if not inc.admission_date else "入院日期", date_text(visit, rng, with_time=False),
          "visit_date" if not inc.admission_date else "admission_date", D, visit.isoformat())],
    ]  # fmt: skip
    width = s.right - s.left
    lw, vw = width * 0.12, width / 3 - width * 0.12
    h = s.size * 2.1
    xs, ys = sheet.c.grid(s.left, sheet.y, [lw, vw] * 3, [h, h], INK, 2)
    for i, row in enumerate(cells):
        for j, (label, value, name, kind, truth) in enumerate(row):
            y = ys[i] + (h - s.size) / 2 - 2
            sheet.c.text(xs[2 * j] + 6, y, label, sheet.c.fit_size(label, s.size, lw - 10), face=s.label_face)
            size = sheet.c.fit_size(value, s.size, vw - 14, s.face)
            sheet.c.text(xs[2 * j + 1] + 8, y, value, size, face=s.face, name=name, kind=kind, value=truth)  # type: ignore[arg-type]
    sheet.y = ys[-1] + s.size
    top = sheet.y
    sheet.y += s.size * 0.6
    sheet.diagnoses(rng.choice(["诊断：", "临床诊断：", "诊断意见："]), diagnoses, record=True,
                    layout=rng.choice(["inline", "stacked"]), fill=BLUE_INK)  # fmt: skip
    sheet.y += sheet.line
    days = rng.choice([3, 7, 14, 30])
    sheet.paragraph(
        "建议：", [rng.choice([f"休息{days}天。", f"全休{days}天，门诊随访。", "注意休息，定期复查。"])]
    )
    sheet.y += sheet.line * 2
    sheet.c.rect(s.left, top, s.right, sheet.y, INK, 2)
    sheet.y += sheet.line
    sheet.signatures([rng.choice(["医师签名：", "医生签字：", "经治医师："])], inc.doctor,
                     date_text(inc.incident_date, rng, with_time=False))  # fmt: skip
    sheet.paragraph("注：", ["本证明仅作病情证明，涂改无效，需加盖医院公章。"])
