"""One settings object for the whole pipeline, with embedded defaults so nothing must be configured.

Every value can be set from the environment with the `CLAIMS_` prefix (e.g. `CLAIMS_DATA_DIR`,
`CLAIMS_DATABASE_URL=postgresql+psycopg://user@host/db`). Secrets come only from the environment.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    """Small-claims guideline: outpatient claims up to this amount may be paid at once."""
    gate_threshold: float = 0.9
    doc_type_min_confidence: float = 0.8
    fraud_high: float = 0.5
    fraud_medium: float = 0.2

    # orchestration
    ocr_workers: int = Field(default_factory=lambda: max(1, min(4, (os.cpu_count() or 1) // 2)))
    """Documents read at once; onnxruntime already spreads one page over the cores, so half of them."""
    chunk_size: int = 200

    @model_validator(mode="after")
    def _absolute(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
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
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"

    def prefect_env(self) -> dict[str, str]:
        """Environment for anything that runs Prefect: no telemetry, state kept under our data dir."""
        return {
            "PREFECT_HOME": str(self.prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # the ephemeral API server needs more than Prefect's 20 s to start on a busy 2-core machine
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
