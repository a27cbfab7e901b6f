"""Labelled pages for the doc-type classifier, made from synthetic corpora.

Each document of a corpus is re-drawn by the generator's own layouts and taken as text lines (fast,
no OCR), or OCR'd from its file (slow); the `other` class is generated here: unrelated forms,
receipts and medical papers that are not claim documents (prescriptions, lab reports), random
Chinese text and claim documents with their lines shuffled into noise. Training data lives with the
generator, not with the classifier, so nothing at inference depends on `synth`.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from classifiers.doc_type import ocr_noise
from ocr.elements import Page, TextLine
from pipeline.records import DocType
from pipeline.registry import data_hash


def _truths(corpus: Path) -> Iterable[dict[str, Any]]:
    with (corpus / ".truth" / "truth.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def training_documents(
    corpus: Path | str,
    *,
    source: str = "render",
    pages_for: Callable[[Path], list[Page]] | None = None,
    noise: float = 0.04,
    seed: int = 0,
) -> list[tuple[list[Page], str]]:
    """(pages, doc type) for every document of a synthetic corpus folder.

    `source="render"` re-draws each document's layout and takes its strings as text lines (the
    corpus may be written with `render=False`), with light OCR noise; `source="ocr"` reads the
    corpus files with `pages_for(path)` (default: OCR through `ocr.reader.read_document`). Pages of
    one logical document (an expense list's pages) are kept as one document.
    """
    corpus = Path(corpus)
    rng = random.Random(seed)
    out: list[tuple[list[Page], str]] = []
    if source == "render":
        for claim in _truths(corpus):
            for pages, label, _ in render_documents(claim):
                out.append(([ocr_noise(p, rng, noise) for p in pages], label))
        return out
    if source != "ocr":
        raise ValueError(f"source must be 'render' or 'ocr', not {source!r}")
    if pages_for is None:
        from ocr.reader import read_document

        def pages_for(path: Path) -> list[Page]:
            return read_document(path)

    for claim in _truths(corpus):
        for doc in claim["documents"]:
            path = corpus / doc["file"]
            if path.exists():
                out.append((pages_for(path), doc["doc_type"]))
    return out


def render_documents(claim: dict[str, Any]) -> list[tuple[list[Page], str, list[Any]]]:
    """Each document of a claim re-drawn by the generator's own layouts: pages of text lines (one per
    drawn string, neighbours glued as OCR glues them), the doc type, and the fields as drawn.

    Training- and test-time only: the generator (synth) is imported here, never at inference.
    """
    from synth import documents as sd
    from synth.capture import stage
    from synth.truth import ClaimTruth

    c = ClaimTruth.model_validate(claim)
    rng = random.Random(f"{c.claim_id}:doc-type")
    out: list[tuple[list[Page], str, list[Any]]] = []
    for doc in c.documents:
        canvas, items, _ = sd.render_page(c, doc, rng, keep_text=True)  # a card's strings are its lines
        # as the file is captured: a bill on a scanner's glass is a page of another shape
        canvas = stage(
            f"{c.claim_id}:{doc.group}:{doc.page_number}", doc.doc_type, canvas, items, False, doc.layout
        ).canvas
        lines = runs_to_lines(canvas.runs)
        page = Page(number=doc.page_number, width=canvas.width, height=canvas.height, lines=lines)
        out.append(([page], doc.doc_type.value, canvas.fields))
    return out


def runs_to_lines(runs: Sequence[Any]) -> list[TextLine]:
    """Drawn strings as OCR would see them: neighbours on one baseline closer than a glyph are one line."""
    boxes = sorted(
        ((r.bbox, r.text) for r in runs if r.text.strip() and r.bbox[2] > r.bbox[0]),
        key=lambda t: (t[0][1], t[0][0]),
    )
    merged: list[list[Any]] = []
    for (x0, y0, x1, y1), text in boxes:
        h = y1 - y0
        for m in merged:
            mx0, my0, mx1, my1 = m[0]
            if abs((y0 + y1) / 2 - (my0 + my1) / 2) < 0.3 * h and 0 <= x0 - mx1 < 0.8 * h:
                m[0] = (mx0, min(my0, y0), x1, max(my1, y1))
                m[1] += text
                break
        else:
            merged.append([(x0, y0, x1, y1), text])
    return [
        TextLine(text=t, box=((x0, y0), (x1, y0), (x1, y1), (x0, y1)), score=1.0)
        for (x0, y0, x1, y1), t in merged
    ]


_COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而"
    "方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好"
    "应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向"
    "道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特"
)  # fmt: skip


def _w(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_OTHER_FORMS: dict[str, tuple[str, ...]] = {
    "增值税普通发票": _w(
        "购买方 名称 纳税人识别号 地址、电话 开户行及账号 "
        "货物或应税劳务名称 规格型号 税率 税额 价税合计 销售方 开票人 "
        "收款人 复核"
    ),
    "超市购物小票": _w("门店 收银员 单号 商品名称 数量 单价 金额 合计 实收 找零 会员卡号 谢谢惠顾"),
    "处方笺": _w("姓名 性别 年龄 科别 门诊号 临床诊断 Rp 用法 每日三次 医师 审核药师 调配 金额"),
    "检验报告单": _w(
        "姓名 性别 年龄 科室 标本类型 检验项目 结果 参考范围 单位 送检医生 检验者 审核者 报告日期"
    ),
    "请假申请单": _w("申请人 部门 职务 请假类别 事假 病假 请假时间 共计天数 部门负责人意见 人事部意见 签字"),
    "快递运单": _w("寄件人 收件人 电话 地址 托寄物 重量 运费 保价 签收人 派件员 运单号"),
    "房屋租赁合同": _w(
        "出租方 承租方 甲方 乙方 房屋坐落 租赁期限 租金 押金 违约责任 签字盖章 本合同一式两份"
    ),
    "出租车发票": _w("发票代码 发票号码 车号 证号 日期 上车 下车 单价 里程 等候 金额 监督电话"),
    "体检报告": _w("体检编号 姓名 性别 年龄 身高 体重 血压 内科 外科 眼科 总检结论 建议 主检医师"),
    "营业执照": _w("统一社会信用代码 名称 类型 法定代表人 经营范围 注册资本 成立日期 营业期限 住所 登记机关"),
    "银行转账回单": _w("付款人 收款人 账号 开户行 金额 大写 用途 交易流水号 回单编号 记账日期"),
    "住院押金收据": _w("交款人 住院号 科室 预交金额 大写 收款方式 收款人 日期"),
}


def other_documents(n: int, seed: int = 0) -> list[tuple[list[Page], str]]:
    """`n` pages that are not claim documents: two in three drawn (lab reports, tickets, hotel
    invoices, prescriptions, receipts, blank pages: `synth.other_docs`), the rest unrelated forms,
    prose and shuffled text."""
    drawn = n * 2 // 3
    return [(p, label) for p, label, _ in drawn_others(drawn, seed)] + text_others(n - drawn, seed)


def drawn_others(
    n: int, seed: int = 0, kinds: Sequence[str] | None = None, noise: float = 0.04
) -> list[tuple[list[Page], str, str]]:
    """(pages, "other", kind) for `n` drawn pages of the given kinds (all of `other_docs.DRAWERS`)."""
    from synth.other_docs import DRAWERS, IN_PACKETS

    rng = random.Random(f"{seed}:drawn-other")
    names = list(kinds or IN_PACKETS)
    out = []
    for i in range(n):
        kind = names[i % len(names)]
        page = canvas_page(DRAWERS[kind](rng))
        out.append(([ocr_noise(page, rng, noise)], DocType.OTHER.value, kind))
    return out


def pharmacy_documents(
    n: int, seed: int = 0, layouts: Sequence[str] | None = None, noise: float = 0.04
) -> list[tuple[list[Page], str, str]]:
    """(pages, "pharmacy_invoice", layout) for `n` drug purchases drawn in the given layout families."""
    import datetime as dt

    from synth.people import make_person
    from synth.pharmacy import LAYOUTS, draw_invoice, drug_sale

    rng = random.Random(f"{seed}:pharmacy")
    names = list(layouts or LAYOUTS)
    out = []
    for i in range(n):
        on = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
        buyer = make_person(rng, on).name if rng.random() < 0.8 else "个人"
        canvas, _ = draw_invoice(drug_sale(rng, buyer, on), names[i % len(names)], rng)
        out.append(
            (
                [ocr_noise(canvas_page(canvas), rng, noise)],
                DocType.PHARMACY_INVOICE.value,
                names[i % len(names)],
            )
        )
    return out


def extra_documents(
    n_claim_documents: int, seed: int = 0, other_share: float = 0.25
) -> list[tuple[list[Page], str]]:
    """What a claim corpus does not hold, in proportion to it: `other` pages and pharmacy invoices."""
    others = other_documents(max(40, int(n_claim_documents * other_share)), seed)
    pharmacy = pharmacy_documents(max(12, n_claim_documents // 12), seed)
    return others + [(p, label) for p, label, _ in pharmacy]


def canvas_page(canvas: Any, number: int = 1) -> Page:
    """A drawn page as OCR would read it: its strings as lines."""
    return Page(number=number, width=canvas.width, height=canvas.height, lines=runs_to_lines(canvas.runs))


def text_others(n: int, seed: int = 0) -> list[tuple[list[Page], str]]:
    """`n` pages of text that are no claim document: unrelated forms, prose and shuffled characters."""
    rng = random.Random(f"{seed}:other")
    out = []
    kinds = list(_OTHER_FORMS)
    for i in range(n):
        w, h = rng.choice([(1240, 1754), (1600, 1000), (1300, 900), (900, 1280), (800, 2000)])
        mode = i % 4
        texts: list[str] = []
        if mode in (0, 1):  # a form: its title, labels with values, some prose
            title = kinds[i % len(kinds)]
            texts.append(title)
            for label in rng.sample(_OTHER_FORMS[title], k=min(len(_OTHER_FORMS[title]), rng.randint(5, 12))):
                texts.append(label + rng.choice(["：", ":", " ", ""]) + _value(rng))
            texts += [_prose(rng, rng.randint(8, 30)) for _ in range(rng.randint(0, 4))]
        elif mode == 2:  # prose
            texts = [_prose(rng, rng.randint(10, 32)) for _ in range(rng.randint(4, 30))]
        else:  # characters of a form shuffled into noise
            pool = "".join(t for labels in _OTHER_FORMS.values() for t in labels) + _COMMON
            texts = [
                "".join(rng.choice(pool) for _ in range(rng.randint(2, 20)))
                for _ in range(rng.randint(3, 25))
            ]
        lines, y = [], 40.0
        for t in texts:
            x = rng.uniform(30, w * 0.4)
            size = rng.uniform(18, 34)
            width = min(w - x - 5, size * len(t))
            lines.append(
                TextLine(
                    text=t, box=((x, y), (x + width, y), (x + width, y + size), (x, y + size)), score=0.95
                )
            )
            y += size * rng.uniform(1.3, 2.5)
        out.append(([Page(number=1, width=w, height=max(h, int(y) + 10), lines=lines)], DocType.OTHER.value))
    return out


def _value(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}",
            f"20{rng.randint(15, 26)}年{rng.randint(1, 12):02d}月{rng.randint(1, 28):02d}日",
            "".join(rng.choice(_COMMON) for _ in range(rng.randint(2, 6))),
            str(rng.randint(10**7, 10**12)),
        ]
    )


def _prose(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_COMMON) for _ in range(n)) + rng.choice("。，；")


def doc_type_training_set(
    corpus_dirs: Sequence[Path | str] = (),
    *,
    claims: int = 120,
    seed: int = 7,
    source: str = "render",
    pages_for: Callable[[Path], list[Page]] | None = None,
    other_share: float = 0.25,
) -> tuple[list[tuple[list[Page], str]], str]:
    """Labelled documents (claim documents plus `other`) and their data hash for the model card.

    Without `corpus_dirs` a corpus of `claims` claims is generated (structure only, no pixels) in a
    temporary folder. This is what `claims models train doc-type [--corpus DIR] [--claims N]` uses.
    """
    with tempfile.TemporaryDirectory(prefix="doc-type-") as tmp:
        dirs = [Path(d) for d in corpus_dirs]
        if not dirs:
            from synth.documents import generate_corpus

            generate_corpus(Path(tmp), claims, seed, render=False)
            dirs = [Path(tmp)]
        documents: list[tuple[list[Page], str]] = []
        hashes: list[Path | str] = []
        for d in dirs:
            documents.extend(training_documents(d, source=source, pages_for=pages_for, seed=seed))
            jsonl = d / ".truth" / "truth.jsonl"
            hashes.append(jsonl if jsonl.exists() else str(d))
        snapshot = data_hash(*hashes, f"source={source}", f"seed={seed}")
    documents += extra_documents(len(documents), seed, other_share)
    return documents, snapshot


DOC_TYPE_HOLDOUT_CLAIMS = 80
"""Claims in the doc-type holdout: some 600 documents, a dozen or more of each type."""


def doc_type_holdout_set(claims: int = DOC_TYPE_HOLDOUT_CLAIMS) -> tuple[list[tuple[list[Page], str]], str]:
    """The doc-type model's frozen holdout: a training set drawn from `HOLDOUT_SEED`, which no trainer
    uses; the registry saves it once, on the first training."""
    from synth import HOLDOUT_SEED

    return doc_type_training_set(claims=claims, seed=HOLDOUT_SEED)
