"""The repository stands alone: a fresh clone in any folder, with nothing beside it, has all that
its tests, benchmark, scripts and documents read or link. No tracked file names the shared folder
the project was written beside, an absolute path of the machine it was written on, or a relative
path that leaves the repository."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from support import REPOSITORY_ROOT

# Lock files name packages' own paths and registries, nothing of ours.
EXCLUDED_NAMES = {"package-lock.json"}
OUTSIDE = re.compile(r"\.\./shared\b|/work[/]")  # so as not to name them itself
RELATIVE = re.compile(r"(?<![\w.])(?:\.\./)+[\w.-]*")
CLIMB = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?(?:\.parents\[(?P<index>\d+)\]|(?P<parents>(?:\.parent)+))")


def tracked_text_files() -> dict[Path, str]:
    """Every tracked file that is text, by its path in the repository."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPOSITORY_ROOT, capture_output=True, check=True)
    files = {}
    for name in filter(None, listed.stdout.decode().split("\0")):
        path = Path(name)
        if path.name in EXCLUDED_NAMES or not (REPOSITORY_ROOT / path).is_file():
            continue
        try:
            files[path] = (REPOSITORY_ROOT / path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # not text: it names no path
    return files


def leaves_the_repository(path: str) -> bool:
    """Whether `path`, relative to the repository's root, points outside it."""
    normal = os.path.normpath(path)
    return normal == ".." or normal.startswith("../")


def offending_lines(pattern: re.Pattern[str], target: Callable[[Path, re.Match[str]], str] | None = None) -> list[str]:
    """`path:line: text` for each match of `pattern`, or, given `target` (where the match in
    that file points, relative to the root), for each match that points outside."""
    found = []
    for path, text in tracked_text_files().items():
        for number, line in enumerate(text.splitlines(), 1):
            for match in pattern.finditer(line):
                if target is None or leaves_the_repository(target(path, match)):
                    found.append(f"{path}:{number}: {line.strip()[:160]}")
    return found


def test_no_tracked_file_names_the_shared_folder_or_this_machines_paths() -> None:
    offenders = offending_lines(OUTSIDE)
    assert not offenders, "\n".join(offenders)


def test_no_relative_path_in_a_tracked_file_leaves_the_repository() -> None:
    def target(path: Path, match: re.Match[str]) -> str:
        return os.path.join(path.parent, match.group())

    offenders = offending_lines(RELATIVE, target)
    assert not offenders, "\n".join(offenders)


def test_no_module_climbs_out_of_the_repository_from_its_own_file() -> None:
    def target(path: Path, match: re.Match[str]) -> str:
        index = match.group("index")
        levels = int(index) + 1 if index is not None else match.group("parents").count(".parent")
        return os.path.join(path, *[".."] * levels)

    offenders = offending_lines(CLIMB, target)
    assert not offenders, "\n".join(offenders)
