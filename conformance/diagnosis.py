"""What was odd about a target's answer, in words: appended to the reason of a check that ended in
error, so a person reading "login answered 200 without tokens" also reads why (a web page, a
redirect the suite does not follow, a rate limit, a body cut at the size cap)."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.targets.base import MAX_BODY_BYTES, Response

# Content of these types is read as JSON by the checks.
JSON_MARKERS = ("json",)


def explain(response: Response | None) -> str:
    """A parenthesised note on ``response`` when something about it is odd, else ""."""
    if response is None:
        return ""
    notes = []
    status = response.status
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        where = f" to {location}" if location else ""
        notes.append(f"it was a {status} redirect{where}; the suite never follows redirects, so credentials "
                     "stay with the target: point target.base_url at the address that answers itself")
    elif status == 429:
        wait = response.headers.get("retry-after", "")
        notes.append("it was 429 Too Many Requests" + (f" with Retry-After {wait}" if wait else "")
                     + ": the target is rate-limiting the suite")
    elif response.body and status != 204:
        kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not any(marker in kind for marker in JSON_MARKERS):
            notes.append(f"it was {kind or 'without a content type'}, not JSON: is target.base_url the API?")
        elif response.json() is None and not response.truncated:
            notes.append("it claims to be JSON but does not parse")
        elif response.json() is not None and not isinstance(response.json(), dict):
            notes.append(f"it is JSON, but {_shape(response.json())}, not an object")
    if response.truncated:
        notes.append(f"its body was longer than the {MAX_BODY_BYTES:,} byte cap and was cut there")
    if not notes:
        return ""
    return f" (the target's last answer, {status} to {_where(response)}: " + "; ".join(notes) + ")"


def _shape(value: object) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"a {type(value).__name__}"


def _where(response: Response) -> str:
    if not response.url:
        return "the last request"
    return urlsplit(response.url).path or "/"
