"""The served reference says in one line why it did not start, and where its log is."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.served import ServeError, reference_server


def test_a_server_that_cannot_start_says_why_without_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(ServeError) as caught, reference_server({"AUTHCONF_STORE": "bogus"}, tmp_path / "ref"):
        pass
    message = str(caught.value)
    assert "exited with 2" in message and "AUTHCONF_STORE" in message and "Traceback" not in message
    assert str(tmp_path / "ref" / "reference.log") in message
