"""What the tests and the benchmark share: the real databases they run on, the server started as
a process of its own, and Kalito files written the way Kalito writes them.

`tests/` and `bench/` both import from here and never from each other's modules (the benchmark's
smoke test, which tests `bench/`, is the one exception); nothing here imports either of them.
"""

from __future__ import annotations

from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
