"""What an import did, for the person who ran it: what arrived, what was already there, what
was read differently from the file, and what the API could not hold.

Only the last makes an import incomplete (the command's exit status says so): everything else
is accounted for, in the database or in these lines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

EXAMPLES = 5  # ids shown per reason


@dataclass
class ImportReport:
    tables: tuple[str, ...]  # what the import brings in, in the order the report lists them
    imported: Counter[str] = field(default_factory=Counter)  # table -> rows written
    present: Counter[str] = field(default_factory=Counter)  # table -> rows the database had, left alone
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)  # (table, reason) -> rows or values
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)  # what was read as something else, and how often
    kept_in_metadata: Counter[str] = field(default_factory=Counter)  # metadata key -> sessions
    # (table, column) -> non-null values of a column the API has no field for (nothing imports it)
    unmapped: dict[tuple[str, str], int] = field(default_factory=dict)
    idle_clock_restarted: int = 0  # ephemeral sessions whose idle clock starts at the import

    @property
    def complete(self) -> bool:
        """Whether the API holds everything of the file that this importer reads."""
        return not self.refused

    def refuse(self, table: str, row_id: object, reason: str) -> None:
        """A row, or a value of one, that the API cannot hold."""
        self.refused[table, reason] += 1
        examples = self.examples.setdefault((table, reason), [])
        if len(examples) < EXAMPLES:
            examples.append(str(row_id))

    def lines(self) -> list[str]:
        tables = self.tables
        lines = [f"imported {self.imported[table]} {table}" for table in tables]
        lines += [
            f"already present, left as they were: {self.present[table]} {table}"
            for table in tables
            if self.present[table]
        ]
        lines += [f"kept in metadata: {key} ({count} sessions)" for key, count in sorted(self.kept_in_metadata.items())]
        lines += [
            f"not imported, no field for it: {table}.{column} ({count} non-null values)"
            for (table, column), count in sorted(self.unmapped.items())
        ]
        lines += [f"note: {note} ({count})" for note, count in self.notes.items()]
        if self.idle_clock_restarted:
            lines.append(
                f"note: {self.idle_clock_restarted} ephemeral sessions keep Kalito's updatedAt; "
                "their idle clock starts at this import"
            )
        for (table, reason), count in sorted(self.refused.items()):
            shown = ", ".join(self.examples[table, reason])
            more = " …" if count > len(self.examples[table, reason]) else ""
            lines.append(f"could not be held: {count} {table}: {reason} (e.g. {shown}{more})")
        return lines
