"""`claims review ...`: the adjusters' review app, its accounts and its own server."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from flows.cli.common import emit_json, fail, out
from pipeline.errors import ClaimsError
from pipeline.settings import get_settings

review_app = typer.Typer(help="The adjusters' review web app: accounts and the server.", no_args_is_help=True)


@review_app.command("adduser")
def review_adduser(
    username: Annotated[str, typer.Argument(help="Sign-in name: letters, digits, '.' or '_'.")],
    role: Annotated[
        str, typer.Option("--role", help="adjuster, senior_adjuster, claims_manager, operations or auditor.")
    ] = "adjuster",
    name: Annotated[str | None, typer.Option("--name", help="Name shown in the app and the audit.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts), not a prompt.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary as the last line.")] = False,
) -> None:
    """Create a review-app account, or reset an existing one's password, role and name."""
    from pipeline.store import open_store
    from review.auth import AccountError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        add_user(open_store(get_settings()), username, password, role, name)
    except AccountError as exc:
        fail(ClaimsError(str(exc)), as_json)
        return
    except ClaimsError as exc:
        fail(exc, as_json)
        return
    out.print(f"account {username} ({role}) ready")
    if as_json:
        emit_json({"ok": True, "username": username, "role": role})


@review_app.command("serve")
def review_serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the review app with uvicorn (put it behind TLS and set CLAIMS_REVIEW_SECURE_COOKIES=true)."""
    import uvicorn

    from review.app import create_app

    try:
        app = create_app(get_settings())
    except ClaimsError as exc:
        fail(exc, False)
        return
    uvicorn.run(app, host=host, port=port, proxy_headers=True)
