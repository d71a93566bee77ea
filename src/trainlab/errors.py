"""Errors for people: one line that names the problem and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["UserError", "ConfigError", "DataError", "unknown_name", "did_you_mean"]


class UserError(ValueError):
    """A mistake in what the user asked for (config, file, name, shape).

    The CLI prints ``str(err)`` on one line and exits with status 2, without a traceback.
    """


class ConfigError(UserError):
    """An invalid configuration: unknown key, wrong type, value out of range."""


class DataError(UserError):
    """A missing, truncated or corrupt data file, or data of the wrong shape."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` if none is close."""
    lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(name).lower(), list(lower), n=1, cutoff=0.5)
    return f" (did you mean '{lower[close[0]]}'?)" if close else ""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> UserError:
    """Build the error for an unknown registry name: lists the choices, suggests the nearest."""
    choices = sorted(choices)
    return UserError(
        f"unknown {kind} '{name}'{did_you_mean(name, choices)}; choose one of: {', '.join(choices)}"
    )
