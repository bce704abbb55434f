"""Attacks on JWT verification, written once for the checks, the scenarios and ``authconform forge``.

- ``forging``: tokens no library would sign (alg none, null and broken signatures, the psychic
  ECDSA signature), tampered claims, re-signing with a known key.
- ``confusion``: the HS256/RS256 key confusion, with every encoding of a published public key.
- ``headers``: key-selecting header injection (jwk, jku, x5u, kid) with the attacker's own keys.
- ``cracking``: offline search for an HMAC signing secret in word lists, on all cores.

Every forged token is a ``Forged`` string that knows the ``authconform forge`` line building it
again, so a report can give the person the way to rebuild it instead of a blanked token. This
package imports nothing at import time: the cracking workers start without PyJWT.
"""
