"""The words Chinese medical institutions are named with, and names that miss one by a character.

A hospital's name is a place and a few institution words (省 人民 医院, 医科大学 附属 第一 医院,
中西医结合 医院, 社区卫生服务中心 …). The recogniser's confident misreadings of such a name change
one character of one of those words (大学附属医院 as 大子附属医院, 第一人民医院 as 第一阵民医院) or
drop one (大学附属医院 as 大学附医院). A name holding a near miss of a naming word, where the word
itself is not there, is not a name any institution bears: a person confirms it. Catching the miss
needs only the naming words, never the list of hospitals (thousands, and new ones every year), so
nothing here names a hospital.
"""

from __future__ import annotations

from functools import cache

INSTITUTION_WORDS: tuple[str, ...] = (
    # what the institution is
    "医院", "人民医院", "中医院", "中医医院", "中西医结合医院", "中心医院", "总医院", "分院", "院区",
    "附属医院", "附属", "第一附属医院", "附属第一医院", "医学院", "医科大学", "医学中心", "大学",
    "学院", "研究院", "研究所", "研究中心", "防治", "防治院", "防治所", "肿瘤医院", "肿瘤", "儿童医院",
    "儿童", "妇幼保健院", "妇幼保健", "保健院", "妇产医院", "妇产科", "妇女儿童医院", "口腔医院",
    "口腔", "眼科医院", "眼科", "耳鼻喉", "精神卫生中心", "精神病医院", "传染病医院", "胸科医院",
    "骨科医院", "骨伤", "康复医院", "康复", "老年病", "心血管病", "皮肤病", "职业病", "职工医院",
    "卫生院", "中心卫生院", "乡镇卫生院", "社区卫生服务中心", "社区卫生服务站", "卫生服务中心",
    "医疗中心", "门诊部", "诊所", "卫生所", "医务室", "急救中心", "血液中心", "疾病预防控制中心",
    "中医药", "中医", "中西医", "结合", "民族医院", "藏医院", "蒙医医院", "维吾尔医医院",
    "人民", "中心", "第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十",
    "市立", "省立", "县立", "区立", "军区", "解放军", "武警", "部队", "铁路", "煤矿", "油田", "集团",
    "协和", "同济", "同仁", "湘雅", "华西", "齐鲁", "仁济", "瑞金", "中山", "友谊", "和平", "红十字会",
    "大学附属", "医科大学附属", "医学院附属", "科技大学", "理工大学",
    "军医大学", "中医药大学", "医药大学", "药科大学", "交通大学", "师范大学",
    "大学附属医院", "大学第一医院", "大学第二医院", "大学第一附属医院", "大学第二附属医院",
    "大学附属第一医院", "医学院附属医院", "第一人民医院", "第二人民医院", "第三人民医院",
    "第四人民医院", "第五人民医院", "第六人民医院", "第七人民医院", "第八人民医院", "第九人民医院",
    "有限公司", "股份", "医疗", "专科", "综合", "中外合资", "国际", "民营", "集团",
    # where it is: provinces, their capitals and the largest cities, and the words that make a place
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西",
    "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
    "石家庄", "太原", "沈阳", "长春", "哈尔滨", "南京", "杭州", "合肥", "福州", "南昌", "济南", "郑州",
    "武汉", "长沙", "广州", "海口", "成都", "贵阳", "昆明", "西安", "兰州", "西宁", "呼和浩特", "南宁",
    "拉萨", "银川", "乌鲁木齐", "深圳", "大连", "青岛", "宁波", "厦门", "苏州", "无锡", "温州", "佛山",
    "东莞", "唐山", "烟台", "徐州", "常州", "南通", "泉州", "洛阳", "襄阳", "宜昌", "珠海", "汕头",
    "遵义", "绵阳", "柳州", "桂林", "赣州", "威海", "潍坊", "淄博", "临沂", "济宁", "保定", "邯郸",
    "省", "市", "县", "区", "镇", "乡", "州", "自治州", "自治区", "自治县", "地区", "新区", "开发区",
)  # fmt: skip
"""Words of institutions' names, by what they say (the institution's kind, rank, founders' and
teaching hospitals' usual words) and where they are (every province, its capital and the largest
cities): general knowledge of how hospitals are named, not a list of hospitals."""


@cache
def _inside_words() -> frozenset[str]:
    """Every piece of a naming word: a window that is one is a word, not a misreading of another."""
    words = INSTITUTION_WORDS
    return frozenset(w[i:j] for w in words for i in range(len(w)) for j in range(i + 1, len(w) + 1))


def _covered(name: str) -> list[bool]:
    """Which characters of `name` belong to a naming word found in it as printed."""
    covered = [False] * len(name)
    for word in INSTITUTION_WORDS:
        start = name.find(word)
        while start >= 0:
            covered[start : start + len(word)] = [True] * len(word)
            start = name.find(word, start + 1)
    return covered


def near_miss(name: str) -> str | None:
    """The naming word `name` misses by one character (`"大学附属医院"` for `遵义医科大子附属医院`), or None.

    One character changed inside a word of five or more characters, or one dropped from inside
    one, where what stands there is itself no naming word nor part of one and the
    changed character belongs to no word found as printed. Only inside: a word's first or last
    character meets whatever the name puts beside it (济民医院 is a name, not a misread 人民医院), and
    the middle of a shorter word meets its own modifier (康宁医院 is no misread 康复医院, nor 华康医院
    one with 复 dropped).
    """
    covered = _covered(name)
    pieces = _inside_words()
    for word in sorted(INSTITUTION_WORDS, key=len, reverse=True):
        n = len(word)
        if n >= 5:
            for i in range(len(name) - n + 1):
                window = name[i : i + n]
                diff = [k for k in range(n) if window[k] != word[k]]
                inside = len(diff) == 1 and 0 < diff[0] < n - 1
                if inside and window not in pieces and not covered[i + diff[0]]:
                    return word
        if n >= 5:
            for k in range(1, n - 1):
                dropped = word[:k] + word[k + 1 :]
                if dropped not in pieces and dropped in name and word not in name:
                    return word
    return None
