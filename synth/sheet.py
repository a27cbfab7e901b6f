"""A4 pages written top to bottom, as a hospital's record system prints them: the flow shared by the
discharge record (出院记录) and diagnosis certificate (诊断证明书) layouts.

A `Sheet` keeps a cursor, breaks to a new page with a running header, draws label-value pairs
(recording the value as a truth field), paragraphs with a hanging label, numbered diagnosis lists
and the footer (第1页 / 共2页). A layout that does not fit its pages reports it (`Overflow`) so the
caller can shorten the prose and try again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.records import FieldKind
from synth.render import BLUE_INK, INK, Canvas

A4 = (1240, 1754)
T, D, INT = FieldKind.TEXT, FieldKind.DATE, FieldKind.INT


class Overflow(Exception):
    """The content does not fit the pages the record was planned with."""


@dataclass
class Style:
    """How one hospital's system prints: face, sizes, spacing, margins, how lists are numbered."""

    face: str = "sans"
    size: int = 24
    gap: float = 1.55
    left: int = 90
    right: int = 1150
    label_face: str = "sans"
    numbering: str = "1."
    footer: str = "第{p}页"

    @classmethod
    def draw(cls, rng: random.Random) -> Style:
        face = rng.choice(["sans", "serif", "serif"])
        margin = rng.randint(70, 130)
        return cls(
            face=face,
            size=rng.choice([21, 22, 23, 24, 25, 26]),
            gap=rng.uniform(1.35, 1.8),
            left=margin,
            right=A4[0] - margin + rng.randint(-10, 20),
            label_face=rng.choice([face, "sans"]),
            numbering=rng.choice(["1.", "1、", "1．", "1. "]),
            footer=rng.choice(
                ["第{p}页", "第{p}页/共{n}页", "第 {p} 页", "- {p} -", "{p}/{n}", "第{p}页（共{n}页）"]
            ),
        )


@dataclass
class Sheet:
    """Pages being written; `y` is where the next line goes on the last page."""

    style: Style
    pages: int
    rng: random.Random
    running_header: Callable[[Sheet], None] | None = None
    canvases: list[Canvas] = field(default_factory=list)
    y: float = 0.0
    bottom: float = A4[1] - 150

    def __post_init__(self) -> None:
        self.new_page(first=True)

    @property
    def c(self) -> Canvas:
        return self.canvases[-1]

    @property
    def line(self) -> float:
        return self.style.size * self.style.gap

    def new_page(self, first: bool = False) -> None:
        if not first and len(self.canvases) >= self.pages:
            raise Overflow(f"more than {self.pages} pages")
        self.canvases.append(
            Canvas(*A4, paper=(255, 255, 255) if self.rng.random() < 0.7 else (252, 252, 249))
        )
        self.y = 70.0
        if not first and self.running_header is not None:
            self.running_header(self)

    def need(self, height: float) -> None:
        """Room for `height` pixels on this page, else the next page."""
        if self.y + height > self.bottom:
            self.new_page()

    def text(self, x: float, text: str, size: int | None = None, **kw) -> tuple[float, float, float, float]:
        kw.setdefault("face", self.style.face)
        return self.c.text(x, self.y, text, size or self.style.size, **kw)

    def centered(self, text: str, size: int, **kw) -> tuple[float, float, float, float]:
        kw.setdefault("face", "serif")
        return self.c.text(A4[0] / 2, self.y, text, size, anchor="ma", **kw)

    def pair(
        self,
        x: float,
        label: str,
        value: str,
        name: str | None,
        kind: FieldKind = T,
        *,
        truth: str | None = None,
        underline: float = 0.0,
    ) -> float:
        """`label` then its value on the current line; returns the x after the value."""
        size = self.style.size
        bb = self.text(x, label, face=self.style.label_face)
        vx = bb[2] + self.rng.choice([2, 4, 8, 16])
        end = vx
        if value:
            vb = self.text(vx, value, name=name, kind=kind, value=truth)
            end = vb[2]
        if underline:
            self.c.hline(bb[2] + 2, max(end + 6, bb[2] + underline), self.y + size * 1.2, INK, 1)
            end = max(end, bb[2] + underline)
        return end

    def rows(self, cells: list[list[tuple[str, str, str | None, FieldKind, str | None]]]) -> None:
        """Rows of label-value pairs spread over the width (a header block without rules)."""
        width = self.style.right - self.style.left
        for row in cells:
            self.need(self.line)
            step = width / max(len(row), 1)
            for k, (label, value, name, kind, truth) in enumerate(row):
                self.pair(self.style.left + k * step, label, value, name, kind, truth=truth)
            self.y += self.line

    def paragraph(self, label: str, sentences: list[str], *, hanging: bool = True) -> None:
        """A section: its label, then its text wrapped to the width (first line after the label, or
        under it indented by two characters)."""
        s = self.style
        self.need(self.line)
        text = "".join(sentences)
        if hanging:
            bb = self.text(s.left, label, face=s.label_face)
            x = bb[2] + 2
        else:
            self.text(s.left, label, face=s.label_face)
            self.y += self.line
            x = s.left + 2 * s.size
        line = ""
        for ch in text:
            if self.c.text_width(line + ch, s.size, s.face) > s.right - x:
                self.need(self.line)
                self.text(x, line)
                self.y += self.line
                x, line = s.left, ""
            line += ch
        if line:
            self.need(self.line)
            self.text(x, line)
            self.y += self.line

    def diagnoses(
        self,
        label: str,
        items: list[tuple[str, str]],
        *,
        record: bool,
        layout: str,
        codes: str = "",
        fill=INK,
    ) -> None:
        """A diagnosis list under `label`: `inline` (one line, wrapped between items), `stacked`
        (one item a line, aligned after the label) or `below` (the label alone, items under it).
        `codes` prints each item's ICD-10 code `after` or `before` the name. With `record`, names
        and printed codes are truth fields (diagnosis, diagnosis_2 …)."""
        s = self.style
        self.need(self.line)
        bb = self.text(s.left, label, face=s.label_face)
        start = bb[2] + 4
        if layout == "below":
            self.y += self.line
            start = s.left + 2 * s.size
        x = start
        numbered = len(items) > 1 or self.rng.random() < 0.4
        for k, (code, name) in enumerate(items):
            suffix = "" if k == 0 else f"_{k + 1}"
            number = f"{k + 1}{s.numbering[1:]}" if numbered else ""
            before = f"({code})" if codes == "before" else ""
            after = f"（ICD-10：{code}）" if codes == "after" else ""
            width = self.c.text_width(number + before + name + after + "　", s.size, s.face)
            if x > start and (layout != "inline" or x + width > s.right):
                self.y += self.line
                self.need(self.line)
                x = start if layout != "inline" else s.left
            if number:
                x = self.text(x, number, fill=fill)[2]
            if before:
                x = self.text(
                    x, before, fill=fill, name=f"diagnosis_code{suffix}" if record else None, value=code
                )[2]
            size = (
                s.size
                if x + width <= s.right + 40
                else self.c.fit_size(name, s.size, s.right - x - 10, s.face)
            )
            x = self.text(x, name, size, fill=fill, name=f"diagnosis{suffix}" if record else None)[2]
            if after:
                x = self.text(
                    x + 6, after, fill=fill, name=f"diagnosis_code{suffix}" if record else None, value=code
                )[2]
            x += s.size * self.rng.choice([1, 1.5, 2])
        self.y += self.line

    def signatures(self, labels: list[str], doctor: str | None, date_text: str | None) -> None:
        """Signature lines at the foot of the text: labels, the doctor's name in pen, a date."""
        s = self.style
        self.y += self.line * self.rng.uniform(0.5, 2.5)
        self.need(self.line * 3)
        step = (s.right - s.left) / max(len(labels), 1)
        for k, label in enumerate(labels):
            x = s.left + k * step + (step * 0.3 if len(labels) == 1 else 0)
            bb = self.text(x + (300 if len(labels) == 1 else 0), label, face=s.label_face)
            if doctor and k == len(labels) - 1:
                self.c.text(bb[2] + 10, self.y - 4, doctor, s.size + 6, face="serif", fill=BLUE_INK)
        self.y += self.line * 1.3
        if date_text:
            self.text(s.right - self.c.text_width(date_text, s.size, s.face) - 40, date_text)
            self.y += self.line

    def finish(self, seal: Callable[[Canvas, random.Random], None] | None = None) -> list[Canvas]:
        """Footers on every page (and the seal on the last); the pages must be the planned number."""
        if len(self.canvases) != self.pages:
            raise Overflow(f"{len(self.canvases)} pages written, {self.pages} planned")
        for p, c in enumerate(self.canvases, 1):
            text = self.style.footer.format(p=p, n=self.pages)
            c.text(A4[0] / 2, A4[1] - 90, text, 20, anchor="ma")
        if seal is not None:
            seal(self.canvases[-1], self.rng)
        return self.canvases
