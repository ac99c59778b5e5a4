"""Rebuild web/static/graphiql/vendor/ (GraphiQL's browser files) from pinned npm packages.

The server serves GraphiQL from its own copy instead of a CDN: the page works offline and tells
no third party that someone opened it. The copy is committed (about 1.7 MB), so `make run` needs
no npm; this script makes it again from scripts/graphiql-assets/package-lock.json:

    python scripts/build_graphiql_assets.py           # write web/static/graphiql/vendor/
    python scripts/build_graphiql_assets.py --check   # rebuild aside; fail if the copy differs

The files are copied byte for byte from the packages' own prebuilt browser (UMD) builds, so no
bundler runs and each file can be compared with the published package. GraphiQL 4.1 is the last
release with a UMD build (5 ships ES modules for a bundler, with Monaco); React 18.3 is the last
with one too. To upgrade: change the pins in scripts/graphiql-assets/package.json, run
`npm install --ignore-scripts` there to update the lock file, then this script.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES_DIR = ROOT / "scripts" / "graphiql-assets"
VENDOR_DIR = ROOT / "web" / "static" / "graphiql" / "vendor"

# package -> {file in the package: name in vendor/}
FILES: dict[str, dict[str, str]] = {
    "react": {"umd/react.production.min.js": "react.production.min.js"},
    "react-dom": {"umd/react-dom.production.min.js": "react-dom.production.min.js"},
    "graphiql": {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
    "@graphiql/plugin-explorer": {
        "dist/index.umd.js": "plugin-explorer.umd.js",
        "dist/style.css": "plugin-explorer.css",
    },
}
LICENCE_NAMES = ("license", "licence", "license.md", "licence.md", "license.txt", "license-mit", "copying")


def install_packages() -> Path:
    """`npm ci`: exactly the lock file's versions, checked against its integrity hashes."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is needed to rebuild the GraphiQL assets")
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PACKAGES_DIR, check=True
    )
    return PACKAGES_DIR / "node_modules"


def build(node_modules: Path, output: Path) -> None:
    pins: dict[str, str] = json.loads((PACKAGES_DIR / "package.json").read_text())["dependencies"]
    output.mkdir(parents=True, exist_ok=True)
    for package, files in FILES.items():
        installed = json.loads((node_modules / package / "package.json").read_text())["version"]
        if installed != pins[package]:
            sys.exit(f"{package} {installed} is installed, but {pins[package]} is pinned")
        for source, name in files.items():
            shutil.copyfile(node_modules / package / source, output / name)
    (output / "LICENSES.md").write_text(licences(node_modules))


def licences(node_modules: Path) -> str:
    """Every package of the installed tree with its licence text: the bundles embed their
    dependencies (GraphiQL's holds CodeMirror, graphql-js, Radix, markdown-it...), and the tree
    is a superset of what they embed."""
    lock = json.loads((PACKAGES_DIR / "package-lock.json").read_text())
    lines = [
        "# Licences of the GraphiQL assets",
        "",
        "Written by scripts/build_graphiql_assets.py: every npm package installed to build these files,",
        "a superset of those whose code the bundles contain.",
        "",
    ]
    for path in sorted(lock["packages"]):
        if not path:
            continue  # the root project
        entry = lock["packages"][path]
        directory = node_modules.parent / path
        name = path.rsplit("node_modules/", 1)[-1]
        lines += [f"## {name} {entry['version']} ({entry.get('license', 'licence not declared')})", ""]
        texts = [p for p in sorted(directory.iterdir()) if p.is_file() and p.name.lower() in LICENCE_NAMES]
        if texts:
            lines += ["```", texts[0].read_text(errors="replace").strip(), "```", ""]
        else:
            lines += ["The package ships no licence file; its package.json declares the licence above.", ""]
    return "\n".join(lines)


def differences(expected: Path, actual: Path) -> list[str]:
    comparison = filecmp.dircmp(expected, actual)
    _, mismatch, errors = filecmp.cmpfiles(expected, actual, comparison.common_files, shallow=False)
    return (
        [f"missing: {name}" for name in comparison.left_only]
        + [f"not built by this script: {name}" for name in comparison.right_only]
        + [f"differs: {name}" for name in mismatch + errors]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ from a rebuild")
    arguments = parser.parse_args()
    node_modules = install_packages()
    if not arguments.check:
        shutil.rmtree(VENDOR_DIR, ignore_errors=True)
        build(node_modules, VENDOR_DIR)
        print(f"wrote {VENDOR_DIR.relative_to(ROOT)}: {sorted(p.name for p in VENDOR_DIR.iterdir())}")
        return
    with tempfile.TemporaryDirectory() as scratch:
        build(node_modules, Path(scratch))
        problems = differences(Path(scratch), VENDOR_DIR)
    if problems:
        sys.exit("web/static/graphiql/vendor/ is not what the pinned packages build:\n" + "\n".join(problems))
    print("web/static/graphiql/vendor/ matches the pinned packages")


if __name__ == "__main__":
    main()
