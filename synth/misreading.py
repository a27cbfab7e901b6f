"""Claim facts read with the errors the product's own reader makes, as measured (issue 22).

`synth.facts.misread` corrupts facts with a simulated misreading (an item's class, the pooled-fund
figure) that is flagged 90% of the time: good for training the ML gate, but a gate measured with the
same function it learned from is measured on its own assumptions. This module corrupts facts by an
error model measured from the readers' misses instead (`bench.misreadings` builds it from the
`--misses` files of `bench.extract` and `bench.real`; it is committed as
`synth/data/measured_misreadings.json`): per field read, how often it is wrong, in what way (a digit
swapped, dropped, added or substituted, the value missing, another field's value, text misread) and
how often the reader flagged it (sent its document to a person, or read it below the confidence
threshold).

Each field the facts carry from a photographed document is read wrong with its measured probability.
What the product does with the value read is then redone with the product's own code: the checks
that a wrong figure or date fails (`pipeline.extract.checks`: words vs figures, the payer split,
items vs total, date order, Luhn, the ID check digit) and the values it refuses (`plausible`); a
flagged field is listed as read with low confidence, and one whose document went to a person fails
the `plausible` check as an unsure key field does, so adjudication and the gate see it as they would
in production. E-invoices are read from their text layer (and printed ones checked against their QR
code) and are never misread, as in `synth.facts.misread`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field

from pipeline.extract import checks as ck
from pipeline.extract.icd10 import code_for, dictionary
from pipeline.extract.plausible import KEY_FIELDS, implausible
from pipeline.records import Check, ClaimFacts, ClaimType, DocType, FieldKind, LineItem, money
from pipeline.records import Field as ReadField

MEASURED_FILE = Path(__file__).resolve().parent / "data" / "measured_misreadings.json"

Kind = Literal[
    "digit_swapped",
    "digit_dropped",
    "digit_added",
    "digit_substituted",
    "value_missing",
    "wrong_field",
    "text_misread",
    "other",
]

KINDS: tuple[Kind, ...] = get_args(Kind)
"""How a field can be read wrong; `bench.misreadings.classify` puts each miss in one."""


AMOUNTS = frozenset(
    {
        "total_amount", "fund_paid", "account_paid", "cash_paid", "copay", "self_pay", "page_total",
        "amount_claimed", "class_b_copay", "ratio_copay", "deductible", "prepaid", "refund",
    }
)  # fmt: skip
CODES = frozenset(
    {
        "invoice_number", "invoice_code", "check_code", "id_number", "claimant_id_number",
        "insured_id_number", "payer_id_number", "social_security_number", "account_number", "card_number",
        "policy_number", "hospital_number", "phone", "age", "days_in_hospital",
    }
)  # fmt: skip
NAMES = frozenset(
    {
        "patient_name", "payer_name", "name", "claimant_name", "insured_name", "account_holder", "hospital",
        "seller", "cashier", "doctor",
    }
)  # fmt: skip
FAMILIES = ("amounts", "dates", "codes", "names", "text")


def field_family(name: str) -> str:
    """The family a field's errors are pooled in when the field alone was read too seldom."""
    if name in AMOUNTS or name.endswith("_paid"):
        return "amounts"
    if name.endswith("_date") or name in ("stay_period", "valid_thru"):
        return "dates"
    if name in CODES or name.startswith("diagnosis_code"):
        return "codes"
    if name in NAMES:
        return "names"
    return "text"


# --- the model ------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KindCount(_Model):
    """Misses of one kind, and how many of them the reader flagged."""

    n: int = 0
    to_person: int = Field(default=0, description="on a document the reader sent to a person")
    unsure: int = Field(default=0, description="not sent, but read below the confidence threshold")


class FieldErrors(_Model):
    """One field's (or family's) reads and misses by kind."""

    read: int = 0
    kinds: dict[str, KindCount] = Field(default_factory=dict)

    @property
    def misses(self) -> int:
        return sum(k.n for k in self.kinds.values())

    @property
    def rate(self) -> float:
        return self.misses / self.read if self.read else 0.0

    @property
    def flagged(self) -> int:
        return sum(k.to_person + k.unsure for k in self.kinds.values())

    def add(self, kind: str, *, to_person: bool, unsure: bool) -> None:
        k = self.kinds.setdefault(kind, KindCount())
        k.n += 1
        k.to_person += to_person
        k.unsure += unsure and not to_person


class Source(_Model):
    """One misses file the model was measured from."""

    name: str
    file: str
    command: str = ""
    misses: int
    fields_read: int


class ErrorModel(_Model):
    """Per field and per family: fields read, misses by kind, flagged. A field read at least
    `min_reads` times is misread by its own figures, any other by its family's, which pool the
    fields read fewer times (a well-read field, such as a seal-covered hospital name, does not
    lend its rate to the others)."""

    about: str = ""
    rebuild: str = ""
    min_reads: int = 30
    sources: list[Source] = Field(default_factory=list)
    fields: dict[str, FieldErrors] = Field(default_factory=dict)
    families: dict[str, FieldErrors] = Field(default_factory=dict)

    def for_field(self, name: str) -> FieldErrors:
        own = self.fields.get(name)
        if own is not None and own.read >= self.min_reads:
            return own
        return self.families.get(field_family(name), FieldErrors())


def load_error_model(path: Path = MEASURED_FILE) -> ErrorModel:
    """The committed measured model (or another one written by `bench.misreadings`)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no error model; build it with `python -m bench.misreadings`")
    return ErrorModel.model_validate_json(path.read_text(encoding="utf-8"))


@cache
def _default_model() -> ErrorModel:
    return load_error_model()


# --- corrupting facts -----------------------------------------------------------------------------


class Misreading(NamedTuple):
    """One field of one claim read wrong: what the bench reports when a claim is paid wrong."""

    doc: str
    field: str
    kind: str
    flag: str  # "to_person", "unsure" or ""
    before: str
    after: str


class _Slot(NamedTuple):
    doc: str  # the document type the value is read from
    field: str  # the extractor's field name (what the model is keyed by)
    path: tuple[Any, ...]  # where in the facts' dump; () for a value only checks see


_INVOICE_FIELDS = (
    ("total_amount", "total"),
    ("total_in_words", "total_in_words"),
    ("fund_paid", "fund_paid"),
    ("account_paid", "account_paid"),
    ("cash_paid", "cash_paid"),
    ("copay", "self_pay"),
    ("self_pay", "self_expense"),
    ("issue_date", "issue_date"),
    ("visit_date", "visit_date"),
    ("invoice_number", "invoice_number"),
    ("invoice_code", "invoice_code"),
    ("hospital", "hospital"),
    ("insurance_type", "insurance_type"),
    ("payer_name", None),
)
"""A paper invoice's fields and where each lands in `Invoice` (None: only the checks read it)."""


def _slots(facts: ClaimFacts) -> list[_Slot]:
    """Every value the facts carry from a photographed document, with the document it is read from."""
    present = set(facts.documents_present)
    out: list[_Slot] = []
    bill = "inpatient_invoice" if facts.claim_type is ClaimType.INPATIENT else "outpatient_invoice"
    for n, inv in enumerate(facts.invoices):
        if inv.electronic:
            continue
        for name, attr in _INVOICE_FIELDS:
            out.append(_Slot(bill, name, ("invoices", n, attr) if attr else ()))
    record = next(
        (d for d in (DocType.DISCHARGE_SUMMARY, DocType.DIAGNOSIS_CERTIFICATE) if d in present),
        DocType.CLAIM_FORM if DocType.CLAIM_FORM in present else None,
    )
    if record is not None and not _hospital_from_invoice(facts):
        out.append(_Slot(record.value, "hospital", ("hospital",)))
        out += [_Slot(record.value, "diagnosis", ("diagnoses", k)) for k in range(len(facts.diagnoses))]
        out.append(_Slot(record.value, "patient_name", ()))
    stay = next((d for d in (DocType.DISCHARGE_SUMMARY, DocType.EXPENSE_LIST) if d in present), None)
    if stay is not None:
        out += [_Slot(stay.value, f, (f,)) for f in ("admission_date", "discharge_date")]
    if DocType.CLAIM_FORM in present:
        out += [
            _Slot("claim_form", "account_number", ("payee_account",)),
            _Slot("claim_form", "account_holder", ("payee_name",)),
            _Slot("claim_form", "bank_name", ("payee_bank",)),
        ]
    elif DocType.BANK_CARD in present:
        out.append(_Slot("bank_card", "card_number", ("payee_account",)))
    if DocType.ID_CARD in present:
        out.append(_Slot("id_card", "id_number", ()))
    return out


def _hospital_from_invoice(facts: ClaimFacts) -> bool:
    """Whether the claim's hospital is the one its first invoice names, as `assemble_facts` takes it
    (a discharge summary's, a certificate's, an invoice's, and only then the claim form's): a claim
    form's hospital, unread or misread, is not what the claim is decided on when a bill names one."""
    present = set(facts.documents_present)
    record = present & {DocType.DISCHARGE_SUMMARY, DocType.DIAGNOSIS_CERTIFICATE}
    return not record and any(inv.hospital for inv in facts.invoices)


def _get(data: dict[str, Any], path: tuple[Any, ...]) -> Any:
    v: Any = data
    for p in path:
        v = v[p]
    return v


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    v: Any = data
    for p in path[:-1]:
        v = v[p]
    v[path[-1]] = value


def _draw(kinds: dict[str, KindCount], rng: random.Random) -> tuple[str, str]:
    """A kind of miss by its measured frequency, and its flag by that kind's flagged shares."""
    names = sorted(kinds)
    kind = rng.choices(names, weights=[kinds[k].n for k in names])[0]
    k, u = kinds[kind], rng.random()
    flag = "to_person" if u < k.to_person / k.n else "unsure" if u < (k.to_person + k.unsure) / k.n else ""
    return kind, flag


def digit_error(text: str, kind: str, rng: random.Random) -> str:
    """`text` with one digit swapped with its neighbour, dropped, added or substituted; other
    characters (a decimal point, a letter, a dash) stay where they are."""
    pos = [i for i, c in enumerate(text) if c.isdigit()]
    if not pos:
        return text_error(text, rng)
    chars = list(text)
    if kind == "digit_swapped":
        pairs = [(a, b) for a, b in itertools.pairwise(pos) if b == a + 1 and chars[a] != chars[b]]
        if pairs:
            a, b = rng.choice(pairs)
            chars[a], chars[b] = chars[b], chars[a]
            return "".join(chars)
        kind = "digit_substituted"
    i = rng.choice(pos)
    if kind == "digit_dropped" and len(pos) > 1:
        del chars[i]
    elif kind == "digit_added":
        chars.insert(i, rng.choice("0123456789"))
    else:
        chars[i] = rng.choice([d for d in "0123456789" if d != chars[i]])
    return "".join(chars)


_LOOKALIKE = "人入八大太天夫口日曰目田由甲申己已巳土士王玉主住往任仕"
"""Characters one stroke apart: what a character misread turns one into."""


def text_error(text: str, rng: random.Random) -> str:
    """`text` with one character read as another (or a character dropped from a long text)."""
    if not text:
        return text
    i = rng.randrange(len(text))
    if len(text) > 4 and rng.random() < 0.3:
        return text[:i] + text[i + 1 :]
    return text[:i] + rng.choice([c for c in _LOOKALIKE if c != text[i]]) + text[i + 1 :]


def _as_money(text: str) -> Decimal | None:
    try:
        return money(Decimal(text)) if re.fullmatch(r"\d+(\.\d+)?", text) else None
    except InvalidOperation:
        return None


def _as_date(text: str) -> dt.date | None:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])) if m else None
    except ValueError:
        return None


def _siblings(data: dict[str, Any], slot: _Slot, slots: list[_Slot], value: Any) -> list[Any]:
    """Values another field of the same document could lend (a wrong-field reading)."""
    paths = [
        s.path
        for s in slots
        if s.path and s.path != slot.path and s.doc == slot.doc and s.path[:-1] == slot.path[:-1]
    ]
    found = [_get(data, p) for p in paths]
    return [v for v in found if type(v) is type(value) and v != value and v not in ("", Decimal(0))]


@cache
def _names_by_code() -> dict[str, str]:
    names: dict[str, str] = {}
    for name, code in dictionary().items():
        names.setdefault(code, name)
    return names


def _misread_diagnosis(code: str, rng: random.Random) -> str | None:
    """The code the pipeline finds for the diagnosis's name read with a character wrong
    (`icd10.code_for`, as for a name printed without its code); None when it finds none."""
    name = _names_by_code().get(code)
    found = code_for(text_error(name, rng)) if name else None
    return found[0] if found else None


def _misread_value(
    data: dict[str, Any], slot: _Slot, slots: list[_Slot], kind: str, rng: random.Random
) -> tuple[Any, str]:
    """The value as read wrong in `kind`'s way (None: not read at all), and the kind applied."""
    value = _get(data, slot.path)
    if (
        slot.field == "account_number"
        and kind == "value_missing"
        and DocType.BANK_CARD in data["documents_present"]
    ):
        return value, kind  # the form's account unread: the pipeline takes the bank card's number
    if kind == "value_missing" or value is None:
        return None, "value_missing"
    if kind == "wrong_field":
        others = _siblings(data, slot, slots, value)
        if others:
            return rng.choice(others), kind
        kind = "other"
    if slot.path[0] == "diagnoses":  # the name is read wrong, and looked up as the pipeline does
        return _misread_diagnosis(value, rng), kind
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
        if kind.startswith("digit") or not value:
            return _as_money(digit_error(text, kind if value else "digit_substituted", rng)), kind
        return money(value * Decimal(rng.choice(("0.5", "0.8", "1.25", "2")))), kind  # quite another
    if isinstance(value, dt.date):
        if kind.startswith("digit"):
            return _as_date(digit_error(value.isoformat(), kind, rng)), kind
        return value + dt.timedelta(days=rng.choice((-30, -7, -1, 1, 7, 30))), kind
    text = str(value)
    if 2 * sum(c.isdigit() for c in text) >= len(text):  # a number: what is read wrong is a digit
        read = digit_error(text, kind if kind.startswith("digit") else "digit_substituted", rng)
        return (digit_error(read, "digit_substituted", rng) if kind == "other" else read), kind
    if kind == "other":
        return text_error(text_error(text, rng), rng), kind
    return text_error(text, rng), "text_misread"


def read_with_errors(
    facts: ClaimFacts, rng: random.Random, model: ErrorModel | None = None
) -> tuple[ClaimFacts, list[Misreading]]:
    """The facts as the product would read them by the error model, with what was read wrong."""
    model = model or _default_model()
    data = facts.model_dump()
    done: list[Misreading] = []
    checks: list[Check] = []
    low = list(facts.low_confidence_fields)
    slots = _slots(facts)
    for slot in slots:
        errs = model.for_field(slot.field)
        if not errs.kinds or rng.random() >= errs.rate:
            continue
        if slot.path and _get(data, slot.path) in (None, ""):
            continue  # not printed on this claim's papers: nothing to misread
        kind, flag = _draw(errs.kinds, rng)
        before = after = None  # a value only the checks read (a name, an ID number)
        if slot.path:
            before = _get(data, slot.path)
            after, kind = _misread_value(data, slot, slots, kind, rng)
            _set(data, slot.path, after)
        done.append(Misreading(slot.doc, slot.field, kind, flag, str(before), str(after)))
        checks += _only_checked(facts, slot, kind, rng)
        if flag:
            low.append(f"{slot.doc}.{slot.field}")
        if flag == "to_person" or (flag == "unsure" and slot.field in KEY_FIELDS):
            checks.append(
                Check(
                    name="plausible",
                    passed=False,
                    message=f"a person confirms: {slot.field} read with low confidence",
                    fields=[slot.field],
                    severity="error",
                )
            )
    if not done:
        return facts, done
    if _hospital_from_invoice(facts):
        data["hospital"] = next((i["hospital"] for i in data["invoices"] if i["hospital"]), None)
    checks += _unread(data)
    read = ClaimFacts.model_validate(data)
    checks += _rechecked(facts, read)
    update = {"low_confidence_fields": low, "failed_checks": [*facts.failed_checks, *checks]}
    return read.model_copy(update=update), done


def _unread(data: dict[str, Any]) -> list[Check]:
    """What the pipeline does with values it could not read (`pipeline.extract.facts`): a bill's
    amounts count as 0.00 but its total is the items' sum and a person is asked; a bill without
    its total, date or issuer goes to a person (`decisive_fields`); a diagnosis whose name is not
    found has no code. Done on the dump, before it is validated."""
    out: list[Check] = []
    for inv in data["invoices"]:
        for name in ("fund_paid", "account_paid", "cash_paid", "self_pay", "self_expense"):
            inv[name] = Decimal("0.00") if inv[name] is None else inv[name]
        unread = [n for n, a in (("total_amount", "total"), ("issue_date", "issue_date"),
                                 ("hospital", "hospital")) if inv[a] in (None, "")]  # fmt: skip
        if inv["total"] is None:
            inv["total"] = money(sum((Decimal(i["amount"]) for i in inv["line_items"]), Decimal(0)))
            out.append(Check(name="invoice_total_unread", passed=False, fields=["total_amount"]))
        if unread:
            out.append(Check(name="decisive_fields", passed=False, fields=unread, severity="error"))
    data["diagnoses"] = list(dict.fromkeys(d for d in data["diagnoses"] if d))
    return out


def misread_measured(facts: ClaimFacts, rng: random.Random, model: ErrorModel | None = None) -> ClaimFacts:
    """`synth.facts.misread`'s shape: the facts as read with the measured errors."""
    return read_with_errors(facts, rng, model)[0]


def _only_checked(facts: ClaimFacts, slot: _Slot, kind: str, rng: random.Random) -> list[Check]:
    """What a misread value no fact holds makes fail: a person's name no longer matches the others
    (one character off: a warning, as `check_same_person` says), an ID number fails its check digit."""
    if slot.path or kind == "value_missing":
        return []
    if slot.field == "id_number":
        number = facts.claim.claimant_id_number
        read = digit_error(number, kind, rng) if kind.startswith("digit") else ""
        ok = bool(read) and ck.id_number_valid(read)
        name = "same_claimant_id" if ok else "id_checksum"
        return [Check(name=name, passed=False, fields=["id_number"], message=f"ID number read as {read!r}")]
    one_off = kind == "text_misread"
    return [
        Check(
            name="same_person",
            passed=False,
            fields=[slot.field],
            message=f"{slot.doc}.{slot.field} does not name the insured",
            severity="warning" if one_off else "error",
        )
    ]


def _money_field(name: str, value: Decimal | None) -> ReadField | None:
    return None if value is None else ReadField(name=name, kind=FieldKind.MONEY, value=value)


def _invoice_checks(inv: dict[str, Any], others: Iterable[Decimal]) -> list[Check | None]:
    f = {
        n: x
        for n, x in (
            ("total_amount", _money_field("total_amount", inv["total"])),
            ("fund_paid", _money_field("fund_paid", inv["fund_paid"])),
            ("account_paid", _money_field("account_paid", inv["account_paid"])),
            ("cash_paid", _money_field("cash_paid", inv["cash_paid"])),
        )
        if x is not None
    }
    if inv["total_in_words"]:
        f["total_in_words"] = ReadField(name="total_in_words", value=inv["total_in_words"])
    why = [n for n in ("hospital", "total_in_words") if implausible(n, inv[n])]
    return [
        ck.check_words_vs_figures(f),
        ck.check_payer_split(f, list(others)),
        ck.check_items_sum([_item(i) for i in inv["line_items"]], inv["total"]),
        ck.check_date_order([("visit_date", inv["visit_date"]), ("issue_date", inv["issue_date"])]),
        Check(name="plausible", passed=False, fields=why, message="implausible value", severity="error")
        if why
        else None,
    ]


def _item(i: dict[str, Any]) -> LineItem:
    return LineItem.model_validate(i)


def _rechecked(clean: ClaimFacts, read: ClaimFacts) -> list[Check]:
    """The product's checks on the values as read that fail where the clean reading passes (the
    funds beside 統筹 a bill prints are taken as read right: they complete the split as before)."""
    out: list[Check] = []
    for c_inv, r_inv in zip(clean.invoices, read.invoices, strict=True):
        if c_inv == r_inv:
            continue
        c, r = c_inv.model_dump(), r_inv.model_dump()
        extra = money(c_inv.total - c_inv.fund_paid - c_inv.account_paid - c_inv.cash_paid)
        others = [extra] if extra else []
        out += _new_failures(_invoice_checks(c, others), _invoice_checks(r, others))
    out += _new_failures([_stay_order(clean)], [_stay_order(read)])
    if read.payee_account != clean.payee_account:
        account = read.payee_account or ""
        if account and not ck.luhn_valid(account):
            out.append(Check(name="luhn", passed=False, fields=["account_number"], message="Luhn"))
        elif account and DocType.BANK_CARD in read.documents_present:
            out.append(Check(name="same_account", passed=False, fields=["account_number"]))
    return out  # a payee name read wrong is the `payee_is_claimant` rule's to see


def _stay_order(f: ClaimFacts) -> Check | None:
    issued = max((i.issue_date for i in f.invoices if i.issue_date), default=None)
    dates = [("admission_date", f.admission_date), ("discharge_date", f.discharge_date)]
    return ck.check_date_order([*dates, ("invoice_issue_date", issued)])


def _new_failures(clean: list[Check | None], read: list[Check | None]) -> list[Check]:
    """Failures of the checks on the misread values that the clean values do not fail."""
    failing = {c.name for c in clean if c is not None and not c.passed}
    return [c for c in read if c is not None and not c.passed and c.name not in failing]
