"""One settings object for the whole pipeline, with embedded defaults so nothing must be configured.

Every value can be set from the environment with the `CLAIMS_` prefix (e.g. `CLAIMS_DATA_DIR`,
`CLAIMS_DATABASE_URL=postgresql+psycopg://user@host/db`). Secrets come only from the environment.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.records import Money

AuthorityRole = Literal["machine", "adjuster", "senior_adjuster", "claims_manager", "two_seniors"]
"""Who pays: the machine (straight-through), one person of a role, or two senior adjusters together."""
AUTHORITY_ROLES: tuple[str, ...] = get_args(AuthorityRole)


class Authority(BaseModel):
    """The payment authority table (权限表) a finance team signs: how much each role pays alone, in
    yuan, None meaning no limit, with a product's own row where it differs (critical illness pays
    lump sums). Adjudication reads the machine's limit here and review every person's, through
    `limit` and `covers`, so the two can never disagree about who may pay what.

    Set it from the environment as JSON, e.g. `CLAIMS_AUTHORITY='{"adjuster": "5000",
    "products": {"CI01": {"machine": "0"}}}'`; what is not given keeps its default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    machine: Money | None = Decimal("10000.00")
    """The machine pays alone up to this (flash pay, auto approve); above it, a person decides."""
    adjuster: Money | None = Decimal("10000.00")
    """An adjuster (理赔员) decides alone up to this; above it a second approval is needed."""
    senior_adjuster: Money | None = Decimal("50000.00")
    """A senior adjuster (高级理赔员) decides or approves alone up to this."""
    claims_manager: Money | None = None
    """A claims manager (理赔经理) decides or approves alone up to this."""
    two_seniors: Money | None = None
    """A senior adjuster's own decision approved by a second senior adjuster, up to this."""
    products: dict[str, dict[AuthorityRole, Money | None]] = Field(default_factory=dict)
    """Per product id (e.g. "CI01"): the roles whose limit differs for that product."""

    @model_validator(mode="after")
    def _not_negative(self) -> Authority:
        rows = [("", {r: getattr(self, r) for r in AUTHORITY_ROLES}), *self.products.items()]
        for product, row in rows:
            for role, value in row.items():
                if value is not None and value < 0:
                    where = f" for product {product}" if product else ""
                    raise ValueError(
                        f"authority: {role}'s limit{where} is {value}; a limit cannot be negative"
                    )
        return self

    def limit(self, role: str, product_id: str | None = None) -> Decimal | None:
        """What `role` pays alone on a claim under `product_id`; None: no limit."""
        if role not in AUTHORITY_ROLES:
            raise ValueError(f"{role!r} has no payment authority; the table has {', '.join(AUTHORITY_ROLES)}")
        row = self.products.get(product_id or "", {})
        return row[role] if role in row else getattr(self, role)  # type: ignore[index]

    def covers(self, amount: Decimal, *roles: str, product_id: str | None = None) -> bool:
        """Whether these people together may pay `amount`: one of them within their own limit, or
        two senior adjusters (a proposal and its approval) within `two_seniors`."""
        if not roles:
            raise ValueError("covers() needs at least one role")

        def within(limit: Decimal | None) -> bool:
            return limit is None or amount <= limit

        if any(within(self.limit(r, product_id)) for r in roles):
            return True
        pair = len(roles) == 2 and all(r == "senior_adjuster" for r in roles)
        return pair and within(self.limit("two_seniors", product_id))


class ServiceTargets(BaseModel):
    """The insurer's plan's targets (2019 客户服务体系, 落地实施: ../shared/seed), as shares of claims:
    what `claims report` draws beside each indicator. Set them as JSON, e.g.
    `CLAIMS_SERVICE_TARGETS='{"flash_pay_share": 0.8}'`; what is not given keeps its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flash_pay_share: float = Field(default=0.70, ge=0, le=1)
    """闪付通过率: eligible claims flash-paid."""
    straight_through_share: float = Field(default=0.50, ge=0, le=1)
    """理赔自核通过率: claims closed with no person (after it went live)."""
    documents_without_person: float = Field(default=0.20, ge=0, le=1)
    """理赔单据智能识别率: documents read with no person (by the end of the plan's year)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMS_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "data")
    """Where the case store, document files, models and Prefect's home live."""
    database_url: str | None = None
    """SQLAlchemy URL; None means a SQLite file `claims.db` under `data_dir`."""

    # intake limits: checked before anything is decoded or stored
    max_file_bytes: int = 40 * 1024 * 1024
    max_image_pixels: int = 80_000_000
    """A 30000x30000 'image' is a decompression bomb, not a phone photo."""
    max_image_side: int = 20_000
    max_pdf_pages: int = 200
    max_documents_per_claim: int = 100

    # triage and adjudication thresholds (product terms live in adjudication/products/*.yaml)
    flash_pay_limit: Decimal = Decimal("3000.00")
    """Small-claims guideline: outpatient claims up to this amount may be paid at once (never above
    the machine's limit in `authority`)."""
    authority: Authority = Field(default_factory=Authority)
    """The payment authority table: the machine's limit and each person's (CLAIMS_AUTHORITY as JSON)."""
    service_targets: ServiceTargets = Field(default_factory=ServiceTargets)
    """The insurer's plan's targets the service indicators are held against (CLAIMS_SERVICE_TARGETS)."""
    gate_threshold: float = 0.9
    doc_type_min_confidence: float = 0.8
    fraud_high: float = 0.5
    fraud_medium: float = 0.2
    fraud_compile_from: int = 50_000
    """Batches of at least this many claims score through the fraud model compiled to native code
    (lleaves; about 8x LightGBM's own predictor, same scores), compiled once per model and cached
    under `compiled_models_dir`; 0 turns it off. Smaller batches use LightGBM until it is compiled."""
    promotion_margin: float = 0.002
    """How much a challenger must beat the champion by, on the frozen holdout, to replace it (in the
    unit of the model's metric: PR-AUC for fraud, macro F1 for doc type, the gate's review cost per
    rule-approved claim, in adjuster reviews: see `adjudication/model.py`)."""

    # orchestration
    ocr_workers: int = Field(default_factory=lambda: max(1, min(4, (os.cpu_count() or 1) // 2)))
    """Documents read at once; onnxruntime already spreads one page over the cores, so half of them."""
    chunk_size: int = 200

    # the adjusters' review app (review/)
    review_session_hours: float = 10.0
    """A sign-in lasts at most this long (one working day), however busy."""
    review_idle_minutes: float = 30.0
    """A sign-in not used for this long ends: an unattended screen shows no claimant's data for long."""
    review_lock_minutes: float = 30.0
    """A claim opened by one adjuster is theirs until they decide, release it, or leave it this long."""
    review_secure_cookies: bool = False
    """Send the session cookie over HTTPS only; set true wherever the app is served behind TLS."""

    # the intake API (intake/): claims over HTTP from the customer app, agents' tools and hospitals
    intake_dispatch: Literal["queue", "flow", "deployment"] = "flow"
    """What an accepted claim does next: wait for the next intake batch (`queue`: `claims intake run`
    or the intake-batch deployment's schedule), run the intake flow in the API's process at once
    (`flow`), or start the intake-batch deployment on the Prefect server at once (`deployment`)."""
    intake_deployment: str = "intake-batch/intake-batch"
    intake_rate_per_minute: float = 60.0
    """Requests one API key may make per minute on average (a key may carry its own rate)."""
    intake_burst: int = 20
    """Requests one API key may make at once before the rate applies (the token bucket's size)."""
    intake_redis_url: str | None = None
    """Redis (redis://127.0.0.1:6379/0) to share rate limits between API processes; None: per process."""
    intake_max_request_bytes: int = 200 * 1024 * 1024
    """One upload at most; each file also obeys max_file_bytes and a claim max_documents_per_claim."""
    intake_policies: Path | None = None
    """The policy system's extract (a policies.csv) uploaded claims are matched against; without it
    (or for a policy it lacks) the policy is looked up among the claims already in the store."""
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    """Where `claims serve` listens: the intake API under /api, the review app at /."""

    @model_validator(mode="after")
    def _absolute(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        return self

    @model_validator(mode="after")
    def _flash_pay_within_authority(self) -> Settings:
        """Flash pay is the machine paying, so its guideline cannot promise more than the machine's
        limit. (A product's own lower limit still holds: decide refers a claim above it.)"""
        machine = self.authority.machine
        if machine is not None and self.flash_pay_limit > machine:
            raise ValueError(
                f"flash_pay_limit {self.flash_pay_limit} is above the machine's limit ({machine}) in"
                " the authority table: lower CLAIMS_FLASH_PAY_LIMIT or raise the machine's limit in"
                " CLAIMS_AUTHORITY"
            )
        return self

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'claims.db'}"

    @property
    def documents_dir(self) -> Path:
        """Content-addressed document files: documents/ab/abcdef....<ext>."""
        return self.data_dir / "documents"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def payments_dir(self) -> Path:
        """Payment files (`payments-000001.csv` and `.json`), one pair per export."""
        return self.data_dir / "payments"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def compiled_models_dir(self) -> Path:
        """Models compiled to native code for batch scoring, by the model's hash (a cache: deletable)."""
        return self.data_dir / "compiled-models"

    @property
    def page_images_dir(self) -> Path:
        """Page images as OCR saw them (after clean-up), which the stored boxes refer to."""
        return self.data_dir / "page-images"

    def page_images(self, document_id: str, ocr_key: str) -> Path:
        """The folder of one document's page images under one OCR reading: `<n>.jpg` per page."""
        return self.page_images_dir / ocr_key / document_id[:2] / document_id

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"

    def prefect_env(self) -> dict[str, str]:
        """Environment for anything that runs Prefect: no telemetry, state kept under our data dir."""
        # Prefect warns on import when its home is missing: on a fresh machine the data dir is not made yet
        self.prefect_home.mkdir(parents=True, exist_ok=True)
        env = {
            "PREFECT_HOME": str(self.prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # the ephemeral API server needs more than Prefect's 20 s to start on a busy 2-core machine
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            # one "Finished in state Completed()" per document is noise on the console and load on the
            # API; task runs still log warnings and errors, and every state is in the UI
            "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
        }
        if not os.environ.get("PREFECT_API_URL"):
            # Prefect's ephemeral server lives and dies with the batch: no automations to trigger and no
            # UI to stream events to, so those services would only take CPU from OCR
            env["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] = "false"
            env["PREFECT_API_EVENTS_STREAM_OUT_ENABLED"] = "false"
        return env


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
