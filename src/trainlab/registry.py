"""A registry of named factories (datasets, models, init schemes, optimizers, studies).

Modelled on timm's ``create_model``: each entry registers itself with a name and a one-line
description; an unknown name is a :class:`~trainlab.errors.UserError` that lists the choices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .errors import UserError, unknown_name

__all__ = ["Registry"]

F = TypeVar("F", bound=Callable[..., Any])


class Registry(Generic[F]):
    """Named factories of one kind, e.g. ``Registry("model")``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, tuple[F, str]] = {}

    def register(self, name: str, description: str = "") -> Callable[[F], F]:
        """Decorator: register ``fn`` under ``name``; the description defaults to its docstring."""

        def deco(fn: F) -> F:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            doc = description or (fn.__doc__ or "").strip().splitlines()[0:1]
            self._entries[name] = (fn, doc if isinstance(doc, str) else "".join(doc))
            return fn

        return deco

    def get(self, name: str) -> F:
        """The factory registered as ``name``; unknown names raise a UserError with a hint."""
        if not isinstance(name, str):  # (a list where one name goes: unhashable)
            raise UserError(f"a {self.kind} name is one string, got {name!r}")
        try:
            return self._entries[name][0]
        except KeyError:
            raise unknown_name(self.kind, name, self._entries) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> list[tuple[str, str]]:
        """``(name, description)`` pairs, sorted by name."""
        return [(n, self._entries[n][1]) for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries
