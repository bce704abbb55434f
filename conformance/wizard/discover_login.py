"""Login for ``authconform init``: the routes that look like a login (the OpenAPI document's
OAuth2 token URL and login-like paths, else the usual paths, each in the body shapes people
use, or HTTP Basic where the route asks for it), and a login that works, as the account given
in the environment or as a throwaway user from a sign-up route.

Each try is ``Api.login_response`` over the candidate, so a login init confirms is one the suite
can make; the tokens of its answer are read as ``discover_tokens`` learns."""

from __future__ import annotations

import re

from conformance.api import Principal, Tokens
from conformance.errors import UsageError
from conformance.wizard import discover_signup
from conformance.wizard.discover_tokens import first_tokens
from conformance.wizard.draft import DraftOperation, Value
from conformance.wizard.probing import ABSENT, REDIRECTS, ProbeContext, attempt, rate_headers

# Common routes, tried in order where the target has no OpenAPI document.
LOGIN_PATHS = ("/login", "/auth/login", "/api/login", "/api/auth/login", "/token", "/auth/token", "/api/token",
               "/oauth/token", "/signin", "/auth/signin", "/api/signin", "/users/login", "/api/users/login",
               "/session", "/api/session", "/api/v1/login", "/api/v1/auth/login", "/v1/login", "/tokens", "/api/tokens",
               "/auth/tokens", "/api/v1/tokens", "/v1/tokens", "/v1/sessions", "/api/v1/sessions")
# A login route that names a resource of tokens or sessions: POST creates one (log in), PUT or
# PATCH renews it (refresh), DELETE ends it (log out).
TOKEN_RESOURCE = re.compile(r"/(tokens?|sessions?)/?$")


def login_candidates(ctx: ProbeContext) -> list[DraftOperation]:
    candidates: list[DraftOperation] = []
    if ctx.document is not None:
        token_url, _refresh_url = ctx.document.oauth2_password_urls()
        ops = [op for op in ctx.document.operations if op.method == "POST" and op.path == token_url]
        ops += ctx.document.find("POST", r"(log-?in|sign-?in|/token|/session)s?$", exclude=r"refresh|revoke|logout")
        for op in dict.fromkeys(ops):
            fields = op.credential_fields()
            if not fields:
                continue
            extra = {"grant_type": op.constant("grant_type") or "password"} if "grant_type" in op.properties else {}
            candidates.append(DraftOperation("POST", op.path, op.body or "json", fields, extra,
                                             note=f"from the OpenAPI document ({op.body or 'json'} body)"))
        if candidates:
            return candidates
    for tried in LOGIN_PATHS:
        path, probe = ctx.probe_route("POST", tried, body={})
        if probe is None or probe.status in ABSENT or probe.status in REDIRECTS:
            continue
        if probe.status == 401 and probe.headers.get("WWW-Authenticate", "").lower().startswith("basic"):
            # It asks for HTTP Basic: the user's own username and password, no body.
            candidates.append(DraftOperation("POST", path, auth="basic", note="probed: it asks for HTTP Basic"))
            continue
        oauth = "token" in path
        shapes = [("form", "username", True)] if oauth else []
        shapes += [("json", "username", False), ("form", "username", False), ("json", "email", False),
                   ("form", "email", False)]
        for kind, user_field, grant in shapes:
            candidates.append(DraftOperation("POST", path, kind, {"username": user_field, "password": "password"},
                                             {"grant_type": "password"} if grant else {},
                                             note=f"probed: {kind} body"))
    return candidates


def log_in(ctx: ProbeContext) -> Tokens | None:
    """Log in as the given account, else as a throwaway user signed up for it; None when init
    cannot (the login then stays a guess)."""
    options = ctx.options
    given = bool(options.username_env and options.password_env)
    if given:
        env = options.environ
        missing = [v for v in (options.username_env, options.password_env) if v not in env]
        if missing:
            raise UsageError(f"environment variable(s) {', '.join(missing)} are not set: export the "
                             "account's username and password before running init")
        ctx.account = Principal(username=env[options.username_env], password=env[options.password_env],
                                tenant=options.tenant, role="")
        use_accounts(ctx)  # the account the user named, whether or not init can log in with it
    candidates = login_candidates(ctx)
    if not candidates:
        ctx.say("login: no login route found")
        return None
    if ctx.account is not None:
        for op in candidates:
            tokens = try_login(ctx, op, ctx.account)
            if tokens is not None:
                discover_signup.signup_unused(ctx, op)
                return tokens
        ctx.say("login: the account from the environment was refused by every login shape tried")
        _unconfirmed_login(ctx, candidates[0])
        return None
    if options.signup:
        for login in candidates:
            for signup in discover_signup.signup_candidates(ctx, login):
                account = discover_signup.throwaway_account(ctx, signup)
                answer = discover_signup.sign_up(ctx, signup, account)
                if answer is None or not 200 <= answer.status < 300:
                    continue
                ctx.say(f"signup: {signup.method} {signup.path} ({signup.body}) created a throwaway user")
                # The login naming the user as sign-up does first; then the others (an OAuth2
                # password form calls the e-mail address "username").
                ordered = [login] + [c for c in candidates if c is not login]
                same = [op for op in ordered if op.fields.get("username") == signup.fields.get("username")]
                for op in same + [op for op in ordered if op not in same]:
                    tokens = try_login(ctx, op, account)
                    if tokens is not None:
                        ctx.account = account
                        discover_signup.record_signup(ctx, signup)
                        return tokens
    ctx.say("login: no credentials (no usable sign-up; pass --username-env and --password-env)")
    _unconfirmed_login(ctx, candidates[0])
    return None


def try_login(ctx: ProbeContext, op: DraftOperation, account: Principal) -> Tokens | None:
    """``Api.login_response`` through ``op``; its tokens when it logged in. A confidential client
    authenticates at the login (except an HTTP Basic login, whose header is the user's)."""
    answer = attempt(lambda: ctx.api("login", op, client=op.auth != "basic").login_response(account))
    if answer is None or not 200 <= answer.status < 300:
        return None
    tokens = first_tokens(ctx, "login", op, answer)
    if tokens is None:
        return None
    ctx.login_op = op
    ctx.draft.operations["login"] = op
    how = "HTTP Basic" if op.auth == "basic" else f"{op.body} body"
    op.note = f"observed: {op.method} {op.path} ({how}) answered {answer.status} with tokens"
    ctx.say(f"login: {op.method} {op.path} ({how}) answered {answer.status} with tokens")
    ctx.login_rate = rate_headers(answer)
    return tokens


def fresh_login(ctx: ProbeContext) -> Tokens | None:
    """Another login as the same account (a second session)."""
    if ctx.login_op is None or ctx.account is None:
        return None
    return try_login(ctx, ctx.login_op, ctx.account)


def _unconfirmed_login(ctx: ProbeContext, op: DraftOperation) -> None:
    ctx.draft.operations["login"] = op
    op.guess, op.note = True, "not confirmed: init could not log in"


def use_accounts(ctx: ProbeContext) -> None:
    options = ctx.options
    ctx.draft.users["source"] = Value("accounts", "no sign-up used: the suite logs in as this account")
    account = {"role": Value("viewer", "the account's role in the contract's terms", guess=True),
               "username": Value("${" + options.username_env + "}"),
               "password": Value("${" + options.password_env + "}")}
    if options.tenant:
        account["tenant"] = Value(options.tenant)
    ctx.draft.accounts.append(account)
    ctx.draft.environment += [options.username_env, options.password_env]
    ctx.draft.notes.append("Add more [[users.accounts]] (one per role and tenant): checks that need two users "
                           "take them in turn.")


def without_login(ctx: ProbeContext) -> None:
    """What init writes when it could not log in: the rest is a guess."""
    ctx.draft.notes.append("init could not log in, so tokens, me and the other routes are guesses.")
    if not ctx.draft.accounts:  # no --username-env / --password-env: name variables to fill
        ctx.draft.users["source"] = Value("accounts", "no sign-up found: give an account", guess=True)
        ctx.draft.accounts.append({"role": Value("viewer", guess=True, note="the account's role"),
                                   "username": Value("${AUTHCONFORM_USERNAME}"),
                                   "password": Value("${AUTHCONFORM_PASSWORD}")})
        ctx.draft.environment += ["AUTHCONFORM_USERNAME", "AUTHCONFORM_PASSWORD"]
    ctx.draft.operations.setdefault("me", DraftOperation("GET", "/me", guess=True, note="not confirmed"))
    ctx.draft.tokens["access_field"] = Value("access_token", "not observed", guess=True)
