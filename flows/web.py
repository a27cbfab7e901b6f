"""One web server for systems and people (`claims serve`): the intake API at /api, the review app at /.

Both apps share one case store (one engine, one pool). The review app links and redirects to
absolute paths (/login, /queue, /claims/{id}), so it owns the root; the intake API lives under
/api (`POST /api/claims`, its OpenAPI page at /api/docs). Composition lives here, in flows/, the
one room allowed to import both; it also hands the intake API its dispatcher (`flows.dispatch`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route

from flows.dispatch import make_dispatcher
from intake.app import create_app as create_intake_app
from pipeline.settings import Settings
from pipeline.store import open_store

log = logging.getLogger(__name__)

API_PREFIX = "/api"


def build_app(settings: Settings) -> Starlette:
    """The intake API under /api and, if it can be imported, the review app at /."""
    store = open_store(settings)
    intake = create_intake_app(settings, store=store, dispatcher=make_dispatcher(settings))
    routes: list[BaseRoute] = [Mount(API_PREFIX, app=intake)]

    # --- mount point: the adjusters' review app (review/app.py, create_app(settings, store)) ----
    try:
        from review.app import create_app as create_review_app
    except ImportError as exc:  # the review app is optional here: the API serves without it
        log.warning("review app not available (%s): serving the intake API only", exc)
        create_review_app = None
    if create_review_app is not None:
        routes.append(Mount("/", app=create_review_app(settings, store)))
    else:

        async def root(_request: object) -> RedirectResponse:
            return RedirectResponse(f"{API_PREFIX}/docs")

        routes.append(Route("/", root))
    # ---------------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        intake.state.dispatcher.close()  # mounted apps get no lifespan of their own
        store.engine.dispose()

    return Starlette(routes=routes, lifespan=lifespan)


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:  # pragma: no cover
    """Run the server until interrupted."""
    import uvicorn

    uvicorn.run(
        build_app(settings),
        host=host or settings.serve_host,
        port=port or settings.serve_port,
        log_level="info",
    )
