"""The golden site: the bundled sample (content/ and site.yaml) built and compared with tests/golden/sample/.

The build is the shared ``sample_site`` of conftest.py: a copy of the sample,
``--no-cache``, SOURCE_DATE_EPOCH fixed at 2026-06-01, share images as the
site sets them. Every output file is compared byte for byte with its copy
under tests/golden/sample/files/, except the PNG share images and the search
bundle (pagefind/), which are compared by the SHA-256 listed in
tests/golden/sample/png-sha256.txt (to keep the repository small), and ``.digest-manifest``, of which only the listed
paths are compared: its hashes include the generator's version, a hash of
its code, so they change with every edit to digest/ (tests/test_reproducible.py
and tests/test_cache_equivalence.py compare its bytes).

When a change to the output is intended, regenerate the snapshot and review
the diff in git:

    DIGEST_UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden.py

The share images depend on the fonts installed (scripts/test.sh installs Noto).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil

import pytest
from conftest import TESTS, Built
from sitekit import snapshot

from digest.output import MANIFEST

GOLDEN = TESTS / "golden" / "sample"
FILES = GOLDEN / "files"
PNG_LIST = GOLDEN / "png-sha256.txt"
UPDATE = os.environ.get("DIGEST_UPDATE_GOLDEN", "") not in ("", "0")
SHOWN = 3  # differing files shown as diffs in a failure
DIFF_LINES = 40  # lines of diff shown per file


def split_output(files: dict[str, bytes]) -> tuple[dict[str, bytes], dict[str, str]]:
    """The output as (text files by path, SHA-256 of each PNG by path); the manifest is left out."""
    texts = {name: data for name, data in files.items() if not hashed(name) and name != MANIFEST}
    pngs = {name: hashlib.sha256(data).hexdigest() for name, data in files.items() if hashed(name)}
    return texts, pngs


def hashed(name: str) -> bool:
    """Compared by SHA-256 only: the share images and the search bundle (binary, and large)."""
    return name.endswith(".png") or name.startswith("pagefind/")


def write_golden(texts: dict[str, bytes], pngs: dict[str, str]) -> None:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    for name, data in texts.items():
        target = FILES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    PNG_LIST.write_text("".join(f"{digest}  {name}\n" for name, digest in sorted(pngs.items())), encoding="utf-8")


def read_png_list() -> dict[str, str]:
    lines = PNG_LIST.read_text(encoding="utf-8").splitlines() if PNG_LIST.is_file() else []
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}


def unified(name: str, expected: bytes, actual: bytes) -> str:
    """A unified diff of one file, cut to DIFF_LINES lines."""
    try:
        old, new = expected.decode("utf-8").splitlines(), actual.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return f"{name}: binary file differs ({len(expected)} -> {len(actual)} bytes)"
    lines = list(difflib.unified_diff(old, new, f"golden/{name}", f"built/{name}", n=2, lineterm=""))
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... {len(lines) - DIFF_LINES} more diff lines"]
    return "\n".join(lines)


def test_the_sample_site_matches_the_golden_snapshot(sample_site: Built) -> None:
    built = snapshot(sample_site.out)
    texts, pngs = split_output(built)
    listed = sorted(line.split("\t", 1)[1] for line in built[MANIFEST].decode("utf-8").splitlines())
    assert listed == sorted(name for name in built if name != MANIFEST), "the manifest lists exactly the files in the output"
    if UPDATE:
        write_golden(texts, pngs)
    expected = snapshot(FILES)
    assert expected, "no golden snapshot: run DIGEST_UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden.py"
    problems: list[str] = []
    missing, extra = sorted(expected.keys() - texts.keys()), sorted(texts.keys() - expected.keys())
    if missing:
        problems.append(f"{len(missing)} files no longer built: {', '.join(missing[:10])}")
    if extra:
        problems.append(f"{len(extra)} files built that the snapshot lacks: {', '.join(extra[:10])}")
    changed = sorted(name for name in expected.keys() & texts.keys() if expected[name] != texts[name])
    if changed:
        problems.append(f"{len(changed)} files differ: {', '.join(changed[:10])}{' ...' if len(changed) > 10 else ''}")
        problems += [unified(name, expected[name], texts[name]) for name in changed[:SHOWN]]
    golden_pngs = read_png_list()
    if golden_pngs != pngs:
        differ = sorted(name for name in golden_pngs.keys() | pngs.keys() if golden_pngs.get(name) != pngs.get(name))
        problems.append(f"{len(differ)} share images differ from png-sha256.txt (are the Noto fonts installed?): {', '.join(differ[:10])}")
    if problems:
        pytest.fail("\n\n".join([*problems, "If the change is intended: DIGEST_UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden.py"]), pytrace=False)
