"""Pages that arrive in claim packets but are no claim document of ours: the doc-type model's `other`.

Drawn as the generator draws claim documents (so the classifier meets them with a real page's
layout, not a bag of words): lab reports (检验报告单 / 化验单: 血常规, 尿常规, 生化), prescriptions
(处方笺), train tickets and air itineraries (行程单), VAT invoices that are not for drugs (a hotel, a
restaurant, a taxi, office supplies: the pharmacy invoice's own layouts with other sellers and
lines), receipts (收款收据, till slips) and blank or near-blank pages (a sheet's back, a page number).
Invented from what such papers generally print; nothing is copied from a real image.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from synth.people import make_person
from synth.pharmacy import LAYOUTS, SaleLine, draw_invoice, new_sale, sale_line
from synth.render import INK, PRINTER_INK, Canvas

_CITIES = (
    "九江",
    "苏州",
    "郑州",
    "长沙",
    "成都",
    "济南",
    "合肥",
    "杭州",
    "福州",
    "武汉",
    "西安",
    "沈阳",
    "昆明",
)
_HOSP = (
    "人民医院",
    "中心医院",
    "中医院",
    "第二医院",
    "妇幼保健院",
    "附属医院",
    "社区卫生服务中心",
    "职工医院",
)
_LAB_PANELS: dict[str, tuple[tuple[str, str, str, tuple[float, float]], ...]] = {
    "血常规": (
        ("白细胞计数", "WBC", "10^9/L", (3.5, 9.5)),
        ("中性粒细胞百分比", "NEU%", "%", (40, 75)),
        ("淋巴细胞百分比", "LYM%", "%", (20, 50)),
        ("单核细胞百分比", "MON%", "%", (3, 10)),
        ("红细胞计数", "RBC", "10^12/L", (4.3, 5.8)),
        ("血红蛋白", "HGB", "g/L", (130, 175)),
        ("红细胞压积", "HCT", "%", (40, 50)),
        ("平均红细胞体积", "MCV", "fL", (82, 100)),
        ("平均血红蛋白量", "MCH", "pg", (27, 34)),
        ("血小板计数", "PLT", "10^9/L", (125, 350)),
        ("平均血小板体积", "MPV", "fL", (7.4, 12.5)),
        ("红细胞分布宽度", "RDW", "%", (11, 16)),
    ),
    "尿常规": (
        ("尿比重", "SG", "", (1.003, 1.03)),
        ("酸碱度", "PH", "", (4.5, 8.0)),
        ("白细胞", "LEU", "/uL", (0, 25)),
        ("红细胞", "BLD", "/uL", (0, 25)),
        ("尿蛋白", "PRO", "g/L", (0, 0.15)),
        ("葡萄糖", "GLU", "mmol/L", (0, 1.7)),
    ),
    "肝功能": (
        ("丙氨酸氨基转移酶", "ALT", "U/L", (9, 50)),
        ("天门冬氨酸氨基转移酶", "AST", "U/L", (15, 40)),
        ("总胆红素", "TBIL", "umol/L", (3.4, 20.5)),
        ("直接胆红素", "DBIL", "umol/L", (0, 6.8)),
        ("总蛋白", "TP", "g/L", (65, 85)),
        ("白蛋白", "ALB", "g/L", (40, 55)),
        ("球蛋白", "GLB", "g/L", (20, 40)),
    ),
    "血生化": (
        ("葡萄糖", "GLU", "mmol/L", (3.9, 6.1)),
        ("尿素", "UREA", "mmol/L", (3.1, 8.0)),
        ("肌酐", "CREA", "umol/L", (57, 111)),
        ("尿酸", "UA", "umol/L", (208, 428)),
        ("总胆固醇", "TC", "mmol/L", (2.8, 5.2)),
        ("甘油三酯", "TG", "mmol/L", (0.56, 1.7)),
    ),
}
_STATIONS = (
    "九江",
    "赣州西",
    "长沙南",
    "武汉",
    "郑州东",
    "北京西",
    "上海虹桥",
    "杭州东",
    "广州南",
    "深圳北",
    "成都东",
    "西安北",
    "合肥南",
    "南京南",
    "福州",
    "厦门北",
    "贵阳北",
    "昆明南",
)
_NOT_DRUGS = (
    ("酒店", ("*住宿服务*住宿费", "*住宿服务*房费"), "天", (168, 680)),
    ("餐饮管理有限公司", ("*餐饮服务*餐费", "*餐饮服务*餐饮服务"), "次", (60, 900)),
    ("出租汽车有限公司", ("*运输服务*客运服务费", "*运输服务*出租车费"), "次", (12, 90)),
    ("科技有限公司", ("*纸制品*打印纸", "*计算机配套产品*鼠标", "*信息技术服务*技术服务费"), "个", (20, 500)),
    ("石油化工销售有限公司加油站", ("*汽油*92号车用汽油", "*汽油*95号车用汽油"), "升", (7, 9)),
    ("通信有限公司", ("*电信服务*通信服务费", "*电信服务*话费"), "月", (30, 200)),
    ("物业服务有限公司", ("*物业管理服务*物业费", "*现代服务*停车费"), "月", (50, 600)),
)


def _hospital(rng: random.Random) -> str:
    return f"{rng.choice(_CITIES)}市{rng.choice(_HOSP)}"


def lab_report(rng: random.Random) -> Canvas:
    """检验报告单: the hospital, the panel, the patient row, a table of results with reference ranges."""
    person = make_person(rng, dt.date(2025, 1, 1))
    panel = rng.choice(list(_LAB_PANELS))
    c = Canvas(1240, rng.choice((900, 1240, 1754)))
    c.text(
        620,
        40,
        _hospital(rng) + rng.choice(("检验报告单", "化验报告单", "检验科报告单", "化验单")),
        36,
        face="serif",
        anchor="ma",
    )
    c.text(620, 92, f"【{panel}】" if rng.random() < 0.6 else panel, 28, anchor="ma")
    y = 150
    row = [
        ("姓名", person.name),
        ("性别", person.sex),
        ("年龄", f"{person.age}岁"),
        ("科别", rng.choice(("内科", "儿科", "发热门诊", "急诊科", "体检中心"))),
        ("病历号", str(rng.randint(10**6, 10**8))),
        ("标本", rng.choice(("全血", "静脉血", "尿液", "血清"))),
        ("送检医生", rng.choice(("李建国", "王秀英", "张伟"))),
        ("No", f"{rng.randint(2015, 2026)}{rng.randint(10**7, 10**8)}"),
    ]
    rng.shuffle(row)
    row = row[: rng.randint(5, len(row))]
    for k, (label, value) in enumerate(row):
        c.text(60 + (k % 4) * 290, y + (k // 4) * 40, f"{label}{rng.choice(('：', ':', ' '))}{value}", 22)
    y += 100
    c.hline(40, 1200, y)
    y = _lab_table(c, rng, _LAB_PANELS[panel], y, halves=2 if rng.random() < 0.4 else 1)
    c.hline(40, 1200, y + 10)
    d = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 600))
    c.text(60, y + 30, f"采样时间：{d:%Y-%m-%d} 08:{rng.randint(10, 59)}", 21)
    c.text(640, y + 30, f"报告时间：{d:%Y-%m-%d} 10:{rng.randint(10, 59)}", 21)
    c.text(60, y + 70, f"检验者：{rng.choice(('周涛', '吴磊', '孙丽'))}", 21)
    c.text(640, y + 70, f"审核者：{rng.choice(('赵敏', '陈静', '杨帆'))}", 21)
    c.text(60, y + 110, "本报告仅对所检标本负责，如有疑问请在三日内与检验科联系。", 19)
    return c


def _lab_table(
    c: Canvas,
    rng: random.Random,
    panel: tuple[tuple[str, str, str, tuple[float, float]], ...],
    y: float,
    halves: int,
) -> float:
    """The results table, in one block or two side by side (a full blood count fills two on A5)."""
    heads = (
        rng.choice(("序号", "No", "")),
        rng.choice(("项目", "检验项目", "项目名称")),
        rng.choice(("结果", "检验结果", "测定值")),
        rng.choice(("", "提示")),
        "单位",
        rng.choice(("参考范围", "参考值", "参考区间")),
    )
    width = 1160 / halves
    cols = [40 + f * width for f in (0.02, 0.09, 0.42, 0.56, 0.64, 0.8)]
    rows = list(enumerate(panel, 1))
    per = -(-len(rows) // halves)
    bottom = y
    for h in range(halves):
        xs = [x + h * width for x in cols]
        for x, head in zip(xs, heads, strict=True):
            c.text(x, y + 10, head, 20 if halves == 2 else 22)
        yy = y + 48
        for k, (name, code, unit, (lo, hi)) in rows[h * per : (h + 1) * per]:
            value = round(rng.uniform(lo * 0.7, hi * 1.3), 2 if hi < 20 else 1)
            flag = "↑" if value > hi else "↓" if value < lo else ""
            shown = f"{name}({code})" if rng.random() < 0.6 else name
            size = 18 if halves == 2 else 21
            for x, text in zip(xs, (str(k), shown, str(value), flag, unit, f"{lo}--{hi}"), strict=True):
                c.text(x, yy, text, c.fit_size(text, size, width * 0.33), fill=PRINTER_INK)
            yy += 38
        bottom = max(bottom, yy)
    c.hline(40, 1200, y + 44, width=1)
    return bottom


def prescription(rng: random.Random) -> Canvas:
    """处方笺: patient line, 临床诊断, Rp with drugs and how to take them, the signatures, no totals."""
    person = make_person(rng, dt.date(2025, 1, 1))
    c = Canvas(900, 1280, paper=(255, 255, 250))
    c.text(450, 40, _hospital(rng), 32, face="serif", anchor="ma")
    c.text(450, 90, "处  方  笺", 36, face="serif", anchor="ma")
    c.text(760, 40, rng.choice(("普通", "儿科", "急诊", "慢病")), 24)
    y = 160
    for k, (label, value) in enumerate(
        (
            ("姓名", person.name),
            ("性别", person.sex),
            ("年龄", f"{person.age}岁"),
            ("科别", rng.choice(("内科", "呼吸科", "消化科"))),
            ("门诊号", str(rng.randint(10**6, 10**8))),
            ("日期", f"{2025}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"),
        )
    ):
        c.text(50 + (k % 3) * 280, y + (k // 3) * 44, f"{label}：{value}", 22)
    y += 100
    c.text(
        50,
        y,
        "临床诊断：" + rng.choice(("急性上呼吸道感染", "慢性胃炎", "高血压", "支气管炎", "过敏性鼻炎")),
        22,
    )
    y += 60
    c.text(50, y, "Rp.", 34, face="serif")
    y += 60
    for name, unit, _ in rng.sample(_DRUGS_FOR_RX, k=rng.randint(1, 4)):
        c.text(
            90,
            y,
            f"{name}  {rng.choice(('0.25g', '10mg', '0.5g', '5ml'))}×{rng.randint(1, 3)}{unit}",
            22,
            fill=PRINTER_INK,
        )
        y += 36
        c.text(
            120,
            y,
            f"用法：{rng.choice(('口服', '外用', '雾化吸入'))} 每日{rng.randint(1, 3)}次 每次1{unit}",
            20,
            fill=PRINTER_INK,
        )
        y += 48
    y = max(y + 40, 980)
    c.hline(40, 860, y)
    for k, label in enumerate(("医师", "审核药师", "调配", "核对/发药")):
        c.text(50 + k * 210, y + 20, f"{label}：", 21)
    c.text(50, y + 70, "注：处方当日有效，超过期限须经医师重新签字。", 18)
    return c


_DRUGS_FOR_RX = (
    ("阿莫西林胶囊", "盒", 0),
    ("布洛芬缓释胶囊", "盒", 0),
    ("氨溴索口服溶液", "瓶", 0),
    ("奥美拉唑肠溶胶囊", "盒", 0),
    ("氯雷他定片", "盒", 0),
    ("硝苯地平控释片", "盒", 0),
)


def train_ticket(rng: random.Random) -> Canvas:
    """A railway ticket (blue paper): serial, stations, train, seat, fare, a masked ID, 仅供报销使用."""
    c = Canvas(860, 540, paper=(200, 225, 240))
    a, b = rng.sample(_STATIONS, 2)
    c.text(40, 30, f"{rng.choice('ABCDEFGHJKZ')}{rng.randint(10**5, 10**6 - 1)}", 30, fill=(200, 30, 30))
    c.text(500, 30, rng.choice(("检票:12", "检票:A5", "")), 22)
    c.text(60, 100, f"{a}站", 40)
    c.text(340, 110, f"{rng.choice('GDKCZT')}{rng.randint(1, 9999)}", 32)
    c.text(560, 100, f"{b}站", 40)
    d = dt.date(2017, 1, 1) + dt.timedelta(days=rng.randint(0, 3000))
    c.text(60, 190, f"{d:%Y}年{d:%m}月{d:%d}日 {rng.randint(6, 21):02d}:{rng.randint(0, 59):02d}开", 26)
    c.text(520, 190, f"{rng.randint(1, 16):02d}车{rng.randint(1, 20):02d}{rng.choice('ABCDF')}号", 26)
    c.text(60, 240, f"¥{rng.randint(20, 900)}.{rng.choice('05')}元", 26)
    c.text(520, 240, rng.choice(("二等座", "一等座", "硬卧", "硬座", "商务座")), 26)
    c.text(60, 290, rng.choice(("限乘当日当次车", "")), 22)
    person = make_person(rng, dt.date(2025, 1, 1), 18, 70)
    c.text(60, 340, f"{person.id_number[:10]}****{person.id_number[-4:]} {person.name}", 24)
    c.rect(60, 390, 560, 470, width=1)
    c.text(80, 410, "买票请到12306 发货请到95306", 20)
    c.text(80, 440, "中国铁路祝您旅途愉快", 20)
    c.text(620, 480, f"{rng.randint(10**13, 10**14)}", 18)
    if rng.random() < 0.5:
        c.text(620, 420, "仅供报销使用", 20)
    return c


def air_itinerary(rng: random.Random) -> Canvas:
    """航空运输电子客票行程单: passenger, flights, fare, fund and fuel, total, e-ticket number."""
    c = Canvas(1500, 800, paper=(250, 245, 235))
    person = make_person(rng, dt.date(2025, 1, 1), 18, 70)
    c.text(750, 30, "航空运输电子客票行程单", 38, face="serif", anchor="ma")
    c.text(750, 80, "ITINERARY/RECEIPT OF E-TICKET FOR AIR TRANSPORT", 18, anchor="ma")
    c.text(60, 130, f"旅客姓名 {person.name}", 24)
    c.text(420, 130, f"有效身份证件号码 {person.id_number}", 24)
    c.text(60, 180, "承运人  航班号  座位等级  日期  时间  客票级别  有效截止日期  免费行李", 20)
    a, b = rng.sample(_STATIONS, 2)
    c.text(
        60,
        230,
        f"自 {a}  {rng.choice(('东航', '南航', '国航', '海航'))} "
        f"{rng.choice(('MU', 'CZ', 'CA', 'HU'))}{rng.randint(1000, 9999)}  Y  {rng.randint(1, 28):02d}MAY "
        f"{rng.randint(6, 22):02d}{rng.choice(('00', '30', '45'))}  Y  20K",
        22,
        fill=PRINTER_INK,
    )
    c.text(60, 270, f"至 {b}", 22, fill=PRINTER_INK)
    fare = rng.randint(300, 2500)
    c.text(
        60, 340, f"票价 CNY {fare}.00   民航发展基金 CN 50.00   燃油附加费 YQ {rng.randint(0, 150)}.00", 22
    )
    c.text(60, 390, f"合计 CNY {fare + 50 + rng.randint(0, 150)}.00", 24)
    c.text(60, 440, f"电子客票号码 {rng.randint(100, 999)}{rng.randint(10**9, 10**10 - 1)}", 22)
    c.text(600, 440, f"验证码 {rng.randint(1000, 9999)}", 22)
    c.text(60, 490, f"销售单位代号 {rng.choice(('KHN', 'PEK', 'CTU'))}{rng.randint(100, 999)}", 22)
    c.text(600, 490, f"填开日期 {2025}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", 22)
    c.text(60, 560, f"印刷序号 {rng.randint(10**9, 10**10 - 1)}", 20)
    return c


def non_medical_invoice(rng: random.Random) -> Canvas:
    """A VAT invoice for something no health policy pays: the pharmacy invoice's layouts, other lines."""
    kind, names, unit, price = rng.choice(_NOT_DRUGS)
    seller = (
        f"{rng.choice(_CITIES)}{rng.choice(('明珠', '金陵', '锦江', '如家', '华联', '顺达', '新世纪'))}{kind}"
    )
    buyer = rng.choice((make_person(rng, dt.date(2025, 1, 1), 20, 70).name, "个人", "某某科技有限公司"))
    rate = rng.choice(("1%", "3%", "6%", "9%", "13%", "免税"))
    lines: list[SaleLine] = [
        sale_line(rng, rng.choice(names), unit, price, rate) for _ in range(rng.randint(1, 3))
    ]
    sale = new_sale(rng, seller, buyer, dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 700)), lines)
    canvas, _ = draw_invoice(sale, rng.choice(LAYOUTS), rng, fields=False)
    return canvas


def receipt(rng: random.Random) -> Canvas:
    """收款收据 (a generic receipt book) or a shop's till slip."""
    if rng.random() < 0.5:
        c = Canvas(1200, 600, paper=(255, 250, 245))
        c.text(600, 30, "收  款  收  据", 38, face="serif", anchor="ma")
        c.text(900, 90, f"No {rng.randint(10**6, 10**7)}", 22, fill=(200, 30, 30))
        c.text(
            60, 150, f"今收到 {make_person(rng, dt.date(2025, 1, 1), 20, 70).name}", 26, fill=(30, 50, 140)
        )
        c.text(
            60,
            210,
            "交来 " + rng.choice(("押金", "会费", "培训费", "场地费", "材料费")),
            26,
            fill=(30, 50, 140),
        )
        amount = rng.randint(50, 5000)
        c.text(60, 270, f"人民币（大写）{_words(amount)}", 26, fill=(30, 50, 140))
        c.text(800, 270, f"¥{amount}.00", 26, fill=(30, 50, 140))
        c.text(60, 360, "收款单位（盖章）", 24)
        c.text(600, 360, "收款人", 24)
        c.text(900, 360, f"{2025}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日", 24)
        return c
    c = Canvas(600, 1300)
    c.text(300, 30, rng.choice(("华联超市", "永辉超市", "便利蜂", "全家便利店", "星巴克")), 30, anchor="ma")
    y = 90
    for t in (
        f"门店：{rng.randint(100, 999)}",
        f"收银员：{rng.randint(1, 99):03d}",
        f"单号：{rng.randint(10**9, 10**10)}",
    ):
        c.text(30, y, t, 20)
        y += 32
    c.text(30, y, "商品名称      数量     金额", 20)
    y += 36
    total = 0.0
    for _ in range(rng.randint(2, 12)):
        amount = round(rng.uniform(2, 60), 2)
        total += amount
        c.text(
            30,
            y,
            f"{rng.choice(('矿泉水', '面包', '牛奶', '纸巾', '苹果', '咖啡', '洗衣液'))}",
            20,
            fill=PRINTER_INK,
        )
        c.text(560, y, f"{amount:.2f}", 20, fill=PRINTER_INK, anchor="ra")
        y += 30
    c.text(30, y + 20, f"合计：{total:.2f}", 22)
    c.text(30, y + 56, f"实收：{total + rng.randint(0, 50):.2f}  找零：{rng.randint(0, 50)}.00", 20)
    c.text(300, y + 110, "谢谢惠顾 欢迎再次光临", 20, anchor="ma")
    c.crop_height(int(y + 160))
    return c


def _words(n: int) -> str:
    from synth.amounts import amount_in_words

    return amount_in_words(n)


def blank_page(rng: random.Random) -> Canvas:
    """A blank or near-blank page: a sheet's back, a separator, a page number, a faint stamp."""
    c = Canvas(
        *rng.choice(((1240, 1754), (1754, 1240), (1280, 960))),
        paper=rng.choice(((255, 255, 255), (245, 242, 235))),
    )
    marks = ("", "", "第 2 页", "共 3 页", "- 1 -", "背面", "（此页无正文）", "2", "扫描件")
    text = rng.choice(marks)
    if text:
        c.text(
            rng.uniform(100, c.width - 300),
            rng.uniform(c.height * 0.6, c.height - 80),
            text,
            rng.randint(18, 30),
            fill=INK,
        )
    return c


DRAWERS: dict[str, Callable[[random.Random], Canvas]] = {
    "lab_report": lab_report,
    "prescription": prescription,
    "train_ticket": train_ticket,
    "air_itinerary": air_itinerary,
    "non_medical_invoice": non_medical_invoice,
    "receipt": receipt,
    "blank_page": blank_page,
}
"""Every kind of `other` page, by its family name (what `bench.doctype` leaves out in turn)."""

IN_PACKETS = (*DRAWERS, "lab_report", "non_medical_invoice")
"""The kinds in the proportions a training set draws them: lab reports and other invoices, the papers
claimants most often add, twice as often as the rest."""
