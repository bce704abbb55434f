"""Step 1 of ``authconform init``: the target's OpenAPI document, where it publishes one.

The usual places are tried in order (``openapi.OPENAPI_PATHS``); the first document that parses
is kept for the other steps to read candidates from, and its title names the draft.
"""

from __future__ import annotations

from conformance.operations_catalog import read_document
from conformance.wizard import openapi
from conformance.wizard.probing import ProbeContext


def read_openapi(ctx: ProbeContext) -> None:
    for path in openapi.OPENAPI_PATHS:
        answer = ctx.try_send("GET", path)
        if answer is None or answer.status != 200:
            continue
        data = read_document(answer.body)
        document = openapi.parse(data, path)
        if document is not None:
            ctx.document = document
            info = data.get("info") if isinstance(data, dict) else None
            title = info.get("title") if isinstance(info, dict) else None
            if isinstance(title, str):
                ctx.draft.name = title
            ctx.say(f"openapi: {path} describes {len(document.operations)} operations")
            return
    ctx.say("openapi: none found at the usual paths; probing common routes instead")
