"""`python -m flows.cli`: the `claims` command without its console script."""

from flows.cli import app

if __name__ == "__main__":  # pragma: no cover
    app()
