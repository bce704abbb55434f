"""Contract section 7: credentials and errors. Login failures that do not tell an unknown user
from a wrong password (status, body, time), password length limits, no password or hash in any
answer, no route that mints tokens without credentials, and the error format of 401 and 403."""

from __future__ import annotations

import math
import random
import re
import secrets
import statistics
from collections.abc import Iterator
from typing import Any

from conformance import operations_catalog
from conformance.api import Principal, Tokens
from conformance.context import CheckContext
from conformance.operations_catalog import CatalogOperation
from conformance.profile import CONTRACT_PASSWORD_MAX
from conformance.registry import Level, Severity, check
from conformance.targets.base import Response
from conformance.verdict import CannotJudge, ControlFailed, NotApplicable

# Only the in-process target reads this header: it sets the client address of the request, so a
# check can spread login attempts over many client IPs without tripping the login limiter.
REMOTE_ADDR_HEADER = "X-Authconform-Remote-Addr"

# CRED-ENUM-TIMING: samples per side, untimed warm-up pairs, and how clearly the two sides must
# be separated before the check fails (all three must hold).
TIMING_SAMPLES = 16
TIMING_MIN_SAMPLES = 12
TIMING_WARMUP = 2
TIMING_MIN_DELTA = 0.8  # |Cliff's delta|: 1.0 means every sample of one side is slower
TIMING_MIN_RATIO = 1.5  # slower median / faster median
TIMING_MIN_GAP = 0.020  # seconds between the medians
# Sampling may stop early, after this many pairs, when the sides are already apart beyond doubt:
# complete separation (|delta| = 1) with a median ratio and gap at least twice the thresholds.
TIMING_EARLY_SAMPLES = 8
# Login attempts left unused in every limiter window, for the logins around the sampling.
LOGIN_MARGIN = 3

# Answer fields that legitimately differ between two otherwise identical errors.
_VARIABLE_KEY = re.compile(r"^(request|trace|correlation|span)[_-]?id$|^(timestamp|time|ts|date|now|at)$",
                           re.IGNORECASE)
# Password hash formats (argon2, bcrypt, PBKDF2 as Werkzeug and Django write them, scrypt).
_HASH_SHAPE = re.compile(r"\$argon2(id|i|d)\$|\$2[abxy]\$\d\d\$|pbkdf2:sha\d+|pbkdf2_sha\d+\$|\$scrypt\$")
_SECRET_KEYS = {"password", "passwd", "pwd", "pass", "passwordhash", "hashedpassword", "pwhash",
                "passhash", "hash", "passworddigest", "encryptedpassword", "salt"}
_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_TOKEN_KEYS = {"access_token", "token", "jwt", "id_token", "refresh_token", "accesstoken", "auth_token"}

# Routes that debug and test helpers commonly mint tokens on.
MINT_ROUTES = (
    "/debug/token", "/test/token", "/dev/token", "/auth/test-token", "/auth/debug-token",
    "/auth/dev-token", "/auth/debug/token", "/auth/test/token", "/api/token/test", "/api/test/token",
    "/api/debug/token", "/api/test-token", "/test-token", "/debug-token", "/token/test", "/_debug/token",
    "/internal/token", "/debug/login", "/auth/dev-login",
)


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _in_process(ctx: CheckContext) -> bool:
    return ctx.target.base_url.startswith("inprocess:")


def _unknown(ctx: CheckContext, user: Principal) -> Principal:
    """A user that does not exist, in the same tenant as ``user``."""
    return Principal(ctx.users.username("nobody-"), user.password, user.tenant, user.role)


def _wrong_password(ctx: CheckContext, user: Principal) -> Principal:
    return Principal(user.username, ctx.users.password(), user.tenant, user.role, user.user_id)


def _failed_login_pair(ctx: CheckContext) -> tuple[Response, Response]:
    """One login of an unknown user and one with a wrong password, the same password text in both."""
    user = ctx.users.create("viewer")
    ctx.baseline(ctx.api.login(user))
    wrong = _wrong_password(ctx, user)
    unknown = ctx.api.login_response(_unknown(ctx, wrong), retry_limited=True)
    mistaken = ctx.api.login_response(wrong, retry_limited=True)
    for name, response in (("an unknown user", unknown), ("a wrong password", mistaken)):
        ctx.control(response.status != 429, f"the login of {name} was rate limited; run the check alone")
        ctx.control(not ctx.api.logged_in(response), f"the login of {name} succeeded ({response.status})")
    return unknown, mistaken


@check(
    "CRED-ENUM-STATUS",
    controls=("valid-token", "no-token", "liveness"),
    title="log in as an unknown user and as a known user with a wrong password; compare statuses",
    rule="login failure answers the same status for an unknown user and a wrong password",
    severity=Severity.MEDIUM,
    references=("ASVS 2.2.1", "ASVS 3.2.3", "API2:2023"),
)
def enumeration_status(ctx: CheckContext) -> None:
    unknown, wrong = _failed_login_pair(ctx)
    ctx.details["statuses"] = {"unknown_user": unknown.status, "wrong_password": wrong.status}
    ctx.expect(unknown.status == wrong.status,
               f"an unknown user answers {unknown.status}, a wrong password {wrong.status}: "
               "usernames can be enumerated")


def _normalised(response: Response) -> Any:
    data = response.json()
    if data is None:
        return response.text.strip()

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not _VARIABLE_KEY.search(str(k))}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(data)


@check(
    "CRED-ENUM-BODY",
    controls=("valid-token", "no-token", "liveness"),
    title="log in as an unknown user and with a wrong password; compare the error bodies",
    rule="login failure answers the same body for an unknown user and a wrong password",
    severity=Severity.MEDIUM,
    references=("ASVS 2.2.1", "ASVS 3.2.3", "API2:2023"),
)
def enumeration_body(ctx: CheckContext) -> None:
    unknown, wrong = _failed_login_pair(ctx)
    first, second = _normalised(unknown), _normalised(wrong)
    if first != second:
        differing = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k)) \
            if isinstance(first, dict) and isinstance(second, dict) else ["body"]
        ctx.details["differing_fields"] = differing
    ctx.expect(first == second, "the login error for an unknown user differs from the one for a wrong "
                                "password (" + ", ".join(ctx.details.get("differing_fields", [])) + ")")


# ---------------------------------------------------------------------------- timing


def cliffs_delta(xs: list[float], ys: list[float]) -> float:
    """Cliff's delta: P(x > y) - P(x < y) over all pairs, from -1 to 1 (0: no separation)."""
    greater = sum(1 for x in xs for y in ys if x > y)
    smaller = sum(1 for x in xs for y in ys if x < y)
    return (greater - smaller) / (len(xs) * len(ys))


def trimmed_mean(values: list[float], cut: float = 0.2) -> float:
    ordered = sorted(values)
    drop = int(len(ordered) * cut)
    kept = ordered[drop:len(ordered) - drop] or ordered
    return sum(kept) / len(kept)


def timing_separated(unknown: list[float], wrong: list[float]) -> tuple[bool, dict[str, Any]]:
    """Are the two timing samples clearly apart? Effect size, median ratio and gap must all agree."""
    delta = cliffs_delta(wrong, unknown)
    median_unknown, median_wrong = statistics.median(unknown), statistics.median(wrong)
    low, high = sorted((median_unknown, median_wrong))
    ratio = high / low if low > 0 else math.inf
    summary = {
        "samples_per_side": len(unknown),
        "median_ms": {"unknown_user": round(median_unknown * 1000, 3),
                      "wrong_password": round(median_wrong * 1000, 3)},
        "trimmed_mean_ms": {"unknown_user": round(trimmed_mean(unknown) * 1000, 3),
                            "wrong_password": round(trimmed_mean(wrong) * 1000, 3)},
        "cliffs_delta": round(delta, 3),
        "median_ratio": round(ratio, 3) if ratio != math.inf else "inf",
        "thresholds": {"abs_cliffs_delta": TIMING_MIN_DELTA, "median_ratio": TIMING_MIN_RATIO,
                       "median_gap_ms": TIMING_MIN_GAP * 1000},
    }
    separated = abs(delta) > TIMING_MIN_DELTA and ratio > TIMING_MIN_RATIO and high - low > TIMING_MIN_GAP
    return separated, summary


def beyond_doubt(unknown: list[float], wrong: list[float]) -> bool:
    """The early-stop rule: every sample of one side is slower than every sample of the other, by
    twice the ratio and twice the gap the verdict needs."""
    if min(len(unknown), len(wrong)) < TIMING_EARLY_SAMPLES:
        return False
    low, high = sorted((statistics.median(unknown), statistics.median(wrong)))
    return (abs(cliffs_delta(wrong, unknown)) == 1.0 and low > 0 and high / low > 2 * TIMING_MIN_RATIO
            and high - low > 2 * TIMING_MIN_GAP)


class _TimingPlan:
    """How many pairs to sample, in which batches, from how many accounts, within the login limits."""

    def __init__(self, ctx: CheckContext) -> None:
        limits = ctx.profile.rate_limits
        self.spoof = _in_process(ctx)
        self.limited = ctx.profile.declares("rate_limit_login") and not self.spoof
        self.window = float(limits.login_window)
        self.samples = TIMING_SAMPLES
        if not self.limited:
            self.per_batch = TIMING_WARMUP + self.samples
            # With a client IP per attempt (in-process) one account never meets its limit.
            self.accounts = 1 if self.spoof else 3
            return
        self.per_batch = (limits.login_ip_limit - LOGIN_MARGIN) // 2
        # Pre-provisioned accounts are few: wrong passwords per window stay under each one's limit.
        per_account = max(1, limits.login_account_limit - 1)
        self.per_batch = min(self.per_batch, ctx.users.distinct("viewer") * per_account)
        if self.per_batch < 1:
            raise NotApplicable(f"the declared login limit ({limits.login_ip_limit} per client IP) leaves "
                                "no room to sample login times")
        if ctx.target.clock is None:
            # Every batch waits one full window first (earlier checks may have used this one).
            batches = int(ctx.profile.target.max_wait // (self.window + 1))
            self.samples = min(self.samples, batches * self.per_batch - TIMING_WARMUP)
            if self.samples < TIMING_MIN_SAMPLES:
                raise NotApplicable(
                    f"sampling {TIMING_MIN_SAMPLES} login pairs within the declared login limits "
                    f"({limits.login_ip_limit} per {limits.login_window:g} s) needs longer waits than "
                    f"target.max_wait ({ctx.profile.target.max_wait:g} s) allows")
        self.accounts = math.ceil(self.per_batch / max(1, limits.login_account_limit - 1))

    def batches(self) -> Iterator[range]:
        total = TIMING_WARMUP + self.samples
        for start in range(0, total, self.per_batch):
            yield range(start, min(total, start + self.per_batch))


def _next_window(ctx: CheckContext, plan: _TimingPlan) -> None:
    if not plan.limited:
        return
    if ctx.target.clock is not None:
        ctx.clock.advance(plan.window + 1)
    elif not (ctx.profile.users.source != "accounts" and ctx.fresh_address()):
        # A client address nobody used (the target keys its login limits per address, as the
        # profile's client_addresses says) starts unspent budgets without waiting.
        ctx.sleep(plan.window + 1, "a fresh login window for the next batch of timed logins")


@check(
    "CRED-ENUM-TIMING",
    exclusive=True,  # a timing comparison: other checks' load on the target would blur it
    controls=("valid-token", "no-token", "liveness"),
    title="time interleaved failed logins of unknown users and of wrong passwords; compare statistically",
    rule="login failure takes statistically the same time for an unknown user and a wrong password",
    severity=Severity.MEDIUM,
    references=("ASVS 2.2.1", "ASVS 3.2.3", "API2:2023"),
)
def enumeration_timing(ctx: CheckContext) -> None:
    plan = _TimingPlan(ctx)
    accounts = [ctx.users.create("viewer") for _ in range(plan.accounts)]
    # Sampling may outlast the target's idle timeout: the token kept for the liveness control is a
    # fresh login after it (the login margin leaves room), which also shows logins still work.
    ctx.baseline(ctx.api.login(accounts[0]), alive_after=False)
    shuffle = random.Random(secrets.randbits(32))
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    attempt = 0
    for batch in plan.batches():
        if beyond_doubt(timings["unknown"], timings["wrong"]):
            ctx.details["stopped_early_after"] = len(timings["unknown"])
            break
        _next_window(ctx, plan)
        for index in batch:
            if beyond_doubt(timings["unknown"], timings["wrong"]):
                ctx.details["stopped_early_after"] = len(timings["unknown"])
                break
            account = accounts[index % len(accounts)]
            wrong = _wrong_password(ctx, account)
            attempts = [("unknown", _unknown(ctx, wrong)), ("wrong", wrong)]
            shuffle.shuffle(attempts)
            for kind, principal in attempts:
                attempt += 1
                headers = {REMOTE_ADDR_HEADER: f"10.{attempt // 65536 % 256}.{attempt // 256 % 256}."
                                               f"{attempt % 256}"} if plan.spoof else None
                response = ctx.api.login_response(principal, headers=headers)
                if response.status == 429:
                    raise ControlFailed("a login was rate limited while sampling times; the declared "
                                        "login limits may be lower than the target's real ones")
                ctx.control(not _ok(response.status), f"a failed login succeeded ({response.status})")
                if index >= TIMING_WARMUP:
                    timings[kind].append(response.elapsed)
    # The sampling may outlast a short access TTL or the idle timeout: liveness is judged on a login
    # made after it (from a fresh client address where the profile gives them; the login margin
    # leaves room otherwise), which also shows logins still work.
    ctx.fresh_address()
    ctx.live = [(ctx.api.login(accounts[0]), "a fresh login of the check's account after the sampling")]
    separated, summary = timing_separated(timings["unknown"], timings["wrong"])
    ctx.details["timing"] = summary
    medians = summary["median_ms"]
    ctx.expect(not separated,
               f"failed logins of unknown users and of wrong passwords take clearly different times "
               f"(medians {medians['unknown_user']} ms vs {medians['wrong_password']} ms, "
               f"Cliff's delta {summary['cliffs_delta']}): usernames can be enumerated by timing")


# ---------------------------------------------------------------------------- passwords


def _password_of(ctx: CheckContext, length: int) -> str:
    """A password of exactly ``length`` characters with mixed character classes."""
    text = ("Aa1-" + secrets.token_urlsafe(length + 4))[:max(0, length)]
    while len(text) < length:
        text += "x"
    ctx.redactor.add(text)
    return text


@check(
    "CRED-PASSWORD-LENGTH",
    controls=("valid-token", "no-token", "liveness"),
    title="create users with passwords one short of, at, and one over the declared length limits",
    rule="passwords shorter than the minimum or longer than the maximum are refused; both limits accepted",
    severity=Severity.MEDIUM,
    references=("ASVS 2.1.1", "ASVS 2.1.2", "API2:2023"),
)
def password_length(ctx: CheckContext) -> None:
    by_admin = ctx.profile.declares("user_admin")
    if not by_admin and not ctx.profile.declares("signup"):
        raise NotApplicable("needs capability 'user_admin' or 'signup' to create users with chosen passwords")
    limits = ctx.profile.passwords
    admin_tokens: Tokens | None = None
    role = ctx.profile.roles_by_level()[0] if ctx.profile.roles else "viewer"
    if by_admin:
        admin = ctx.users.create("admin")
        admin_tokens = ctx.api.login(admin)
        ctx.baseline(admin_tokens)
    else:  # the controls on a user of its own sign-up
        ctx.baseline(ctx.api.login(ctx.users.create(role)))

    def create(password: str, note: str) -> int:
        username = ctx.users.username("pwlen-")
        if admin_tokens is not None:
            return ctx.api.call("user_create", auth=admin_tokens, note=note,
                                body={"username": username, "password": password, "role": role}).status
        principal = Principal(username, password, f"t-{secrets.token_hex(4)}", "admin")
        return ctx.api.call("signup", note=note, body={"username": principal.username,
                                                      "password": principal.password,
                                                      "tenant": principal.tenant}).status

    cases = [
        (limits.min_length - 1, False, "one under the minimum"),
        (limits.min_length, True, "exactly the minimum"),
    ]
    if limits.has_maximum:
        cases += [(limits.max_length, True, "exactly the maximum"),
                  (limits.max_length + 1, False, "one over the maximum")]
    else:  # no maximum declared: the contract's longest password must still be taken whole
        cases.append((CONTRACT_PASSWORD_MAX, True, "the contract's maximum (the target declares none)"))
    outcomes: dict[str, int] = {}
    wrong: list[str] = []
    for length, allowed, label in cases:
        if length < 0:
            continue
        status = create(_password_of(ctx, length), f"password {label} ({length} characters)")
        outcomes[f"{length} ({label})"] = status
        if allowed and not _ok(status):
            wrong.append(f"a password {label} ({length} characters) was refused ({status})")
        if not allowed and not ctx.rejected(ctx.last_response):  # type: ignore[arg-type]
            wrong.append(f"a password {label} ({length} characters) answered {status} instead of a 4xx refusal")
    ctx.details["statuses"] = outcomes
    ctx.expect(not wrong, "; ".join(wrong))


# ---------------------------------------------------------------------------- leaks


def _secret_findings(response: Response, passwords: list[str], what: str) -> list[str]:
    findings = []
    texts = [response.text] + [f"{k}: {v}" for k, v in response.headers.as_dict().items()]
    blob = "\n".join(texts)
    for password in passwords:
        if password and password in blob:
            findings.append(f"{what} contains a password")
            break
    if _HASH_SHAPE.search(blob):
        findings.append(f"{what} contains something shaped like a password hash")

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                normal = re.sub(r"[_\-\s]", "", str(key)).lower()
                if normal in _SECRET_KEYS and isinstance(item, str) and item:
                    findings.append(f"{what} has a field named {key!r}")
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(response.json())
    return findings


@check(
    "CRED-NO-SECRET-LEAK",
    controls=("valid-token", "no-token", "liveness"),
    title="read the answers of sign-up, login, me, user list and user creation for passwords and hashes",
    rule="a password is never echoed or returned, and its hash never exposed",
    severity=Severity.HIGH,
    references=("ASVS 2.4.1", "ASVS 8.3.1", "API3:2023"),
)
def no_secret_leak(ctx: CheckContext) -> None:
    findings: list[str] = []
    passwords: list[str] = []

    def scan(response: Response, what: str) -> Response:
        findings.extend(_secret_findings(response, passwords, what))
        return response

    if ctx.profile.declares("signup") and ctx.profile.users.source == "signup":
        admin = Principal(ctx.users.username("admin-"), ctx.users.password(), f"t-{secrets.token_hex(4)}",
                          "admin")
        passwords.append(admin.password)
        signup = scan(ctx.api.signup(admin), "the sign-up answer")
        ctx.control(_ok(signup.status), f"sign-up of a fresh tenant answered {signup.status}")
    else:
        admin = ctx.users.create("admin")
        passwords.append(admin.password)
    login = scan(ctx.api.login_response(admin, retry_limited=True), "the login answer")
    admin_tokens = ctx.api.tokens_from(login)
    ctx.control(_ok(login.status) and admin_tokens.ok, f"login of a valid admin answered {login.status}")
    ctx.baseline(admin_tokens)
    scan(ctx.api.me(admin_tokens, note="me of the admin"), "the me answer")
    if ctx.profile.declares("user_admin"):
        role = ctx.profile.roles_by_level()[0] if ctx.profile.roles else "viewer"
        user = Principal(ctx.users.username("leak-"), ctx.users.password(), admin.tenant, role)
        passwords.append(user.password)
        created = scan(ctx.api.call("user_create", auth=admin_tokens, note="create a user", body={
            "username": user.username, "password": user.password, "role": role}), "the user creation answer")
        ctx.control(_ok(created.status), f"creating a user as tenant admin answered {created.status}")
        listing = scan(ctx.api.call("users_list", auth=admin_tokens, note="list users"), "the user list")
        ctx.control(_ok(listing.status), f"listing users as tenant admin answered {listing.status}")
        user_login = scan(ctx.api.login_response(user, retry_limited=True), "the created user's login answer")
        user_tokens = ctx.api.tokens_from(user_login)
        if user_tokens.ok:
            scan(ctx.api.me(user_tokens, note="me of the created user"), "the created user's me answer")
    ctx.details["findings"] = findings
    ctx.expect(not findings, "; ".join(dict.fromkeys(findings)))


# ---------------------------------------------------------------------------- token minting routes


def _token_shaped(response: Response) -> bool:
    if _JWT_SHAPE.search(response.text):
        return True
    if any(_JWT_SHAPE.search(line) for line in response.headers.get_all("set-cookie")):
        return True
    data = response.json()
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key).lower() in _TOKEN_KEYS and isinstance(value, str) and len(value) >= 16:
                return True
    return False


# Words in an unauthenticated operation's path or body that say it may create users, grant roles or mint tokens.
MINT_WORDS = ("user", "token", "role", "admin")
# Of those, the words of an operation whose acceptance without credentials grants rights by itself.
GRANTING_WORDS = ("role", "admin")


def _open_minting_candidates(ctx: CheckContext) -> tuple[list[CatalogOperation], str]:
    """The OpenAPI document's operations without a security requirement whose path or body names a
    user, token, role or admin, leaving out the contract's own ways in (login, sign-up, refresh...)."""
    if not ctx.profile.openapi.document:
        return [], ""
    catalog = operations_catalog.catalog(ctx)
    found = [op for op in catalog.unauthenticated()
             if op.contract not in operations_catalog.OPEN_BY_DESIGN
             and any(word in part for part in op.words for word in MINT_WORDS)]
    return found, catalog.source


def _probe_open_operations(ctx: CheckContext, minting: list[str]) -> None:
    """Call each candidate once, without credentials, with a valid request Schemathesis built: a token in
    the answer, or a change naming a role or admin accepted, is a route that hands out rights to anyone;
    other acceptances are reported in the details (a sign-up or a verification mail may be open by design)."""
    candidates, source = _open_minting_candidates(ctx)
    if not source:
        return
    mutate = operations_catalog.mutation_allowed(ctx)
    probed: dict[str, int] = {}
    skipped: list[str] = []
    accepted: list[str] = []  # reported for review: open by design, perhaps (a sign-up, a verification mail)
    for op in candidates:
        if not op.safe and not mutate:
            skipped.append(op.label)
            continue
        request = operations_catalog.request_for(ctx, op)
        response = operations_catalog.send(ctx, request, None, f"{op.label} without credentials")
        probed[op.label] = response.status
        if not _ok(response.status):
            continue
        grants = not op.safe and any(word in part for part in op.words for word in GRANTING_WORDS)
        if _token_shaped(response) or grants:
            ctx.decisive()
            what = ("answered a token" if _token_shaped(response)
                    else f"accepted a role or admin change ({response.status})")
            minting.append(f"{op.label} ({what}, documented without a security requirement)")
        else:
            accepted.append(f"{op.label} ({response.status})")
    ctx.details["open_operations"] = {"source": source, "probed": probed, "not_probed_mutate_off": skipped,
                                      "accepted_without_credentials": accepted}
    if skipped:
        ctx.cover(len(probed), len(candidates), "unauthenticated operations naming users, tokens or roles",
                  [f"{label} (state-changing, [safety] mutate is off)" for label in skipped])


@check(
    "CRED-NO-MINT-ROUTE",
    controls=("valid-token", "no-token", "liveness"),
    title="probe common debug and test token routes, with and without a user id, and every operation the "
          "OpenAPI document leaves unauthenticated whose path or body names a user, token, role or admin",
    rule="no endpoint mints tokens without credentials (no test-token route outside debug)",
    severity=Severity.CRITICAL,
    references=("ASVS 14.3.2", "ASVS 2.10.4", "API2:2023", "API8:2023"),
)
def no_mint_route(ctx: CheckContext) -> None:
    user = ctx.users.create("viewer")
    ctx.baseline(ctx.api.login(user))
    ids = list(dict.fromkeys(["1", *([user.user_id] if user.user_id else [])]))
    minting: list[str] = []
    for path in MINT_ROUTES:
        probes: list[tuple[str, dict[str, str] | None, dict[str, str] | None]] = [("GET", None, None)]
        probes += [("GET", {"user_id": uid}, None) for uid in ids]
        probes += [("POST", None, {"user_id": uid}) for uid in ids]
        for method, params, body in probes:
            response = ctx.send(method, path, params=params, json_body=body, note="token minting probe")
            if _ok(response.status) and _token_shaped(response):
                query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
                minting.append(f"{method} {path}{query}")
    _probe_open_operations(ctx, minting)
    ctx.details["minting_routes"] = minting
    ctx.expect(not minting, "a route hands out tokens without credentials: " + ", ".join(minting[:5]))


# ---------------------------------------------------------------------------- error format


def _error_shape_problems(response: Response, what: str) -> list[str]:
    data = response.json()
    if not isinstance(data, dict):
        return [f"{what}: the body is not a JSON object"]
    missing = [key for key in ("error", "message") if not isinstance(data.get(key), str)]
    return [f"{what}: the JSON body has no string {' or '.join(missing)}"] if missing else []


def _bearer_challenge(response: Response) -> str | None:
    for value in response.headers.get_all("www-authenticate"):
        if value.strip().lower().startswith("bearer"):
            return value
    return None


# A token of the right form whose signature is no signature: every verifier refuses it.
BAD_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.not-a-signature"


def _lowest_role_token(ctx: CheckContext) -> tuple[str, Tokens]:
    """A user of the lowest declared role, logged in, and the valid-token control on its token."""
    roles = ctx.profile.roles_by_level()
    role = roles[0] if roles else "viewer"
    tokens = ctx.api.login(ctx.users.create(role))
    me = ctx.api.me(tokens, note="control: valid token")
    ctx.record_control("valid-token", _ok(me.status), f"a valid access token answered {me.status}")
    ctx.control(_ok(me.status), f"a valid access token was refused ({me.status})")
    return role, tokens


def _with_bad_token(ctx: CheckContext) -> Response:
    if ctx.profile.tokens.delivery == "cookie":
        return ctx.api.call("me", cookies={ctx.profile.tokens.access_cookie: BAD_TOKEN}, note="bad token")
    return ctx.api.call("me", auth=BAD_TOKEN, note="bad token")


@check(
    "CRED-ERROR-FORMAT",
    controls=("valid-token", "liveness"),
    title="call a protected route with no token, a bad token, and too little privilege; read the errors",
    rule='errors are JSON {"error", "message"}; a 401 carries WWW-Authenticate: Bearer; a missing or bad '
         'token is 401, too little privilege 403',
    severity=Severity.LOW,
    references=("RFC 6750 §3", "ASVS 4.1.1", "API8:2023"),
)
def error_format(ctx: CheckContext) -> None:
    role, tokens = _lowest_role_token(ctx)
    ctx.keep_alive(tokens, "the check's valid access token")
    problems: list[str] = []

    anonymous = ctx.api.call("me", note="no token")
    if anonymous.status != 401:
        problems.append(f"a request without a token answered {anonymous.status}, not 401")
    else:
        problems += _error_shape_problems(anonymous, "401 without a token")
        if _bearer_challenge(anonymous) is None:
            problems.append("401 without a token has no WWW-Authenticate: Bearer header")

    bad = _with_bad_token(ctx)
    if bad.status != 401:
        problems.append(f"a request with an invalid token answered {bad.status}, not 401")
    else:
        problems += _error_shape_problems(bad, "401 with an invalid token")
        if _bearer_challenge(bad) is None:
            problems.append("401 with an invalid token has no WWW-Authenticate: Bearer header")

    forbidden_route = _route_beyond(ctx, role)
    if forbidden_route is not None:
        denied = ctx.api.call(forbidden_route, auth=tokens, note=f"{role} on a route it may not use")
        if denied.status != 403:
            problems.append(f"a valid {role} token on {forbidden_route} answered {denied.status}, not 403")
        else:
            problems += _error_shape_problems(denied, "403 for too little privilege")
    ctx.details["problems"] = problems
    ctx.expect(not problems, "; ".join(problems))


@check(
    "CRED-WWW-AUTH-ERROR",
    # RFC 6750 §3: a failed token SHOULD be named with the error attribute of the challenge.
    level=Level.SHOULD,
    controls=("valid-token",),
    title="send a bad bearer token; read the WWW-Authenticate challenge of the refusal",
    rule='the refusal of a sent but invalid bearer token SHOULD name it: WWW-Authenticate: Bearer '
         'error="invalid_token"',
    severity=Severity.LOW,
    references=("RFC 6750 §3", "RFC 6750 §3.1"),
)
def www_authenticate_error(ctx: CheckContext) -> None:
    if ctx.profile.tokens.delivery == "cookie":
        raise NotApplicable("tokens travel in cookies: the Bearer challenge of RFC 6750 is for tokens sent in "
                            "the Authorization header")
    _lowest_role_token(ctx)
    bad = _with_bad_token(ctx)
    if not ctx.refused(bad):
        raise CannotJudge(f"an invalid token was accepted ({bad.status}): there is no refusal to read "
                          "(TOK-SIG-BROKEN judges the acceptance)")
    ctx.decisive()
    challenge = _bearer_challenge(bad)
    ctx.details["challenge"] = challenge or ""
    ctx.expect(challenge is not None, f"the refusal of an invalid token ({bad.status}) has no "
                                      "WWW-Authenticate: Bearer challenge, so it names no error")
    ctx.expect(bool(re.search(r'error\s*=\s*"?invalid_token"?', challenge or "")),
               f'the refusal of an invalid token ({bad.status}) challenges with {challenge!r}, without '
               'error="invalid_token"')


def _route_beyond(ctx: CheckContext, role: str) -> str | None:
    """A body-less protected route whose permission ``role`` does not have (only with roles)."""
    if not ctx.profile.declares("roles"):
        return None
    granted = set(ctx.profile.permissions.get(role, []))
    for route in ctx.profile.routes:
        op = ctx.profile.operations.get(route.operation)
        if op and ctx.profile.offers(route.operation) and op.method == "GET" and "{" not in op.path \
                and route.permission and route.permission not in granted:
            return route.operation
    return None


@check(
    "CRED-PASSWORD-CHANGE-CURRENT",
    controls=("valid-token", "no-token", "liveness"),
    title="change the password without the current one, with an empty one and with a wrong one; log in with "
          "the old and the attempted passwords",
    rule="a password change is refused without the current password or with a wrong one, and the password "
         "stays as it was",
    severity=Severity.HIGH,
    references=("ASVS 2.1.6", "ASVS 3.3.3", "API2:2023"),
    needs=("password_change",),
)
def password_change_current(ctx: CheckContext) -> None:
    user = ctx.users.create("viewer")
    tokens = ctx.api.login(user)
    ctx.baseline(tokens)
    # Control: the operation is described right, so a refusal below is about the current password.
    original = user.password
    changed = Principal(user.username, ctx.users.password(), user.tenant, user.role, user.user_id)
    response = ctx.api.call("me_update", auth=tokens, note="control: change with the right current password",
                            body={"current_password": original, "new_password": changed.password})
    ctx.control(_ok(response.status), f"a password change with the right current password answered "
                                      f"{response.status}")
    if not ctx.api.accepted(tokens, note="the changing session after its own password change"):
        tokens = ctx.api.login(changed)  # a target may end every session on a change, the caller's too
    attempted = ctx.users.password()
    attempts = (
        ("without the current password", {"new_password": attempted}),
        ("with an empty current password", {"current_password": "", "new_password": attempted}),
        ("with a wrong current password", {"current_password": ctx.users.password(), "new_password": attempted}),
    )
    statuses: dict[str, int] = {}
    wrong: list[str] = []
    for label, body in attempts:
        status = ctx.api.call("me_update", auth=tokens, note=f"password change {label}", body=body).status
        statuses[label] = status
        if _ok(status):
            wrong.append(f"a password change {label} was accepted ({status})")
            break  # the password may have changed: the next attempts would prove nothing more
        if not ctx.rejected(ctx.last_response):  # type: ignore[arg-type]
            wrong.append(f"a password change {label} answered {status} instead of a 4xx refusal")
    ctx.details["statuses"] = statuses
    kept = ctx.api.login_response(changed, retry_limited=True)
    taken = ctx.api.login_response(Principal(user.username, attempted, user.tenant, user.role), retry_limited=True)
    if not ctx.api.logged_in(kept):
        wrong.append(f"the password in force before the attempts no longer logs in ({kept.status})")
    if ctx.api.logged_in(taken):
        wrong.append("the new password the attempts sent now logs in")
    if ctx.profile.users.source == "accounts":
        now = attempted if ctx.api.logged_in(taken) else changed.password
        _give_back(ctx, ctx.api.tokens_from(taken if ctx.api.logged_in(taken) else kept), now, original)
    ctx.expect(not wrong, "; ".join(wrong))


def _give_back(ctx: CheckContext, tokens: Tokens, current: str, original: str) -> None:
    """Give a pre-provisioned account its password back, so later checks can still log in."""
    response = ctx.api.call("me_update", auth=tokens, note="restore the account's password",
                            body={"current_password": current, "new_password": original})
    ctx.control(_ok(response.status), f"restoring the pre-provisioned account's password answered "
                                      f"{response.status}; reset it by hand before the next run")


@check(
    "CRED-USERNAME-UNIQUE",
    controls=("valid-token", "no-token", "liveness"),
    title="create a user, then another with the same username and another password in the same tenant; log "
          "in with both passwords",
    rule="usernames are unique within a tenant: a second user with a taken name is refused with 4xx and the "
         "first keeps their password",
    severity=Severity.HIGH,
    references=("CWE-694", "API2:2023"),
)
def username_unique(ctx: CheckContext) -> None:
    by_admin = ctx.profile.declares("user_admin")
    if not by_admin and not (ctx.profile.declares("signup") and not ctx.profile.declares("tenants")):
        raise NotApplicable("needs capability 'user_admin', or 'signup' without 'tenants' (where a sign-up "
                            "names no new tenant), to create two users of one name in one tenant")
    role = ctx.profile.roles_by_level()[0] if ctx.profile.roles else "viewer"
    first = Principal(ctx.users.username("dup-"), ctx.users.password(), "", role)
    second = Principal(first.username, ctx.users.password(), "", role)
    admin_tokens: Tokens | None = None

    def create(principal: Principal, note: str) -> Response:
        if admin_tokens is not None:
            return ctx.api.call("user_create", auth=admin_tokens, note=note,
                                body={"username": principal.username, "password": principal.password,
                                      "role": principal.role})
        return ctx.api.signup(principal)

    if by_admin:
        admin = ctx.users.create("admin")
        admin_tokens = ctx.api.login(admin)
        ctx.baseline(admin_tokens)
        first.tenant = second.tenant = admin.tenant
    created = create(first, "create the first user")
    ctx.control(_ok(created.status), f"creating a user with a fresh username answered {created.status}")
    first_login = ctx.api.login_response(first, retry_limited=True)
    ctx.control(ctx.api.logged_in(first_login), "the user just created does not log in")
    if not by_admin:  # the controls on the signed-up user's own token
        ctx.baseline(ctx.api.tokens_from(first_login))
    again = create(second, "create a second user with the same username")
    ctx.details["second_status"] = again.status
    wrong: list[str] = []
    if not ctx.rejected(again):
        wrong.append(f"creating a second user with a taken username answered {again.status} instead of a 4xx "
                     "refusal")
    kept = ctx.api.login_response(first, retry_limited=True)
    if not ctx.api.logged_in(kept):
        wrong.append(f"the first user's password no longer logs in ({kept.status})")
    if ctx.api.logged_in(ctx.api.login_response(second, retry_limited=True)):
        wrong.append("the second user's password now logs in as that username")
    ctx.expect(not wrong, "; ".join(wrong))
