"""Discharge records (出院记录 / 出院小结) as hospitals print them: free text on A4, one or two pages.

Every hospital's system prints its own way, so a record draws a house style: the title block (the
institution's name, letter-spaced or not, with an English line, a logo or its second name in
brackets, then 出院记录 / 出院小结), a header of the stay (inline label-value rows, two columns, a
ruled table, or bilingual labels with underlined values), then the sections as paragraphs
(入院情况, 入院诊断, 诊疗经过, 出院诊断, 出院情况, 出院医嘱) with numbered diagnosis lists, the
signature lines and a page footer. Dates print as 2019-11-03, 2019年11月3日 or with the hour.
The truth (fields with boxes) is recorded as each value is drawn; the original single layout
(`forms.discharge_summary`) stays one of the variants.
"""

from __future__ import annotations

import datetime as dt
import random

from pipeline.records import DocType, LineItem
from synth import clinical, forms
from synth.render import INK, Canvas
from synth.sheet import A4, INT, D, Overflow, Sheet, Style, T
from synth.truth import ClaimTruth, DocumentTruth, IncidentTruth

HEADERS = ("inline", "columns", "table", "bilingual")
LAYOUTS = ("discharge_summary", *(f"discharge_{h}" for h in HEADERS))
"""`discharge_summary` is the original layout; the others are free-text records by header style."""
TWO_PAGE_SHARE = 0.25


def plan(claim_id: str, incident: IncidentTruth, document: DocumentTruth) -> list[DocumentTruth]:
    """The files of one discharge record: its layout and, for long records, a second page."""
    rng = clinical.record_rng(claim_id, incident.hospital_number, "discharge-plan")
    layout = rng.choice(LAYOUTS[:1] + LAYOUTS[1:] * 3)
    pages = 2 if layout != LAYOUTS[0] and rng.random() < TWO_PAGE_SHARE else 1
    if pages == 1:
        return [document.model_copy(update={"layout": layout})]
    stem, ext = document.file.rsplit(".", 1)
    return [
        document.model_copy(
            update={"layout": layout, "file": f"{stem}_p{p}.{ext}", "page_number": p, "page_count": pages}
        )
        for p in range(1, pages + 1)
    ]


def date_text(d: dt.date, rng: random.Random, with_time: bool | None = None) -> str:
    """A date as record systems print it, sometimes with the hour."""
    base = rng.choice(
        [
            f"{d:%Y-%m-%d}",
            f"{d:%Y年%m月%d日}",
            f"{d.year}年{d.month}月{d.day}日",
            f"{d:%Y/%m/%d}",
            f"{d:%Y.%m.%d}",
        ]
    )
    if with_time is None:
        with_time = rng.random() < 0.35
    if not with_time:
        return base
    h, m = rng.randint(7, 18), rng.choice([0, 5, 12, 20, 30, 45, 52])
    if "年" in base:
        return base + rng.choice([f"{h:02d}时{m:02d}分", f" {h}点{m:02d}分", f" {h:02d}:{m:02d}"])
    return f"{base} {h:02d}:{m:02d}"


def title_block(sheet: Sheet, hospital: str, title: str, record: bool = True) -> None:
    """The institution's name as a heading (the `hospital` field), then the record's title."""
    rng, c = sheet.rng, sheet.c
    size = rng.choice([34, 38, 42, 46])
    shown = " ".join(hospital) if rng.random() < 0.25 else hospital
    if rng.random() < 0.25:  # the hospital's logo left of its name
        w = c.text_width(shown, size, "serif")
        cx, cy = A4[0] / 2 - w / 2 - 70, sheet.y + size / 2
        c.draw.ellipse([cx - 40, cy - 40, cx + 40, cy + 40], outline=(40, 90, 150), width=4)
        c.draw.rectangle([cx - 8, cy - 24, cx + 8, cy + 24], fill=(40, 90, 150))
        c.draw.rectangle([cx - 24, cy - 8, cx + 24, cy + 8], fill=(40, 90, 150))
    sheet.centered(shown, size, name="hospital" if record else None, value=hospital)
    sheet.y += size * 1.35
    extra = rng.random()
    if extra < 0.2:
        sheet.centered(_english(hospital, rng), 18, face="sans")
        sheet.y += 30
    elif extra < 0.35:
        sheet.centered(f"（{_alias(hospital, rng)}）", 26)
        sheet.y += 40
    tsize = rng.choice([30, 34, 38, 42])
    spaced = " ".join(title) if rng.random() < 0.4 else title
    sheet.centered(spaced, tsize, face=rng.choice(["serif", "sans"]))
    sheet.y += tsize * 1.5
    if rng.random() < 0.5:
        sheet.c.hline(sheet.style.left - 10, sheet.style.right + 10, sheet.y - 8, INK, rng.choice([1, 2, 3]))
        sheet.y += 10


def _english(hospital: str, rng: random.Random) -> str:
    words = ["PEOPLE'S HOSPITAL", "CENTRAL HOSPITAL", "AFFILIATED HOSPITAL", "GENERAL HOSPITAL"]
    city = "".join(
        rng.choice("BCDGHJKLMNPQSTWXYZ") + rng.choice(["ING", "AN", "ONG", "U", "EN"]) for _ in range(2)
    )
    return f"{city} {rng.choice(words)}"


def _alias(hospital: str, rng: random.Random) -> str:
    city = hospital[:3] if hospital[2] in "市省" else hospital[:2]
    return rng.choice([f"{city}第{rng.choice('一二三四五')}人民医院", f"{city}肿瘤医院", f"{city}医学中心"])


class Record:
    """What one discharge record says: the stay, the wording of its diagnoses and its prose."""

    def __init__(self, claim: ClaimTruth, rng: random.Random, long: bool = False) -> None:
        inc = claim.incident
        self.claim, self.inc, self.p = claim, inc, claim.insured
        self.admitted = inc.admission_date or inc.incident_date
        self.discharged = inc.discharge_date or inc.incident_date
        self.days = (self.discharged - self.admitted).days
        self.age = self.p.age_on(self.admitted)
        words = clinical.record_rng(claim.claim_id, inc.hospital_number, "diagnosis-wording")
        self.diagnoses = [
            (code, clinical.printed_diagnosis(code, name, words)) for code, name in inc.diagnoses
        ]
        principal = inc.diagnoses[0][0]
        self.admission_dx = [
            (c, n if rng.random() < 0.7 else n + rng.choice(["？", "待查", "（待排）"]))
            for c, n in self.diagnoses
        ]
        self.story = clinical.admission_story(principal, self.age, self.p.sex, self.admitted, rng)
        self.course = clinical.course(principal, self.admitted, self.days, rng)
        if long:  # a record of two pages: the course runs on with results, and over the page
            extra = [
                *clinical.labs(rng),
                *clinical.labs(rng),
                *clinical.admission_story(principal, self.age, self.p.sex, self.admitted, rng)[1:],
            ]
            self.course[1:1] = rng.sample(extra, k=min(len(extra), rng.randint(8, 14)))
        self.state = clinical.discharge_state(rng)
        self.advice = clinical.numbered(clinical.advice(rng), rng)
        self.department = inc.department + (
            rng.choice(["一病区", "二病区", "病区"]) if rng.random() < 0.2 else ""
        )

    def shorten(self) -> bool:
        """Drop one sentence of the longest prose; False when nothing is left to drop."""
        parts = [p for p in (self.course, self.story) if len(p) > 2]
        if not parts:
            return False
        longest = max(parts, key=lambda p: sum(map(len, p)))
        del longest[-2]
        return True


def draw(
    claim: ClaimTruth, doc: DocumentTruth, rng: random.Random
) -> tuple[Canvas, list[LineItem], list[str]]:
    """Page `doc.page_number` of the claim's discharge record, in the layout its plan chose."""
    if doc.layout == LAYOUTS[0]:
        return forms.discharge_summary(claim, doc, rng)
    header = doc.layout.removeprefix("discharge_")
    seed = clinical.record_rng(claim.claim_id, claim.incident.hospital_number, "discharge").random()
    content = Record(claim, random.Random(seed), long=doc.page_count > 1)
    for _ in range(40):
        try:
            pages = _compose(content, header, doc.page_count, random.Random(seed))
            return pages[doc.page_number - 1], [], []
        except Overflow:
            if not content.shorten():
                break
    raise ValueError(f"{doc.file}: the record does not fit {doc.page_count} page(s)")


def _compose(r: Record, header: str, pages: int, rng: random.Random) -> list[Canvas]:
    style = Style.draw(rng)
    title = rng.choice(["出院记录", "出院记录", "出院小结", "出院小结"])
    sheet = Sheet(style, pages, rng, running_header=lambda s: _running_header(s, r))
    title_block(sheet, r.inc.hospital, title)
    {"inline": _inline, "columns": _columns, "table": _table, "bilingual": _bilingual}[header](sheet, r)
    sheet.y += style.size * 0.6
    codes = rng.choice(["", "", "", "after", "before"])
    dx_layout = rng.choice(["inline", "stacked", "below"])
    order = rng.random()
    sheet.paragraph(rng.choice(["入院情况：", "入院情况：", "入院时情况：", "入院时简要病史："]), r.story)
    sheet.diagnoses(
        rng.choice(["入院诊断：", "入院诊断：", "初步诊断："]), r.admission_dx, record=False, layout=dx_layout
    )
    if order < 0.2:  # some systems print the discharge diagnoses before the course
        sheet.diagnoses("出院诊断：", r.diagnoses, record=True, layout=dx_layout, codes=codes)
    sheet.paragraph(rng.choice(["诊疗经过：", "诊疗经过：", "住院经过：", "治疗经过："]), r.course)
    if pages == 2 and len(sheet.canvases) == 1:
        sheet.new_page()  # a course that did not run over the page: the rest goes on the second
    if order >= 0.2:
        sheet.diagnoses("出院诊断：", r.diagnoses, record=True, layout=dx_layout, codes=codes)
    sheet.paragraph(rng.choice(["出院情况：", "出院时情况：", "出院情况："]), r.state)
    sheet.paragraph(
        rng.choice(["出院医嘱：", "出院医嘱：", "出院医嘱及注意事项："]), r.advice, hanging=rng.random() < 0.6
    )
    labels = rng.choice(
        [
            ["医师签名："],
            ["住院医师签字：", "主治医师签字："],
            ["主治医师："],
            ["医师签名：", "上级医师签名："],
        ]
    )
    when = date_text(r.discharged, rng, with_time=False) if rng.random() < 0.5 else None
    sheet.signatures(labels, r.inc.doctor if rng.random() < 0.6 else None, when)
    seal = None
    if rng.random() < 0.5:

        def seal(c: Canvas, g: random.Random) -> None:
            c.seal(g.randint(760, 980), g.randint(900, 1450), 90, r.inc.hospital, "病案管理专用章", rng=g)

    return sheet.finish(seal)


def _running_header(sheet: Sheet, r: Record) -> None:
    """The top of a continuation page: the hospital in small print and who the record is about."""
    s = sheet.style
    sheet.centered(r.inc.hospital, 26, name="hospital")
    sheet.y += 44
    x = sheet.pair(s.left, "姓名：", r.p.name, "patient_name")
    sheet.pair(max(x + 60, s.left + 360), rng_label(sheet.rng), r.inc.hospital_number, "hospital_number")
    sheet.y += sheet.line
    sheet.c.hline(s.left - 10, s.right + 10, sheet.y, INK, 1)
    sheet.y += 16


def rng_label(rng: random.Random) -> str:
    return rng.choice(["住院号：", "病案号：", "住院号："])


def _stay(r: Record, rng: random.Random) -> dict[str, tuple[str, str, str | None, object, str | None]]:
    """Every header cell a record may print: label, printed value, truth name, kind, truth value."""
    age = f"{r.age}{rng.choice(['岁', '岁', ' 岁', ''])}"
    days = rng.choice([f"{r.days}天", f"{r.days}", f"{r.days} 天"])
    return {
        "name": (rng.choice(["姓名：", "姓名：", "患者姓名："]), r.p.name, "patient_name", T, None),
        "sex": ("性别：", r.p.sex, "sex", T, None),
        "age": ("年龄：", age, "age", INT, str(r.age)),
        "dept": (rng.choice(["科室：", "科别：", "科室："]), r.department, "department", T, None),
        "number": (rng_label(rng), r.inc.hospital_number, "hospital_number", T, None),
        "bed": ("床号：", f"{rng.randint(1, 60)}{rng.choice(['', '床'])}", None, T, None),
        "in": (
            rng.choice(["入院日期：", "入院时间："]),
            date_text(r.admitted, rng),
            "admission_date",
            D,
            r.admitted.isoformat(),
        ),
        "out": (
            rng.choice(["出院日期：", "出院时间："]),
            date_text(r.discharged, rng),
            "discharge_date",
            D,
            r.discharged.isoformat(),
        ),
        "days": (
            rng.choice(["住院天数：", "住院天数：", "实际住院天数："]),
            days,
            "days_in_hospital",
            INT,
            str(r.days),
        ),
        "job": ("职业：", rng.choice(["职员", "农民", "退休", "其他", "自由职业"]), None, T, None),
    }


def _inline(sheet: Sheet, r: Record) -> None:
    """Rows of pairs: 科室 / 病案号 over a rule, 姓名 性别 年龄 职业, then the dates one a line."""
    rng = sheet.rng
    c = _stay(r, rng)
    rows = [[c["dept"], c["number"]], [c["name"], c["sex"], c["age"], c["job"]], [c["in"]], [c["out"]]]
    if rng.random() < 0.5:
        rows[2].append(c["days"])
    elif rng.random() < 0.5:
        rows[1][3] = c["bed"]
    if rng.random() < 0.4:
        rows = [rows[1], [c["dept"], c["bed"], c["number"]], [c["in"], c["out"], c["days"]]]
    sheet.rows(rows)


def _columns(sheet: Sheet, r: Record) -> None:
    """科室 床号 住院号 on one line, then 姓名/性别/年龄 left and 入院/出院日期/住院天数 right."""
    rng = sheet.rng
    c = _stay(r, rng)
    sheet.rows([[c["dept"], c["bed"], c["number"]]])
    spaced = rng.random() < 0.5
    left = [c["name"], c["sex"], c["age"]]
    right = [c["in"], c["out"], c["days"]]
    s = sheet.style
    for a, b in zip(left, right, strict=True):
        sheet.need(sheet.line)
        label = a[0] if not spaced or len(a[0]) != 3 else f"{a[0][0]}  {a[0][1]}{a[0][2]}"
        sheet.pair(s.left + 40, label, a[1], a[2], a[3], truth=a[4])  # type: ignore[arg-type]
        sheet.pair(s.left + (s.right - s.left) * 0.52, b[0], b[1], b[2], b[3], truth=b[4])  # type: ignore[arg-type]
        sheet.y += sheet.line


def _table(sheet: Sheet, r: Record) -> None:
    """A ruled grid: label cells and value cells, three pairs a row."""
    rng = sheet.rng
    c = _stay(r, rng)
    cells = [
        [c["name"], c["sex"], c["age"]],
        [c["dept"], c["bed"], c["number"]],
        [c["in"], c["out"], c["days"]],
    ]
    s = sheet.style
    width = s.right - s.left
    label_w, value_w = width * 0.13, width / 3 - width * 0.13
    h = s.size * 2.0
    xs, ys = sheet.c.grid(s.left, sheet.y, [label_w, value_w] * 3, [h] * len(cells), INK, 2)
    for i, row in enumerate(cells):
        for j, (label, value, name, kind, truth) in enumerate(row):
            y = ys[i] + (h - s.size) / 2 - 2
            lsize = sheet.c.fit_size(label.rstrip("：:"), s.size, label_w - 10)
            sheet.c.text(xs[2 * j] + 6, y, label.rstrip("：:"), lsize, face=s.label_face)
            vsize = sheet.c.fit_size(value, s.size, value_w - 12, s.face)
            sheet.c.text(xs[2 * j + 1] + 8, y, value, vsize, face=s.face, name=name, kind=kind, value=truth)  # type: ignore[arg-type]
    sheet.y = ys[-1] + s.size


def _bilingual(sheet: Sheet, r: Record) -> None:
    """Labels with their English (姓名(Name)：), values on underlines, dates with the hour."""
    rng = sheet.rng
    c = _stay(r, rng)
    english = {
        "name": "Name", "sex": "Gender", "age": "Age", "dept": "Section Office", "number": "Hospital No",
        "bed": "Bed No", "in": "In Time", "out": "Out Time", "days": "Days",
    }  # fmt: skip
    rows = [["name", "sex", "age"], ["number", "bed"], ["dept"], ["in", "out"]]
    if rng.random() < 0.5:
        rows[1].append("days")
    s = sheet.style
    for row in rows:
        sheet.need(sheet.line)
        step = (s.right - s.left) / len(row)
        for k, key in enumerate(row):
            label, value, name, kind, truth = c[key]
            if key in ("in", "out"):
                d = r.admitted if key == "in" else r.discharged
                value = date_text(d, rng, with_time=True)
            shown = f"{label.rstrip('：')}({english[key]})："
            sheet.pair(s.left + k * step, shown, value, name, kind, truth=truth, underline=step * 0.35)  # type: ignore[arg-type]
        sheet.y += sheet.line * 1.15


def is_record(doc: DocumentTruth) -> bool:
    return doc.doc_type is DocType.DISCHARGE_SUMMARY


def plan_records(
    claim_id: str, incident: IncidentTruth, documents: list[DocumentTruth]
) -> list[DocumentTruth]:
    """A claim's files with the layouts (and pages) of its discharge record and certificate chosen."""
    from synth import certificate

    out: list[DocumentTruth] = []
    for doc in documents:
        if doc.doc_type is DocType.DISCHARGE_SUMMARY:
            out.extend(plan(claim_id, incident, doc))
        elif doc.doc_type is DocType.DIAGNOSIS_CERTIFICATE:
            out.extend(certificate.plan(claim_id, incident, doc))
        else:
            out.append(doc)
    return out
