"""Clinical wording as hospitals print it: diagnoses with side, stage and treatment, and the prose of
a discharge record (出院记录): 入院情况, 诊疗经过, 出院情况, 出院医嘱.

The catalogue (`synth.catalog`) names a diagnosis by its ICD-10 title (`乳腺恶性肿瘤`); a record
writes what the doctor wrote: `左乳浸润性导管癌（T2N1M0 ⅡB期）术后化疗后`, `右肾结石伴积水`,
`高血压病3级（很高危）`. `printed_diagnosis` composes such wordings from parts (laterality, site,
histology, TNM and stage, treatment status, a `伴…` complication) so the variety is general, not a
list of copied lines; every wording keeps the catalogue's code as its truth, and the extractor's
dictionary maps it back (tests/synth/test_clinical.py proves it for every code).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

Rng = random.Random

ROMAN = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ")
LATIN = ("I", "II", "III", "IV")


def _side(rng: Rng, both: bool = True) -> str:
    return rng.choice(["左", "右", "左", "右", *(["双侧"] if both else [])])


def _stage(rng: Rng) -> str:
    """A TNM group and stage as records print them: `（T2N1M0 ⅡB期）`, `ⅢA期`, `（cT3N2M0，Ⅲ期）`."""
    t, n, m = rng.randint(1, 4), rng.randint(0, 3), rng.choice([0, 0, 0, 1])
    k = 3 if m else min(3, max(0, (t + n) // 2 - 1))
    glyphs = ROMAN if rng.random() < 0.6 else LATIN
    stage = glyphs[k] + ("" if k == 3 else rng.choice(["", "A", "B"])) + "期"
    tnm = f"{rng.choice(['', '', 'c', 'p'])}T{t}N{n}M{m}"
    open_, close = ("（", "）") if rng.random() < 0.7 else ("(", ")")
    return rng.choice(
        [
            f"{open_}{tnm}{close}{stage}",
            f"{open_}{tnm} {stage}{close}",
            f"{open_}{tnm}，{stage}{close}",
            stage,
            f"{open_}{stage}{close}",
        ]
    )


def _status(rng: Rng, surgery: bool = True) -> str:
    """Where the treatment stands: 术后, 化疗后, 第3周期化疗, 新辅助化疗后 …"""
    options = ["", "", "化疗后", "放疗后", f"第{rng.randint(1, 8)}周期化疗", f"第{rng.randint(1, 6)}次化疗"]
    if surgery:
        options += ["术后", "术后化疗后", "术后放疗后", "新辅助化疗后"]
    return rng.choice(options)


def _cancer(sites: Callable[[Rng], str], surgery: bool = True, spread: tuple[str, ...] = ()) -> Callable:
    def make(rng: Rng) -> str:
        text = sites(rng)
        if rng.random() < 0.45:
            text += _stage(rng)
        text += _status(rng, surgery)
        if spread and rng.random() < 0.25:
            text += "伴" + rng.choice(spread)
        return text

    return make


def _lung(rng: Rng) -> str:
    side = _side(rng, both=False)  # no lobe: 上叶 / 下叶 change the ICD-10 subcategory
    return rng.choice(
        [
            "肺恶性肿瘤",
            f"{side}肺恶性肿瘤",
            f"{side}肺癌",
            f"{side}肺腺癌",
            f"{side}肺鳞状细胞癌",
            f"{side}肺小细胞肺癌",
            f"{side}周围型肺癌",
        ]
    )


def _breast(rng: Rng) -> str:
    side = _side(rng, both=False)
    return rng.choice(
        [
            "乳腺恶性肿瘤",
            f"{side}乳腺恶性肿瘤",
            f"{side}乳癌",
            f"{side}乳腺癌",
            f"{side}乳腺浸润性导管癌",
            f"{side}乳腺浸润性癌",
        ]
    )


def _stomach(rng: Rng) -> str:
    return rng.choice(["胃恶性肿瘤", "胃癌", "胃腺癌", "胃低分化腺癌"])  # no 胃窦 / 贲门: other codes


def _colon(rng: Rng) -> str:
    return rng.choice(["结肠恶性肿瘤", "结肠癌", "结肠腺癌"])


def _plain(*names: str) -> Callable[[Rng], str]:
    return lambda rng: rng.choice(names)


def _sided(*names: str, extra: tuple[str, ...] = ()) -> Callable[[Rng], str]:
    def make(rng: Rng) -> str:
        text = _side(rng, both=False) + rng.choice(names)
        if extra and rng.random() < 0.35:
            text += rng.choice(extra)
        return text

    return make


WORDINGS: dict[str, Callable[[Rng], str]] = {
    # cancers: site, histology, stage, treatment, spread
    "C34.9": _cancer(_lung, spread=("骨转移", "脑转移", "纵隔淋巴结转移", "胸腔积液")),
    "C50.9": _cancer(_breast, spread=("腋窝淋巴结转移", "骨转移", "肝转移")),
    "C16.9": _cancer(_stomach, spread=("幽门梗阻", "腹膜转移", "贫血")),
    "C18.9": _cancer(_colon, spread=("肝转移", "不全性肠梗阻")),
    # cardiovascular, neurological
    "I21.9": _plain(
        "急性心肌梗死", "急性心肌梗死（Killip Ⅰ级）", "急性心肌梗死PCI术后", "急性心肌梗死伴心力衰竭"
    ),
    "I63.9": _plain("脑梗死", "急性脑梗死", "多发性脑梗死", "急性脑梗死伴右侧肢体偏瘫", "脑梗死（急性期）"),
    "I20.0": _plain("不稳定型心绞痛", "不稳定性心绞痛", "不稳定型心绞痛（CCS Ⅲ级）", "不稳定型心绞痛PCI术后"),
    "I10": _plain("原发性高血压", "高血压病", "高血压病2级（高危）", "高血压病3级（很高危）", "高血压3级"),
    # common inpatient diagnoses
    "J18.9": _plain("肺炎", "社区获得性肺炎", "肺炎（重症）", "社区获得性肺炎（非重症）"),
    "K35.8": _plain("急性阑尾炎", "急性化脓性阑尾炎", "急性坏疽性阑尾炎"),
    "K80.2": _plain("胆囊结石", "胆囊多发结石", "胆囊结石（多发）"),
    "N20.0": _sided("肾结石", "肾多发结石"),
    "E11.9": _plain("2型糖尿病", "2型糖尿病（血糖控制不佳）", "2型糖尿病伴血糖控制不佳"),
    "E78.5": _plain("高脂血症"),
    "K76.0": _plain("脂肪肝", "脂肪肝（轻度）", "非酒精性脂肪性肝病"),
    # injuries: side and fracture form
    "S52.5": _sided("桡骨下端骨折", "桡骨远端骨折", "桡骨远端粉碎性骨折", extra=("术后", "内固定术后")),
    "S82.6": _sided("外踝骨折", "外踝撕脱性骨折", extra=("术后", "内固定术后")),
    "S93.4": _sided("踝关节扭伤", "踝关节扭伤"),
    "S61.0": _sided("手指开放性伤口", "手指开放性损伤"),
    "S01.8": _plain("头皮裂伤", "头皮挫裂伤", "头皮裂伤（清创缝合术后）"),
}
"""Printed wordings by catalogue code; a code not listed prints its catalogue name."""


def printed_diagnosis(code: str, name: str, rng: Rng) -> str:
    """How a record writes the diagnosis `name` (ICD-10 `code`): often not the catalogue's title."""
    make = WORDINGS.get(code)
    if make is None or rng.random() < 0.2:
        return name
    return make(rng)


def record_rng(claim_id: str, hospital_number: str, what: str) -> Rng:
    """A random stream of one claim's medical records, the same for every paper that prints them."""
    return random.Random(f"{claim_id}:{hospital_number}:{what}")


# --- the prose of a record -----------------------------------------------------------------------

COMPLAINTS: dict[str, tuple[str, ...]] = {
    "J": ("咳嗽、咳痰", "发热伴咳嗽", "咳嗽、气促"),
    "K35": ("转移性右下腹痛", "右下腹痛伴发热"),
    "K80": ("反复右上腹痛", "右上腹痛伴恶心"),
    "K": ("上腹部不适", "腹痛、腹胀"),
    "I2": ("胸闷、胸痛", "反复胸痛", "活动后胸闷"),
    "I6": ("言语不清伴右侧肢体无力", "头晕、肢体麻木"),
    "I": ("头晕、头痛", "胸闷、心悸"),
    "N": ("腰痛", "左侧腰腹部绞痛", "肉眼血尿"),
    "E": ("口干、多饮、多尿", "血糖升高"),
    "C34": ("咳嗽、痰中带血", "确诊肺癌后返院化疗", "胸痛"),
    "C50": ("发现乳房肿物", "乳腺癌术后返院化疗", "确诊乳腺癌后返院治疗"),
    "C1": ("上腹部隐痛不适", "便血、大便习惯改变", "确诊后返院化疗"),
    "S": ("外伤后疼痛、活动受限", "摔伤后肿痛", "外伤后出血"),
}
PROCEDURES: dict[str, tuple[str, ...]] = {
    "K35": ("腹腔镜下阑尾切除术",),
    "K80": ("腹腔镜下胆囊切除术",),
    "N20": ("输尿管镜下钬激光碎石术", "经皮肾镜碎石取石术"),
    "I2": ("冠状动脉造影术+支架植入术", "冠状动脉造影术"),
    "C34": ("胸腔镜下肺叶切除术", "静脉输液港植入术"),
    "C50": ("乳腺癌改良根治术", "静脉输液港植入术"),
    "C16": ("腹腔镜下胃癌根治术",),
    "C18": ("腹腔镜下结肠癌根治术",),
    "S52": ("切开复位内固定术",),
    "S82": ("切开复位钢板内固定术",),
}
REGIMENS = ("TC方案", "AC-T方案", "XELOX方案", "FOLFOX方案", "依托泊苷+顺铂方案", "紫杉醇+卡铂方案")
ANAESTHESIA = ("全麻", "局麻", "腰硬联合麻醉", "臂丛麻醉")


def _by_code(table: dict[str, tuple[str, ...]], code: str) -> tuple[str, ...]:
    for k in sorted(table, key=len, reverse=True):
        if code.startswith(k):
            return table[k]
    return ()


def vitals(rng: Rng) -> str:
    sep = rng.choice(["，", "；", "  "])
    return sep.join(
        [
            f"T：{rng.uniform(36.2, 38.6):.1f}℃",
            f"P：{rng.randint(62, 112)}次/分",
            f"R：{rng.randint(14, 24)}次/分",
            f"BP：{rng.randint(100, 160)}/{rng.randint(60, 98)}mmHg",
        ]
    )


def labs(rng: Rng) -> list[str]:
    """Sentences of laboratory results, as pasted into the course of a record."""
    return [
        f"血常规：白细胞{rng.uniform(2.5, 15):.2f}×10^9/L，中性粒细胞百分比{rng.uniform(40, 90):.1f}%，"
        f"血红蛋白{rng.randint(80, 160)}g/L，血小板{rng.randint(90, 380)}×10^9/L。",
        f"肝功能：谷丙转氨酶{rng.randint(8, 90)}U/L，谷草转氨酶{rng.randint(10, 80)}U/L，"
        f"总胆红素{rng.uniform(4, 30):.1f}μmol/L，白蛋白{rng.uniform(28, 48):.1f}g/L。",
        f"肾功能：肌酐{rng.randint(40, 130)}μmol/L，尿素{rng.uniform(2, 9):.2f}mmol/L；"
        f"电解质：钾{rng.uniform(3.2, 5.2):.2f}mmol/L，钠{rng.randint(131, 146)}mmol/L。",
        f"C反应蛋白{rng.uniform(0.5, 90):.2f}mg/L，降钙素原{rng.uniform(0.02, 2):.2f}ng/mL。",
        f"凝血功能：凝血酶原时间{rng.uniform(10, 16):.1f}sec，D-二聚体{rng.uniform(0.1, 3):.2f}mg/L。",
    ]


EXAM = (
    "神志清楚，精神可，发育正常，营养中等，查体合作。",
    "全身皮肤黏膜无黄染，浅表淋巴结未触及肿大。",
    "双肺呼吸音清，未闻及干湿性啰音。",
    "心律齐，各瓣膜听诊区未闻及病理性杂音。",
    "腹平软，无压痛及反跳痛，肝脾肋下未触及，移动性浊音阴性。",
    "双下肢无水肿，生理反射存在，病理反射未引出。",
)
HISTORY = (
    "既往体健，否认“高血压”、“糖尿病”、“冠心病”病史。",
    "否认肝炎、结核等传染病史，否认外伤史及输血史。",
    "否认药物及食物过敏史，预防接种史不详。",
)


def admission_story(code: str, age: int, sex: str, admitted: dt.date, rng: Rng) -> list[str]:
    """入院情况: complaint, history, examination: sentences, so a layout can shorten it to fit."""
    complaint = rng.choice(_by_code(COMPLAINTS, code) or ("不适",))
    span = rng.choice(["3天", "1周", "2周", "1月余", "2个月", "半年", "3月余"])
    out = [
        rng.choice(
            [
                f"患者，{sex}，{age}岁，因“{complaint}{span}”于{admitted:%Y-%m-%d}入院。",
                f"患者主因{complaint}{span}入院。",
                f"患者{age}岁{sex}性，以“{complaint}{span}”为主诉入院。",
            ]
        ),
        f"入院查体：{vitals(rng)}。",
        *rng.sample(EXAM, k=rng.randint(2, len(EXAM))),
        *rng.sample(HISTORY, k=rng.randint(1, len(HISTORY))),
    ]
    if rng.random() < 0.5:
        out.append("辅助检查：" + rng.choice(labs(rng)))
    return out


def course(code: str, admitted: dt.date, days: int, rng: Rng) -> list[str]:
    """诊疗经过: tests, the operation or regimen with its date, and how it went."""
    out = ["入院后完善相关检查，" + rng.choice(["", "", "明确诊断，"]) + "排除禁忌。"]
    out += rng.sample(labs(rng), k=rng.randint(1, 4))
    procs = _by_code(PROCEDURES, code)
    when = admitted + dt.timedelta(days=min(max(days - 2, 1), rng.randint(1, 3)))
    date = rng.choice(
        [f"{when:%Y-%m-%d}", f"{when:%Y年%m月%d日}", f"{when.year}年{when.month}月{when.day}日"]
    )
    if procs and rng.random() < 0.75:
        out.append(
            f"于{date}在{rng.choice(ANAESTHESIA)}下行{rng.choice(procs)}，手术顺利，术后予抗感染、补液、止痛等治疗。"
        )
    if code.startswith("C"):
        out.append(f"于{date}给予{rng.choice(REGIMENS)}化疗{rng.randint(1, 6)}周期，过程顺利，化疗反应轻微。")
    out.append(
        rng.choice(
            [
                "予抗感染、补液、营养支持等对症支持治疗，病情好转。",
                "经治疗后患者症状明显缓解，复查未见明显异常，请示上级医师后准予出院。",
                "目前患者病情稳定，患者及家属要求出院，详细告知院外注意事项，予以办理。",
            ]
        )
    )
    return out


def discharge_state(rng: Rng) -> list[str]:
    """出院情况."""
    return [
        rng.choice(["患者一般情况可，", "精神可，睡眠可，饮食可，", "神志清，精神可，生命体征平稳，"])
        + rng.choice(["无明显不适。", "二便正常。", "切口愈合良好，无红肿渗出。", "未诉特殊不适。"]),
        *([f"查体：{vitals(rng)}。"] if rng.random() < 0.4 else []),
    ]


ADVICE = (
    "注意休息，合理饮食，避免劳累",
    "按时服药，定期复查血常规、肝肾功能",
    "出院后两周门诊复查",
    "保持切口清洁干燥，术后14天拆线",
    "如有不适，及时就诊",
    "下周期化疗前1周返院复查",
    "低盐低脂饮食，监测血压、血糖",
    "病情变化随诊",
)


def advice(rng: Rng) -> list[str]:
    """出院医嘱: numbered orders."""
    return rng.sample(ADVICE, k=rng.randint(2, 5))


def numbered(items: list[str], rng: Rng, style: str | None = None) -> list[str]:
    """`1.`, `1、`, `(1)` or `①` before each item, as a record numbers its lists."""
    style = style or rng.choice(["1.", "1、", "1．", "(1)"])
    out = []
    for k, item in enumerate(items, 1):
        end = "。" if k == len(items) else rng.choice(["；", "；", "，"])
        out.append(f"({k}){item}{end}" if style == "(1)" else f"{k}{style[1:]}{item}{end}")
    return out
