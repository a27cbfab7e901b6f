"""Several bills on one page: claimants glue two or three receipts to a sheet before photographing
or scanning it. Each medical bill prints its title (…医疗门诊收费票据, 医疗住院费票据 …) once, large,
at its top; titles far apart on one page are bills of their own. The page is cut into one region
per title (down the sheet when they are stacked, across when side by side), each region read as a
document of its own; the whole page is sent to a person with a `multiple_documents` check, since
the claim's documents are one file fewer than its bills until someone confirms the split.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from statistics import median

from ocr.elements import Page, TextLine
from pipeline.extract.pairing import norm
from pipeline.records import Check

MULTIPLE_DOCUMENTS = "multiple_documents"
TITLE = re.compile(r"医疗.{0,8}票据")
"""A medical bill's title: 医疗 … 票据 (收费票据, 住院费票据, 门诊收费电子票据 …)."""
TITLE_SIZE = 1.3
"""A title's lines are at least this much taller than the page's median line (titles are printed
large); a 票据名称 line in the header, printed at the size of the text, is no second title."""
APART = 0.2
"""Two titles are two bills when their centres are further apart than this share of the page's
height (stacked) or width (side by side); one title read as two lines is not."""


def _height(ln: TextLine) -> float:
    ys = [p[1] for p in ln.box]
    return max(ys) - min(ys)


def _centre(ln: TextLine) -> tuple[float, float]:
    return sum(p[0] for p in ln.box) / 4, sum(p[1] for p in ln.box) / 4


def bill_titles(page: Page) -> list[TextLine]:
    """The title lines of the bills on a page, one per bill, in reading order."""
    if not page.lines:
        return []
    typical = median(_height(ln) for ln in page.lines)
    found = [ln for ln in page.lines if TITLE.search(norm(ln.text)) and _height(ln) >= TITLE_SIZE * typical]
    titles: list[TextLine] = []
    for ln in sorted(found, key=lambda t: (_centre(t)[1], _centre(t)[0])):
        x, y = _centre(ln)
        if any(
            abs(y - _centre(t)[1]) < APART * page.height and abs(x - _centre(t)[0]) < APART * page.width
            for t in titles
        ):
            continue  # the same title, read as two lines
        titles.append(ln)
    return titles


def split_bills(page: Page) -> list[Page]:
    """One page per bill on `page` (the page itself when it holds one): each line goes to the bill
    whose title is the last one above it (stacked bills) or whose column it stands in (side by side)."""
    titles = bill_titles(page)
    if len(titles) < 2:
        return [page]
    centres = [_centre(t) for t in titles]
    stacked = max(c[1] for c in centres) - min(c[1] for c in centres) >= APART * page.height
    if stacked:
        order = sorted(range(len(titles)), key=lambda k: centres[k][1])
        tops = [min(p[1] for p in titles[k].box) - 1.5 * _height(titles[k]) for k in order]
        cuts = [*tops[1:], float("inf")]
        regions: list[list[TextLine]] = [[] for _ in order]
        for ln in page.lines:
            y = _centre(ln)[1]
            k = next(i for i, cut in enumerate(cuts) if y < cut)
            regions[k].append(ln)
    else:
        order = sorted(range(len(titles)), key=lambda k: centres[k][0])
        xs = [centres[k][0] for k in order]
        cuts = [*((a + b) / 2 for a, b in itertools.pairwise(xs)), float("inf")]
        regions = [[] for _ in order]
        for ln in page.lines:
            x = _centre(ln)[0]
            regions[next(i for i, cut in enumerate(cuts) if x < cut)].append(ln)
    return [page.model_copy(update={"lines": lines, "codes": []}) for lines in regions]


def split_sheet(pages: Sequence[Page]) -> list[list[Page]]:
    """The bills of a one-page document, each as its own pages; a document of several pages, or of
    one bill, is left whole."""
    if len(pages) != 1:
        return [list(pages)]
    parts = split_bills(pages[0])
    return [[p] for p in parts]


def multiple_documents_check(count: int) -> Check:
    return Check(
        name=MULTIPLE_DOCUMENTS,
        passed=False,
        message=f"{count} bills on one page: each read on its own (parts); a person confirms the split",
        severity="error",
    )
