"""Answers remembered per object, without writing attributes onto the object."""
from __future__ import annotations

import weakref
from typing import Generic, TypeVar

T = TypeVar("T")


class PerObjectCache(Generic[T]):
    """An answer remembered for one object (request.user lives for one request, so a question asked
    on every page costs one query per request). Keyed by the object itself, not by its pk: another
    request's user object asks the database again; the entry goes when the object does."""

    def __init__(self) -> None:
        self._values: dict[int, tuple[weakref.ref, T]] = {}

    def get(self, obj) -> T | None:
        found = self._values.get(id(obj))
        return found[1] if found is not None and found[0]() is obj else None

    def set(self, obj, value: T) -> None:
        key = id(obj)
        if key not in self._values:
            weakref.finalize(obj, self._values.pop, key, None)
        self._values[key] = (weakref.ref(obj), value)
