"""A hospital's name one character off the words institutions are named with is no name at all."""

from __future__ import annotations

import pytest

from pipeline.extract.institutions import near_miss
from synth.catalog import HOSPITALS

# Well-known names from every kind of institution (teaching, military, county, TCM, private): none
# may look like a misreading, or every claim from that hospital would wait for a person.
NAMES = [
    "上海市第六人民医院", "南京鼓楼医院", "首都医科大学附属北京同仁医院", "中国人民解放军总医院",
    "北京大学第三医院", "复旦大学附属中山医院", "四川大学华西医院", "浙江大学医学院附属第一医院",
    "广州医科大学附属第二医院", "北京协和医院", "深圳市宝安区中心医院", "广东省中医院",
    "佛山市南海区第四人民医院", "江门市五邑中医院", "东莞康华医院", "中山大学孙逸仙纪念医院",
    "南方医科大学南方医院", "陆军军医大学第一附属医院", "宁夏医科大学总医院", "北京海淀康宁医院",
    "杭州西湖济民医院", "长沙县星沙街道社区卫生服务中心", "成都中医药大学附属医院", "西湖区妇幼保健院",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES + [h for h, _, _ in HOSPITALS])
def test_real_names_are_no_near_misses(name: str) -> None:
    assert near_miss(name) is None


@pytest.mark.parametrize(
    ("misread", "word"),
    [
        ("苏州大子附属医院", "大学附属医院"),  # 学 read as 子
        ("温州医科大学附医院", "大学附属医院"),  # 属 dropped
        ("上海市第六人氏医院", "第六人民医院"),  # 民 read as 氏
        ("佛山市南海区妇幼保建院", "妇幼保健院"),  # 健 read as 建
        ("佛山市南海区康夏医院", None),  # inside a word of four: too like a name's own modifier
    ],
)
def test_near_misses_name_the_word_they_miss(misread: str, word: str | None) -> None:
    assert near_miss(misread) == word
