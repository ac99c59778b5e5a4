"""The examples of a Markdown page, and what may differ between the answer shown and the answer a
server gives on another run: moments, generated ids and cursors.

An example is a ```graphql block followed by its answer, a ```json block whose object holds only
`data` and `errors`; a ```json block between the two holds the variables. A ```graphql block
without such an answer (a schema excerpt, a subscription shown with its WebSocket messages) is
not an example.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.markdown import Block, Document


@dataclass(frozen=True)
class Example:
    query: Block
    variables: dict[str, Any]
    answer: Block

    @property
    def expected(self) -> Any:
        return json.loads(self.answer.text)


def is_answer(block: Block) -> bool:
    value = json.loads(block.text)
    return isinstance(value, dict) and bool(value) and set(value) <= {"data", "errors"}


def examples(document: Document) -> list[Example]:
    found = []
    blocks = list(document.blocks)
    for index, block in enumerate(blocks):
        if block.language != "graphql":
            continue
        following = []
        for later in blocks[index + 1 :]:
            if later.language == "graphql":
                break
            if later.language == "json":
                following.append(later)
        answers = [position for position, candidate in enumerate(following) if is_answer(candidate)]
        if not answers:
            continue  # a schema excerpt, or an operation shown but not sent over HTTP
        before = following[: answers[0]]
        assert len(before) <= 1, f"{document.path.name}:{block.line + 1}: one variables block at most"
        variables = json.loads(before[0].text) if before else {}
        found.append(Example(block, variables, following[answers[0]]))
    return found


# What differs from one run to the next: moments and generated ids (UUIDs, a pin's or a
# summary's) wherever they appear, and the cursors (which hold moments).
_VOLATILE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?:pin|summary)_\d+_[0-9a-z]{9}"
)
CURSOR_KEYS = frozenset({"cursor", "startCursor", "endCursor"})


class Bindings(dict[str, str]):
    """The run's value of each volatile value the docs show, bound where first seen: the same
    value in the docs must be the same value in the run, so `expectedUpdatedAt` can quote an
    `updatedAt` and `after` an `endCursor` that an earlier example answered."""

    def bind(self, shown: str, actual: str) -> bool:
        return self.setdefault(shown, actual) == actual

    def matches(self, shown: Any, actual: Any, key: str | None = None) -> bool:
        if isinstance(shown, dict):
            return (
                isinstance(actual, dict)
                and shown.keys() == actual.keys()
                and all(self.matches(shown[name], actual[name], name) for name in shown)
            )
        if isinstance(shown, list):
            return (
                isinstance(actual, list)
                and len(shown) == len(actual)
                and all(self.matches(item, other) for item, other in zip(shown, actual, strict=True))
            )
        if isinstance(shown, str) and isinstance(actual, str):
            if key in CURSOR_KEYS:
                return self.bind(shown, actual)
            parts = _VOLATILE.split(shown)
            pattern = "(.+?)".join(re.escape(part) for part in parts)
            found = re.fullmatch(pattern, actual, re.DOTALL)
            volatile = _VOLATILE.findall(shown)
            return found is not None and all(map(self.bind, volatile, found.groups()))
        return bool(shown == actual) and type(shown) is type(actual)

    def substitute(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {name: self.substitute(item) for name, item in value.items()}
        if isinstance(value, list):
            return [self.substitute(item) for item in value]
        if isinstance(value, str):
            for shown, actual in self.items():
                value = value.replace(shown, actual)
        return value


async def send(http: httpx.AsyncClient, example: Example, bindings: Bindings) -> Any:
    body = {"query": bindings.substitute(example.query.text), "variables": bindings.substitute(example.variables)}
    response = await http.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json"})
    return response.json()
