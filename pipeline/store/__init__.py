"""The case store: every claim, document, stage result, decision, payment and audit event.

SQLAlchemy 2 over a SQLite file by default, PostgreSQL by URL; the schema is created and changed only
by the Alembic migrations in `pipeline/migrations`. Records are kept as their pydantic JSON beside the
columns that queries need, so the store never loses a field a stage wrote. Document files live
outside the database, content-addressed by SHA-256 (`DocumentFiles`), each stored once.

Flows persist each stage's output here, which is what lets a batch re-run after a crash continue
where it stopped: a stage result or a payment that exists is not made again. Decisions and payments
are written only by `pipeline.decisions` and `pipeline.payout`, each under the claim's lock.

The modules: `tables` (the schema as row classes on one `Base`), `engine` (engine, migrations, the
repositories' base), `files` (document files), one repository per aggregate (`claims`, `pages`,
`results`, `ledger`, `reviews`, `keys`, `audit`) and `case_store` (`CaseStore`, composing them).
Import from `pipeline.store` itself: these names are the store's public face.
"""

from __future__ import annotations

from pipeline.store.case_store import CaseStore, open_store
from pipeline.store.engine import MIGRATIONS, Repository, Sessions, make_engine, migrate
from pipeline.store.files import DocumentFiles
from pipeline.store.tables import (
    AuditEventRow,
    Base,
    BatchRow,
    ClaimDocumentRow,
    ClaimKeyRow,
    ClaimRow,
    DecisionRow,
    DocumentRow,
    FieldRow,
    PageRow,
    PaymentExportRow,
    PaymentRow,
    ReviewTaskRow,
    StageResultRow,
    TextLineRow,
    as_utc,
    utcnow,
)

__all__ = [
    "MIGRATIONS",
    "AuditEventRow",
    "Base",
    "BatchRow",
    "CaseStore",
    "ClaimDocumentRow",
    "ClaimKeyRow",
    "ClaimRow",
    "DecisionRow",
    "DocumentFiles",
    "DocumentRow",
    "FieldRow",
    "PageRow",
    "PaymentExportRow",
    "PaymentRow",
    "Repository",
    "ReviewTaskRow",
    "Sessions",
    "StageResultRow",
    "TextLineRow",
    "as_utc",
    "make_engine",
    "migrate",
    "open_store",
    "utcnow",
]
