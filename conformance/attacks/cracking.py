"""Offline search for the HMAC secret of one captured token, in word lists, on all cores.

Only the standard library: ``hmac.digest``'s OpenSSL one-shot HMAC over each candidate, driven by
``map`` so that the loop itself runs in C, and candidates compared with the token's signature as
bytes; no JWT library is called per candidate. A word list is read in blocks, never whole, and a
large one is cut into byte ranges that worker processes scan side by side, each aligned to the
next line. The bundled list (``conformance/data/weak_secrets.txt``) is public; a list the person
supplies may hold their own secrets, so a finding says which list it came from.

This module imports nothing outside the standard library, so worker processes start fast.
"""

from __future__ import annotations

import base64
import functools
import hmac
import multiprocessing
import operator
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import repeat
from pathlib import Path
from typing import BinaryIO

# What hmac.digest itself calls for a digest given by name (OpenSSL's one-shot HMAC); calling it
# directly saves a Python frame per candidate, about 15% of a candidate's time. Without OpenSSL's
# hashlib (a rare build), hmac.digest.
one_shot_hmac: Callable[[bytes, bytes, str], bytes]
try:
    from _hashlib import hmac_digest as one_shot_hmac
except ImportError:
    one_shot_hmac = hmac.digest

BUNDLED_FILE = "weak_secrets.txt"
# HMAC JWS algorithms and the hashlib name ``hmac.digest`` takes for each (RFC 7518 §3.2).
HMAC_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
# Bytes read per block: large enough that the per-block work vanishes, small enough to stay cheap.
BLOCK_BYTES = 1 << 20
# Word lists smaller than this (in total) are scanned in this process: starting workers costs more.
PARALLEL_FROM = 2 << 20
# A range a worker scans is never smaller than this, whatever the number of cores.
MIN_RANGE = 1 << 20


@dataclass(frozen=True)
class Wordlist:
    path: str = ""  # "" is the bundled list

    @property
    def public(self) -> bool:
        return not self.path

    @property
    def name(self) -> str:
        return f"the bundled list {BUNDLED_FILE}" if self.public else f"your word list {Path(self.path).name}"


@dataclass(frozen=True)
class Signed:
    """What a candidate must reproduce: the HMAC of ``message`` equal to ``signature``."""

    message: bytes
    signature: bytes
    hash_name: str

    @classmethod
    def of(cls, token: str, algorithm: str) -> Signed:
        if algorithm not in HMAC_HASHES:
            raise ValueError(f"{algorithm} is not an HMAC algorithm ({', '.join(HMAC_HASHES)}): there is no "
                             "shared secret to crack")
        message, _dot, signature = token.rpartition(".")
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        return cls(message.encode(), raw, HMAC_HASHES[algorithm])


@dataclass(frozen=True)
class Cracked:
    secret: bytes
    wordlist: Wordlist
    entry: int  # 1-based: the entry of the bundled list, or the line of the person's file

    @property
    def text(self) -> str:
        return self.secret.decode("utf-8", "replace")


@functools.cache
def bundled_secrets() -> tuple[str, ...]:
    """The bundled list of default and common signing secrets, in file order, comments left out."""
    text = resources.files("conformance").joinpath("data", BUNDLED_FILE).read_text(encoding="utf-8")
    return tuple(line.rstrip("\r") for line in text.split("\n") if line.strip() and not line.startswith("#"))


def index_of(signed: Signed, candidates: list[bytes]) -> int:
    """The index of the first candidate whose HMAC is the signature, or -1."""
    remaining = iter(candidates)
    digests = map(one_shot_hmac, remaining, repeat(signed.message), repeat(signed.hash_name))
    if signed.signature not in digests:  # consumes the digests up to the match, in C
        return -1
    return len(candidates) - operator.length_hint(remaining) - 1


def verifies(token: str, algorithm: str, secret: bytes) -> bool:
    """Does ``token`` (signed with the HMAC ``algorithm``) verify with ``secret``?"""
    return index_of(Signed.of(token, algorithm), [secret]) == 0


def crack(token: str, algorithm: str, wordlists: Sequence[str] = (), *, bundled: bool = True,
          workers: int | None = None) -> Cracked | None:
    """The secret ``token`` was signed with, from the bundled list (first) or ``wordlists`` (files,
    in order), or None. ``workers`` processes scan large lists (default: every usable core)."""
    signed = Signed.of(token, algorithm)
    if bundled:
        candidates = [secret.encode() for secret in bundled_secrets()]
        found = index_of(signed, candidates)
        if found >= 0:
            return Cracked(candidates[found], Wordlist(), found + 1)
    paths = [str(path) for path in wordlists]
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"word list {path} does not exist or is not a file")
    sizes = [os.path.getsize(path) for path in paths]
    count = workers or usable_cores()
    if count == 1 or sum(sizes) < PARALLEL_FROM:
        for path, size in zip(paths, sizes, strict=True):
            hit = scan_range((path, 0, size, signed))
            if hit is not None:
                return _cracked(path, hit)
        return None
    tasks = [(path, start, end, signed) for path, size in zip(paths, sizes, strict=True)
             for start, end in split_ranges(size, count)]
    with _pool_context().Pool(min(count, len(tasks))) as pool:
        for hit in pool.imap(scan_range, tasks):  # in order: the first list's match wins
            if hit is not None:
                pool.terminate()
                return _cracked(hit[0], hit)
    return None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork starts a worker in a millisecond; it is safe only while no other thread holds a lock.
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def split_ranges(size: int, parts: int) -> list[tuple[int, int]]:
    """``[start, end)`` byte ranges covering ``size`` bytes, about ``parts`` of them."""
    step = max(MIN_RANGE, -(-size // max(parts, 1)))
    return [(start, min(start + step, size)) for start in range(0, size, step)] or [(0, 0)]


# A hit: the file, the offset of the block the match is in, the match's index in it, the secret.
Hit = tuple[str, int, int, bytes]


def scan_range(task: tuple[str, int, int, Signed]) -> Hit | None:
    """Scan the lines of ``path`` that begin in ``[start, end)`` (one line is one candidate; a
    trailing CR is dropped). Top level, so that worker processes can be handed it."""
    path, start, end, signed = task
    with open(path, "rb") as handle:
        position = _line_start(handle, start)
        while position < end:
            block = handle.read(min(BLOCK_BYTES, end - position))
            if not block:
                break
            if not block.endswith(b"\n"):
                block += handle.readline()  # the line begins in this range: finish it
            lines = block.split(b"\n")
            if not lines[-1]:
                lines.pop()
            if b"\r" in block:
                lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
            found = index_of(signed, lines)
            if found >= 0:
                return path, position, found, lines[found]
            position += len(block)
    return None


def _line_start(handle: BinaryIO, offset: int) -> int:
    """Seek to the first line that begins at or after ``offset``; its position."""
    if offset == 0:
        handle.seek(0)
        return 0
    handle.seek(offset - 1)
    handle.readline()
    return handle.tell()


def _cracked(path: str, hit: Hit) -> Cracked:
    _path, block_start, index, secret = hit
    return Cracked(secret, Wordlist(path), _lines_before(path, block_start) + index + 1)


def _lines_before(path: str, offset: int) -> int:
    lines = 0
    with open(path, "rb") as handle:
        while offset > 0:
            block = handle.read(min(BLOCK_BYTES, offset))
            if not block:
                break
            lines += block.count(b"\n")
            offset -= len(block)
    return lines
