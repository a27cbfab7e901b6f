"""The claimant's papers: claim application form (理赔申请书), ID card (居民身份证), bank card (银行卡).

The claim form prints `证件号码` twice, once for the claimant (申请人) and once for the insured
(被保险人), so its keys are scoped by section heading. The ticked claim type is the option whose
printed box (□) the tick covers. ID-card addresses run over several lines under `住址`; a bank card
has no labels at all, only a bank name and an embossed number that must pass the Luhn check.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

from ocr.clean import box_sides
from ocr.elements import Page, TextLine
from ocr.layout import group_rows
from pipeline.extract.base import ID_NUMBER, MONEY_2DP, line_field, pair_pages
from pipeline.extract.checks import luhn_valid
from pipeline.extract.pairing import Key, norm
from pipeline.records import ClaimType, Field, FieldKind

D, M = FieldKind.DATE, FieldKind.MONEY
APPLICANT, INSURED, INCIDENT, ACCOUNT = "申请人信息", "被保险人信息", "出险信息", "领款账户"
SECTIONS = (APPLICANT, INSURED, INCIDENT, ACCOUNT)

CLAIM_FORM_KEYS: tuple[Key, ...] = (
    Key("policy_number", ("保单号", "保单号码", "保险合同号"), pattern=r"([A-Z]{1,4}\d{6,})"),
    Key("claimant_name", ("申请人姓名",)),
    Key("relationship", ("与被保险人关系", "与被保人关系")),
    Key("claimant_id_number", ("证件号码", "身份证号码"), pattern=ID_NUMBER, section=APPLICANT),
    Key("phone", ("联系电话", "手机号码", "电话"), pattern=r"(1\d{10}|0\d{2,3}-?\d{7,8})"),
    Key("insured_name", ("被保险人姓名", "被保人姓名")),
    Key("insured_sex", ("性别",), pattern=r"([男女])", closed=True, section=INSURED),
    Key("insured_id_number", ("证件号码", "身份证号码"), pattern=ID_NUMBER, section=INSURED),
    Key("insured_birth_date", ("出生日期",), D),
    Key("incident_date", ("出险日期", "事故日期"), D),
    Key("hospital", ("就诊医院", "医院名称")),
    Key("amount_claimed", ("申请金额（元）", "申请金额", "索赔金额"), M),
    Key("diagnosis", ("诊断", "疾病名称")),
    Key("bank_name", ("开户银行", "开户行")),
    Key("account_holder", ("户名", "账户名")),
    Key("account_number", ("银行账号", "账号", "卡号"), pattern=r"(\d{12,19})"),
    Key("application_date", ("申请日期",), D),
    Key("signature", ("申请人签名",)),
    Key("statement", ("本人声明",)),
)
CLAIM_TYPE_OPTIONS = {
    "门急诊医疗": ClaimType.OUTPATIENT,
    "门诊医疗": ClaimType.OUTPATIENT,
    "住院医疗": ClaimType.INPATIENT,
    "意外医疗": ClaimType.ACCIDENT,
    "重大疾病": ClaimType.CRITICAL_ILLNESS,
}
_BOX = set("□口囗☐")
_TICK = set("√✓✔☑■VvX×")

ETHNIC_GROUPS = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
    "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
    "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)  # fmt: skip
"""The 56 民族 printed on a resident ID card."""
ETHNICITY = "(" + "|".join(sorted(ETHNIC_GROUPS, key=len, reverse=True)) + ")"

ID_CARD_KEYS: tuple[Key, ...] = (
    Key("name", ("姓名",)),
    Key("sex", ("性别",), pattern=r"([男女])", closed=True),
    Key("ethnicity", ("民族",), pattern=ETHNICITY, anywhere=True, closed=True),
    Key("birth_date", ("出生",), D),
    Key("address", ("住址",)),
    Key("id_number", ("公民身份号码", "公民身份证号码"), pattern=ID_NUMBER),
)

BANKS = (
    "中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "交通银行", "中国邮政储蓄银行",
    "中信银行", "中国光大银行", "华夏银行", "中国民生银行", "广发银行", "平安银行", "兴业银行",
    "上海浦东发展银行", "浦发银行", "北京银行", "上海银行", "江苏银行", "宁波银行",
)  # fmt: skip


def extract_claim_form(pages: Sequence[Page]) -> dict[str, Field]:
    fields = pair_pages(pages, CLAIM_FORM_KEYS, sections=SECTIONS)
    for name in ("signature", "statement"):
        fields.pop(name, None)
    ticked = claim_type(pages)
    if ticked is not None:
        fields["claim_type"] = ticked
    return fields


def claim_type(pages: Sequence[Page]) -> Field | None:
    """The ticked option: the one whose box character is missing (covered by the tick) or is a tick."""
    for page in pages:
        options = []
        for ln in page.lines:
            t = unicodedata.normalize("NFKC", ln.text).strip()
            for label, ct in CLAIM_TYPE_OPTIONS.items():
                if label in norm(t):
                    options.append((ln, label, ct, _marks(ln, label), t.find(label[0])))
        if len(options) < 2:
            continue
        ticked = [o for o in options if o[3] & _TICK]
        unboxed = [o for o in options if not o[3] & _BOX]
        pick = ticked or unboxed
        sure = 1.0 if ticked else 0.9
        if len(pick) > 1 and not ticked:
            pick, sure = _overhung(pick, options), 0.85
        if len(pick) == 1:
            ln, label, ct, _, at = pick[0]
            conf = ln.score * sure
            at = max(at, 0)
            return line_field(
                "claim_type", ln, page.number, ct.value, start=at, end=at + len(label), confidence=conf
            )
    return None


def _marks(line: TextLine, label: str) -> set[str]:
    """The character before an option's label, as read and as first read: the enhanced crop an
    unsure line is read again from can lose the thin □ that the first reading had."""
    out = set()
    for text in (line.text, line.raw_text):
        t = norm(text or "")
        at = t.find(label)
        if at > 0:
            out.add(t[at - 1])
    return out


TICK_OVERHANG = 1.08
"""A ticked option's line is this much taller than every other option's: the tick rises above the box."""


def _overhung(candidates: list[tuple], options: list[tuple]) -> list[tuple]:
    """Of several options whose box went unread, the one a tick stands over: a hand-drawn √ rises
    above the line, so its text box is the tallest of the row by a clear margin; otherwise none."""

    def height(o: tuple) -> float:  # along the box's sides: a slight tilt must not count
        return box_sides(np.asarray(o[0].box, dtype=np.float32))[1]

    tallest = max(candidates, key=height)
    others = [height(o) for o in options if o is not tallest]
    return [tallest] if others and height(tallest) >= TICK_OVERHANG * max(others) else []


def extract_id_card(pages: Sequence[Page]) -> dict[str, Field]:
    fields = pair_pages(pages, ID_CARD_KEYS)
    addr = fields.get("address")
    page = pages[0] if pages else None
    if page is not None and addr is not None and addr.box is not None:
        # continuation lines: rows under the address, starting about where it starts, before the ID row
        x0 = min(p[0] for p in addr.box)
        y1 = max(p[1] for p in addr.box)
        stop = fields.get("id_number")
        stop_y = min(p[1] for p in stop.box) if stop is not None and stop.box else page.height
        parts, confs = [str(addr.value)], [addr.confidence]
        h = y1 - min(p[1] for p in addr.box)
        for row in group_rows(page.lines):
            for ln in row:
                if ln.bbox[1] <= y1 - h / 2 or ln.bbox[1] >= stop_y - h / 2:
                    continue
                if abs(ln.bbox[0] - x0) <= 2 * h and not re.search(r"样本|公民身份", ln.text):
                    parts.append(norm(ln.text))
                    confs.append(ln.score)
        if len(parts) > 1:
            fields["address"] = addr.model_copy(
                update={"value": "".join(parts), "raw_text": "".join(parts), "confidence": min(confs)}
            )
    return fields


def extract_bank_card(pages: Sequence[Page]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for page in pages:
        best = None
        for ln in page.lines:
            t = unicodedata.normalize("NFKC", ln.text)
            if "bank_name" not in fields:
                for bank in BANKS:
                    at = norm(t).find(bank)
                    if at >= 0:
                        s = t.find(bank[0])
                        fields["bank_name"] = line_field(
                            "bank_name", ln, page.number, bank, start=s, end=s + len(bank)
                        )
                        break
            for m in re.finditer(r"\d[\d ]{11,24}\d", t):
                digits = m.group(0).replace(" ", "")
                if 12 <= len(digits) <= 19:
                    score = (luhn_valid(digits), len(digits) in (16, 19), ln.score)
                    if best is None or score > best[0]:
                        best = (score, ln, digits, m.start(), m.end())
            m = re.search(r"(?<!\d)(\d{2}\s*/\s*\d{2})(?!\d)", t)
            if m and "valid_thru" not in fields and not re.search(MONEY_2DP, t):
                fields["valid_thru"] = line_field(
                    "valid_thru", ln, page.number, m.group(1).replace(" ", ""), start=m.start(1), end=m.end(1)
                )
        if best is not None and "card_number" not in fields:
            score, ln, digits, s, e = best
            conf = ln.score * (1.0 if score[0] else 0.6)
            fields["card_number"] = line_field(
                "card_number", ln, page.number, digits, start=s, end=e, confidence=conf
            )
    if "bank_name" not in fields:
        for page in pages:
            for ln in page.lines:
                m = re.search(r"([\u4e00-\u9fff]{2,12}银行)", unicodedata.normalize("NFKC", ln.text))
                if m:
                    fields["bank_name"] = line_field(
                        "bank_name",
                        ln,
                        page.number,
                        m.group(1),
                        start=m.start(1),
                        end=m.end(1),
                        confidence=ln.score * 0.8,
                    )
                    break
            if "bank_name" in fields:
                break
    return fields
