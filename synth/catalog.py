"""What claims are made of: diagnoses (ICD-10), billable items with their 甲/乙/丙 class, hospitals.

甲类 (class A) items are fully inside the social medical insurance catalogue, 乙类 (class B) partly,
丙类 (class C) are self-paid (自费). Prices are plausible ranges in yuan, not a tariff.
"""

from __future__ import annotations

from typing import NamedTuple

from pipeline.records import ClaimType


class Diagnosis(NamedTuple):
    icd10: str
    name: str
    items: tuple[str, ...]  # item groups the treatment draws from (keys of ITEM_GROUPS)


class Item(NamedTuple):
    name: str
    category: str  # the invoice's fee category (收费项目)
    insurance_class: str  # 甲 / 乙 / 丙
    unit: str
    price: tuple[float, float]  # unit price range, yuan
    quantity: tuple[int, int]


OUTPATIENT_DIAGNOSES = [
    Diagnosis("J06.9", "急性上呼吸道感染", ("consult", "resp_drugs", "basic_lab")),
    Diagnosis("J20.9", "急性支气管炎", ("consult", "resp_drugs", "basic_lab", "chest_xray")),
    Diagnosis("K29.7", "慢性胃炎", ("consult", "gi_drugs", "basic_lab")),
    Diagnosis("K52.9", "急性胃肠炎", ("consult", "gi_drugs", "basic_lab", "infusion")),
    Diagnosis("I10", "原发性高血压", ("consult", "cardio_drugs", "basic_lab")),
    Diagnosis("E11.9", "2型糖尿病", ("consult", "diabetes_drugs", "basic_lab")),
    Diagnosis("M54.5", "腰痛", ("consult", "pain_drugs", "imaging", "physio")),
    Diagnosis("N39.0", "泌尿道感染", ("consult", "resp_drugs", "basic_lab")),
    Diagnosis("L30.9", "皮炎", ("consult", "skin_drugs")),
    Diagnosis("H10.9", "结膜炎", ("consult", "eye_drugs")),
]
INPATIENT_DIAGNOSES = [
    Diagnosis("J18.9", "肺炎", ("ward", "resp_drugs", "basic_lab", "chest_ct", "infusion")),
    Diagnosis("K35.8", "急性阑尾炎", ("ward", "surgery_minor", "basic_lab", "infusion", "gi_drugs")),
    Diagnosis("K80.2", "胆囊结石", ("ward", "surgery_minor", "basic_lab", "imaging", "infusion")),
    Diagnosis("I20.0", "不稳定型心绞痛", ("ward", "cardio_drugs", "basic_lab", "cardio_proc")),
    Diagnosis("N20.0", "肾结石", ("ward", "surgery_minor", "basic_lab", "imaging", "pain_drugs")),
    Diagnosis("E11.9", "2型糖尿病", ("ward", "diabetes_drugs", "basic_lab", "infusion")),
]
ACCIDENT_DIAGNOSES = [
    Diagnosis("S52.5", "桡骨下端骨折", ("consult", "imaging", "fracture", "pain_drugs")),
    Diagnosis("S61.0", "手指开放性伤口", ("consult", "wound", "pain_drugs")),
    Diagnosis("S93.4", "踝关节扭伤", ("consult", "imaging", "pain_drugs", "physio")),
    Diagnosis("S01.8", "头皮裂伤", ("consult", "wound", "chest_ct")),
    Diagnosis("S82.6", "外踝骨折", ("consult", "imaging", "fracture", "pain_drugs")),
]
INJURY_DIAGNOSES = {
    ClaimType.OUTPATIENT: [d for d in ACCIDENT_DIAGNOSES if d.icd10 in ("S61.0", "S93.4", "S01.8")],
    ClaimType.INPATIENT: [
        Diagnosis("S82.6", "外踝骨折", ("ward", "imaging", "fracture", "pain_drugs", "basic_lab")),
        Diagnosis("S72.0", "股骨颈骨折", ("ward", "imaging", "fracture", "basic_lab", "infusion")),
        Diagnosis("S06.0", "脑震荡", ("ward", "chest_ct", "basic_lab", "pain_drugs")),
    ],
    ClaimType.CRITICAL_ILLNESS: [
        Diagnosis("S06.3", "局灶性脑损伤", ("ward", "chest_ct", "basic_lab", "infusion")),
        Diagnosis("S36.1", "肝损伤", ("ward", "surgery_minor", "basic_lab", "imaging")),
    ],
}
"""Injuries claimed under a health product (意外伤害所致: no waiting period), by claim type."""
CAUSED_CONDITIONS = {"S06.3": ("I61.9", "脑出血"), "S36.1": ("Z94.4", "肝移植状态")}
"""The covered critical illness an injury led to, written as the second diagnosis."""
ACCIDENT_CAUSES = [
    ("W01", "同一平面滑倒、绊倒"),
    ("W19", "跌倒"),
    ("V43", "机动车交通事故"),
    ("W25", "锐器割伤"),
]
CRITICAL_DIAGNOSES = [
    Diagnosis("C34.9", "肺恶性肿瘤", ("ward", "oncology", "basic_lab", "chest_ct", "infusion")),
    Diagnosis("C50.9", "乳腺恶性肿瘤", ("ward", "oncology", "basic_lab", "imaging", "surgery_minor")),
    Diagnosis("C16.9", "胃恶性肿瘤", ("ward", "oncology", "basic_lab", "imaging", "infusion")),
    Diagnosis("C18.9", "结肠恶性肿瘤", ("ward", "oncology", "basic_lab", "imaging")),
    Diagnosis("I21.9", "急性心肌梗死", ("ward", "cardio_drugs", "cardio_proc", "basic_lab")),
    Diagnosis("I63.9", "脑梗死", ("ward", "cardio_drugs", "basic_lab", "chest_ct", "infusion")),
]
# diagnoses a product excludes or does not cover, used to plant denials
EXCLUDED_DIAGNOSES = {
    ClaimType.OUTPATIENT: [
        Diagnosis("K02.9", "龋病", ("consult", "dental")),
        Diagnosis("Z41.1", "美容整形", ("consult", "skin_drugs")),
    ],
    ClaimType.INPATIENT: [
        Diagnosis("O80.0", "单胎顺产", ("ward", "basic_lab", "infusion")),
        Diagnosis("F10.2", "酒精依赖综合征", ("ward", "basic_lab", "infusion")),
    ],
    ClaimType.ACCIDENT: [Diagnosis("X78", "故意自伤（锐器）", ("consult", "wound", "pain_drugs"))],
    ClaimType.CRITICAL_ILLNESS: [Diagnosis("D24", "乳房良性肿瘤", ("ward", "basic_lab", "imaging"))],
}
DIAGNOSES = {
    ClaimType.OUTPATIENT: OUTPATIENT_DIAGNOSES,
    ClaimType.INPATIENT: INPATIENT_DIAGNOSES,
    ClaimType.ACCIDENT: ACCIDENT_DIAGNOSES,
    ClaimType.CRITICAL_ILLNESS: CRITICAL_DIAGNOSES,
}

ITEM_GROUPS: dict[str, list[Item]] = {
    "consult": [
        Item("普通门诊诊察费", "诊察费", "甲", "次", (10, 25), (1, 1)),
        Item("副主任医师门诊诊察费", "诊察费", "乙", "次", (30, 60), (1, 1)),
        Item("急诊诊察费", "诊察费", "甲", "次", (15, 30), (1, 1)),
    ],
    "ward": [
        Item("三人间床位费", "床位费", "甲", "日", (40, 70), (1, 1)),
        Item("二级护理", "护理费", "甲", "日", (15, 35), (1, 1)),
        Item("住院诊查费", "诊察费", "甲", "日", (10, 20), (1, 1)),
        Item("静脉采血", "治疗费", "甲", "次", (3, 6), (1, 3)),
        Item("心电监护", "治疗费", "乙", "小时", (3, 5), (12, 48)),
    ],
    "resp_drugs": [
        Item("阿莫西林胶囊", "西药费", "甲", "盒", (8, 18), (1, 3)),
        Item("头孢克肟分散片", "西药费", "乙", "盒", (20, 45), (1, 2)),
        Item("复方甘草片", "西药费", "甲", "瓶", (3, 8), (1, 2)),
        Item("连花清瘟胶囊", "中成药费", "乙", "盒", (12, 28), (1, 3)),
        Item("蒲地蓝消炎口服液", "中成药费", "乙", "盒", (25, 48), (1, 2)),
        Item("注射用头孢曲松钠", "西药费", "甲", "支", (6, 20), (1, 10)),
        Item("盐酸氨溴索口服溶液", "西药费", "乙", "瓶", (18, 36), (1, 2)),
        Item("进口维生素C泡腾片", "西药费", "丙", "盒", (35, 80), (1, 2)),
    ],
    "gi_drugs": [
        Item("奥美拉唑肠溶胶囊", "西药费", "甲", "盒", (10, 30), (1, 2)),
        Item("蒙脱石散", "西药费", "甲", "盒", (8, 20), (1, 2)),
        Item("枸橼酸莫沙必利片", "西药费", "乙", "盒", (25, 45), (1, 2)),
        Item("双歧杆菌三联活菌胶囊", "西药费", "乙", "盒", (30, 55), (1, 2)),
        Item("胃苏颗粒", "中成药费", "乙", "盒", (20, 40), (1, 2)),
    ],
    "cardio_drugs": [
        Item("苯磺酸氨氯地平片", "西药费", "甲", "盒", (10, 35), (1, 3)),
        Item("阿司匹林肠溶片", "西药费", "甲", "盒", (8, 20), (1, 2)),
        Item("阿托伐他汀钙片", "西药费", "乙", "盒", (30, 70), (1, 3)),
        Item("硫酸氢氯吡格雷片", "西药费", "乙", "盒", (40, 120), (1, 2)),
        Item("复方丹参滴丸", "中成药费", "甲", "盒", (20, 40), (1, 2)),
    ],
    "diabetes_drugs": [
        Item("盐酸二甲双胍片", "西药费", "甲", "盒", (8, 25), (1, 3)),
        Item("阿卡波糖片", "西药费", "乙", "盒", (30, 65), (1, 2)),
        Item("门冬胰岛素注射液", "西药费", "乙", "支", (50, 90), (1, 3)),
        Item("血糖试纸", "材料费", "丙", "盒", (60, 120), (1, 2)),
    ],
    "pain_drugs": [
        Item("布洛芬缓释胶囊", "西药费", "甲", "盒", (8, 20), (1, 2)),
        Item("双氯芬酸钠缓释片", "西药费", "乙", "盒", (12, 30), (1, 2)),
        Item("云南白药气雾剂", "中成药费", "乙", "瓶", (30, 55), (1, 2)),
        Item("洛索洛芬钠贴剂", "西药费", "丙", "盒", (40, 90), (1, 2)),
    ],
    "skin_drugs": [
        Item("丁酸氢化可的松乳膏", "西药费", "乙", "支", (12, 25), (1, 2)),
        Item("炉甘石洗剂", "西药费", "甲", "瓶", (5, 12), (1, 2)),
        Item("氯雷他定片", "西药费", "乙", "盒", (15, 35), (1, 2)),
        Item("医用修护敷料", "材料费", "丙", "盒", (80, 160), (1, 2)),
    ],
    "eye_drugs": [
        Item("左氧氟沙星滴眼液", "西药费", "乙", "支", (15, 35), (1, 2)),
        Item("玻璃酸钠滴眼液", "西药费", "乙", "支", (30, 60), (1, 2)),
        Item("裂隙灯检查", "检查费", "甲", "次", (10, 20), (1, 1)),
    ],
    "dental": [
        Item("牙体缺损充填术", "治疗费", "丙", "牙", (150, 400), (1, 3)),
        Item("根管治疗术", "治疗费", "丙", "根", (300, 800), (1, 2)),
        Item("全景牙片", "检查费", "乙", "次", (60, 120), (1, 1)),
    ],
    "basic_lab": [
        Item("血常规", "化验费", "甲", "次", (15, 30), (1, 1)),
        Item("C反应蛋白测定", "化验费", "甲", "次", (20, 40), (1, 1)),
        Item("尿常规", "化验费", "甲", "次", (8, 20), (1, 1)),
        Item("肝功能全套", "化验费", "乙", "次", (60, 120), (1, 1)),
        Item("肾功能", "化验费", "甲", "次", (30, 60), (1, 1)),
        Item("电解质测定", "化验费", "甲", "次", (20, 45), (1, 1)),
    ],
    "chest_xray": [Item("胸部正侧位X线摄影", "检查费", "甲", "次", (60, 110), (1, 1))],
    "chest_ct": [
        Item("胸部CT平扫", "检查费", "乙", "次", (180, 320), (1, 1)),
        Item("头颅CT平扫", "检查费", "乙", "次", (180, 300), (1, 1)),
    ],
    "imaging": [
        Item("腹部彩色多普勒超声", "检查费", "甲", "次", (120, 220), (1, 1)),
        Item("X线摄影（四肢）", "检查费", "甲", "次", (50, 100), (1, 2)),
        Item("磁共振平扫", "检查费", "乙", "次", (450, 800), (1, 1)),
    ],
    "infusion": [
        Item("静脉输液", "治疗费", "甲", "组", (8, 15), (1, 6)),
        Item("一次性输液器", "材料费", "乙", "套", (3, 8), (1, 6)),
        Item("0.9%氯化钠注射液", "西药费", "甲", "袋", (3, 8), (1, 6)),
    ],
    "physio": [
        Item("中频脉冲电治疗", "治疗费", "乙", "次", (20, 40), (1, 6)),
        Item("针灸", "治疗费", "乙", "次", (30, 60), (1, 5)),
        Item("推拿治疗", "治疗费", "丙", "次", (60, 120), (1, 5)),
    ],
    "wound": [
        Item("清创缝合术（小）", "手术费", "甲", "次", (80, 200), (1, 1)),
        Item("换药（中）", "治疗费", "甲", "次", (15, 35), (1, 4)),
        Item("破伤风抗毒素注射", "西药费", "乙", "支", (20, 50), (1, 1)),
        Item("医用缝合线", "材料费", "乙", "根", (15, 40), (1, 2)),
    ],
    "fracture": [
        Item("骨折手法整复术", "治疗费", "甲", "次", (200, 400), (1, 1)),
        Item("石膏固定（中）", "治疗费", "甲", "次", (120, 260), (1, 1)),
        Item("高分子夹板", "材料费", "丙", "副", (200, 480), (1, 1)),
    ],
    "surgery_minor": [
        Item("腹腔镜下手术", "手术费", "甲", "次", (1800, 3500), (1, 1)),
        Item("全身麻醉", "手术费", "甲", "次", (600, 1200), (1, 1)),
        Item("一次性使用腹腔镜穿刺器", "材料费", "乙", "个", (300, 700), (1, 3)),
        Item("进口可吸收缝线", "材料费", "丙", "根", (150, 350), (1, 3)),
    ],
    "cardio_proc": [
        Item("冠状动脉造影术", "手术费", "甲", "次", (2500, 4000), (1, 1)),
        Item("药物洗脱支架", "材料费", "乙", "个", (700, 1200), (1, 2)),
        Item("动态心电图", "检查费", "甲", "次", (120, 220), (1, 1)),
    ],
    "oncology": [
        Item("病理活检", "检查费", "甲", "次", (300, 600), (1, 2)),
        Item("肿瘤标志物检测", "化验费", "乙", "次", (150, 320), (1, 2)),
        Item("注射用紫杉醇", "西药费", "乙", "支", (400, 900), (1, 4)),
        Item("PET-CT", "检查费", "丙", "次", (6000, 8000), (1, 1)),
        Item("重组人粒细胞刺激因子注射液", "西药费", "丙", "支", (150, 300), (1, 4)),
    ],
}

INVOICE_CATEGORIES = [
    "床位费",
    "护理费",
    "诊察费",
    "检查费",
    "化验费",
    "治疗费",
    "手术费",
    "西药费",
    "中成药费",
    "材料费",
]

# (hospital name, grade, province key of the invoice layout): fictitious but plausible institutions
HOSPITALS: list[tuple[str, str, str]] = [
    ("北京市朝华医院", "三级甲等", "beijing"),
    ("北京海淀康宁医院", "二级甲等", "beijing"),
    ("上海市浦江人民医院", "三级甲等", "shanghai"),
    ("上海徐汇仁和医院", "二级甲等", "shanghai"),
    ("广州市天河中心医院", "三级甲等", "guangdong"),
    ("深圳福田南山医院", "三级乙等", "guangdong"),
    ("杭州西湖济民医院", "三级甲等", "beijing"),
    ("南京玄武安和医院", "二级甲等", "shanghai"),
    ("成都武侯同济医院", "三级乙等", "guangdong"),
    ("武汉洪山协和医院", "三级甲等", "beijing"),
    ("上海长宁华康医院", "三级甲等", "shanghai_clinic"),
    ("上海闵行春申医院", "二级甲等", "shanghai_clinic"),
    ("长沙岳麓湘雅康复医院", "三级甲等", "hunan"),
    ("济南历下泉城医院", "三级甲等", "shandong"),
    ("哈尔滨南岗松江医院", "三级甲等", "heilongjiang"),
    ("南宁青秀邕江医院", "三级乙等", "guangxi"),
    ("重庆渝中嘉陵医院", "三级甲等", "chongqing"),
]
ANOMALOUS_PROVIDERS = [("康泰综合门诊部", "未定级", "guangdong"), ("仁心医疗诊所", "未定级", "beijing")]
"""Providers the book plants as anomalies: ungraded clinics billing like tertiary hospitals."""

DEPARTMENTS = {
    "J": "呼吸内科",
    "K": "消化内科",
    "I": "心血管内科",
    "E": "内分泌科",
    "M": "骨科",
    "N": "泌尿外科",
    "L": "皮肤科",
    "H": "眼科",
    "S": "骨科",
    "C": "肿瘤科",
    "O": "产科",
    "F": "精神科",
    "Z": "整形外科",
    "D": "乳腺外科",
    "X": "急诊外科",
}
DOCTORS = ["李建国", "王秀英", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "周涛", "吴磊", "孙丽"]

FISCAL_REGIONS: list[tuple[str, str]] = [
    ("北京市", "11"), ("天津市", "12"), ("河北省", "13"), ("山西省", "14"), ("内蒙古自治区", "15"),
    ("辽宁省", "21"), ("吉林省", "22"), ("黑龙江省", "23"), ("上海市", "31"), ("江苏省", "32"),
    ("浙江省", "33"), ("安徽省", "34"), ("福建省", "35"), ("江西省", "36"), ("山东省", "37"),
    ("河南省", "41"), ("湖北省", "42"), ("湖南省", "43"), ("广东省", "44"), ("广西壮族自治区", "45"),
    ("海南省", "46"), ("重庆市", "50"), ("四川省", "51"), ("贵州省", "52"), ("云南省", "53"),
    ("陕西省", "61"), ("甘肃省", "62"), ("宁夏回族自治区", "64"), ("新疆维吾尔自治区", "65"),
]  # fmt: skip
"""Regions issuing the national medical e-bill (财政电子票据), with the two-digit code (GB/T 2260)
that opens its 票据代码: region, 06 (medical), 01 outpatient / 02 inpatient, the year's two digits."""
