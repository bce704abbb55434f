"""The README's examples work as written: the commands it shows accept the options it gives, and
the examples that talk to the served reference use the address it is served on."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conformance.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _authconform_lines() -> list[str]:
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S):
        for line in block.splitlines():
            command = line.split(" # ", 1)[0].strip()
            if command.startswith("authconform "):
                lines.append(command)
    return lines


def test_the_served_examples_use_the_address_serve_listens_on() -> None:
    text = README.read_text()
    served = re.search(r"reference_impl serve .*--bind (\S+)", text)
    assert served is not None
    targets = set(re.findall(r"--target (http://127\.0\.0\.1:\d+)", text))
    # Before: the init example targeted :8080 while serve listened on :8000.
    assert targets == {f"http://{served.group(1)}"}, targets


@pytest.mark.parametrize("line", _authconform_lines())
def test_every_authconform_example_parses(line: str) -> None:
    argv = [arg for arg in shlex.split(line)[1:] if arg not in ("[--target", "URL]")]
    if "|" in argv:
        argv = argv[: argv.index("|")]
    build_parser().parse_args(argv)
