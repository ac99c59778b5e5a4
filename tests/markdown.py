"""Just enough of Markdown to check the docs: headings and their sections, inline code, links,
tables and fenced code blocks, as GitHub renders them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

_FENCE = re.compile(r"^(`{3,})(\S*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int  # 0-based index into Document.lines


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language (the info string's first word) and its text."""

    language: str
    text: str
    line: int  # the 0-based line of its opening fence


@dataclass(frozen=True)
class Document:
    path: Path
    lines: tuple[str, ...]
    # For each line, whether it is prose (outside every fenced block, fences included).
    prose: tuple[bool, ...]
    headings: tuple[Heading, ...]
    blocks: tuple[Block, ...]

    @classmethod
    def read(cls, path: Path) -> Document:
        lines = tuple(path.read_text(encoding="utf-8").splitlines())
        prose: list[bool] = []
        headings: list[Heading] = []
        blocks: list[Block] = []
        fence: tuple[str, str, int] | None = None  # (backticks, language, opening line)
        body: list[str] = []
        for number, line in enumerate(lines):
            opening = _FENCE.match(line)
            if fence is None and opening:
                fence = (opening[1], opening[2], number)
                body = []
                prose.append(False)
            elif fence is not None:
                prose.append(False)
                if line.strip() == fence[0]:
                    blocks.append(Block(fence[1], "\n".join(body), fence[2]))
                    fence = None
                else:
                    body.append(line)
            else:
                prose.append(True)
                if heading := _HEADING.match(line):
                    headings.append(Heading(len(heading[1]), heading[2], number))
        return cls(path, lines, tuple(prose), tuple(headings), tuple(blocks))

    def section(self, heading: Heading) -> range:
        """The lines under `heading`, up to the next heading of its level or above."""
        later = (other.line for other in self.headings if other.line > heading.line and other.level <= heading.level)
        return range(heading.line + 1, next(later, len(self.lines)))

    def code_spans(self, lines: range | None = None) -> set[str]:
        """The texts of the inline code spans of the prose in `lines` (the whole document by default)."""
        numbers = range(len(self.lines)) if lines is None else lines
        return {span for number in numbers if self.prose[number] for span in _CODE_SPAN.findall(self.lines[number])}

    def code_headings(self) -> dict[str, Heading]:
        """The headings that are one inline code span and nothing else, by that code's text."""
        return {heading.text[1:-1]: heading for heading in self.headings if _CODE_SPAN.fullmatch(heading.text)}

    def links(self) -> list[tuple[int, str]]:
        """(line, target) of every inline link in the prose, inline code left out."""
        found = []
        for number, line in enumerate(self.lines):
            if self.prose[number]:
                found += [(number, target) for target in _LINK.findall(_CODE_SPAN.sub("", line))]
        return found

    @cached_property
    def anchors(self) -> set[str]:
        """The fragment of each heading, as GitHub makes it (duplicates get -1, -2...)."""
        made: dict[str, int] = {}
        anchors = set()
        for heading in self.headings:
            text = _LINK.sub(lambda link: link[0][1 : link[0].index("]")], heading.text).replace("`", "")
            anchor = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
            seen = made.get(anchor, 0)
            made[anchor] = seen + 1
            anchors.add(anchor if seen == 0 else f"{anchor}-{seen}")
        return anchors

    def table_rows(self) -> list[dict[str, str]]:
        """Each row of every table in the prose, as {header: cell}, cells stripped."""
        rows = []
        header: list[str] | None = None
        for number, line in enumerate(self.lines):
            if not (self.prose[number] and line.startswith("|")):
                header = None
                continue
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if header is None:
                header = cells
            elif not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                rows.append(dict(zip(header, cells, strict=False)))
        return rows
