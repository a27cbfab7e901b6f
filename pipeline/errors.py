"""Errors a user can cause, each naming the file (or claim) and the problem in one sentence."""

from __future__ import annotations

from pathlib import Path


class ClaimsError(Exception):
    """Base of every error of ours; its message is meant for the person who can fix it."""


class BadInputError(ClaimsError):
    """A file or record that cannot be used: names what it is and what is wrong with it."""

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class ConfigError(ClaimsError):
    """A setting, extra or model folder is missing; the message says what to install or set."""
