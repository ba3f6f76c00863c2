"""The README's two commands exist: install and build, and run the tests.

The README is for users and changes often; this only checks what must stay
true of it, that the commands it tells a reader to type refer to files that
are there.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def shell_commands() -> list[list[str]]:
    """Every command in the README's ```sh blocks, split into words (one list per `&&`-separated command)."""
    found = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", README, re.S):
        for line in block.splitlines():
            for command in line.split("&&"):
                if command.strip() and not command.strip().startswith("#"):
                    found.append(shlex.split(command))
    return found


def test_the_install_and_build_command_names_files_that_exist() -> None:
    commands = shell_commands()
    install = [c for c in commands if c[:4] == ["python3", "-m", "pip", "install"]]
    assert install, "the README shows how to install the dependencies"
    requirements = install[0][install[0].index("-r") + 1]
    assert (REPO / requirements).is_file(), requirements
    build = [c for c in commands if c[:2] == ["python3", "build.py"]]
    assert build, "the README shows how to build the site"
    assert (REPO / "build.py").is_file()


def test_the_test_command_names_the_test_script() -> None:
    assert ["bash", "scripts/test.sh"] in shell_commands()
    script = (REPO / "scripts/test.sh").read_text(encoding="utf-8")
    assert "pytest" in script


def test_the_readme_is_short() -> None:
    """What the generator is, the two commands, the tables and commands; everything else is in docs/."""
    assert len(README.encode("utf-8")) <= 14_000


def test_the_field_and_settings_tables_are_the_declarations() -> None:
    """The README's tables are printed from schema.FIELDS and config.py's options: a new field or setting shows up there."""
    from digest.config import options_table
    from digest.content import fields_table

    for table in (fields_table(), options_table()):
        assert table.strip() in README, table.strip().splitlines()[2]
