"""How a nested field loads in batches: declared in the field's own metadata, read by the
request's loaders (schema/context.py) and by the compiled plans (schema/plans.py). Apart from
both, so that any output type's module can declare its batched fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K")
T = TypeVar("T")


@dataclass(frozen=True)
class Batch(Generic[K, T]):
    """How a field loads in batches: by which attribute of its object (None there: the field is
    null, nothing to load), with which batch function (one DataLoader per function and request).

    A field with arguments names those that select what it loads (by their Python names): each
    key is then the tuple of the attribute and their values, so that one load answers a page
    of objects whatever mix of arguments its fields were given."""

    key: str
    # A value of the list that is an exception fails the fields of its key alone (DataLoader's way).
    load: Callable[[Sequence[K]], Awaitable[Sequence[T | BaseException]]]
    arguments: tuple[str, ...] = ()

    def key_of(self, source: object, arguments: Mapping[str, Any]) -> Any:
        """The key `source` loads by, given the field's arguments (None: nothing to load)."""
        value = getattr(source, self.key)
        if value is None or not self.arguments:
            return value
        return (value, *(arguments.get(name) for name in self.arguments))

    @property
    def metadata(self) -> dict[str, Batch[K, T]]:
        """The strawberry field metadata that marks a field as loaded by this batch."""
        return {BATCH: self}


BATCH = "kalito.batch"  # the key of a Batch in a strawberry field's metadata


def batch_of(metadata: Mapping[str, Any]) -> Batch[Any, Any] | None:
    """The Batch a field's metadata names, or None for a field resolved one object at a time."""
    batch = metadata.get(BATCH)
    return batch if isinstance(batch, Batch) else None
