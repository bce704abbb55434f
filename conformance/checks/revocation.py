"""Contract section 2: refresh, logout, revocation. Each check ends tokens one way (logout,
logout-all, password change, deletion, refresh rotation and reuse) and then proves the ended
tokens are refused, with a control showing they worked right before."""

from __future__ import annotations

from typing import Any

from conformance.api import Principal, Tokens
from conformance.checks._support import listed_session_ids
from conformance.context import CheckContext
from conformance.registry import Severity, check
from conformance.verdict import NotApplicable


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _login(ctx: CheckContext, user: Principal, *, worker: int = 0) -> Tokens:
    """A login whose access token is checked to work (a negative control)."""
    tokens = ctx.api.login(user, worker=worker)
    ctx.control(ctx.api.accepted(tokens, worker=worker, note="control: fresh token works"),
                "a freshly issued access token was refused")
    return tokens


def _session(ctx: CheckContext, role: str = "viewer") -> tuple[Principal, Tokens]:
    """A fresh user logged in, with the standard controls run on its token."""
    user = ctx.users.create(role)
    tokens = ctx.api.login(user)
    ctx.baseline(tokens)
    return user, tokens


def _refused(ctx: CheckContext, tokens: Tokens | str, note: str, *, worker: int = 0) -> bool:
    return ctx.refused(ctx.api.me(tokens, worker=worker, note=note))


def _refresh_refused(ctx: CheckContext, tokens: Tokens, note: str) -> bool:
    """Was the refresh refused? A token endpoint may refuse with 400 invalid_grant (RFC 6749 §5.2);
    a 2xx that carries no new token refuses too."""
    response = ctx.api.refresh_response(tokens)
    ctx.details.setdefault("refresh_attempts", []).append({"what": note, "status": response.status})
    if _ok(response.status):
        if ctx.api.tokens_from(response, previous=tokens).ok:
            ctx.decisive()
            return False
        return True
    return ctx.refused(response, also=(400,))


def _logout(ctx: CheckContext, tokens: Tokens, *, worker: int = 0) -> None:
    response = ctx.api.call("logout", auth=tokens, worker=worker, note="logout")
    ctx.control(_ok(response.status), f"logout with a valid token answered {response.status}")


@check(
    "REV-LOGOUT-ACCESS",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="log out, then present the same access token again",
    rule="logout revokes the presented access token at once",
    severity=Severity.HIGH,
    references=("RFC 7009 §2", "ASVS 3.3.1", "API2:2023"),
    needs=("logout",),
)
def logout_access(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    _logout(ctx, tokens)
    ctx.expect(_refused(ctx, tokens, "access token after logout"),
               "the access token still works after logout")


@check(
    "REV-LOGOUT-REFRESH",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="log out, then try to refresh with that login's refresh token",
    rule="logout revokes the refresh family of the presented token",
    severity=Severity.HIGH,
    references=("RFC 9700 §4.14.2", "ASVS 3.3.1", "API2:2023"),
    needs=("logout", "refresh"),
)
def logout_refresh(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    _logout(ctx, tokens)
    ctx.expect(_refresh_refused(ctx, tokens, "refresh after logout"),
               "the refresh token of a logged-out session still gives new tokens")


@check(
    "REV-LOGOUT-SESSION",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="log out one session; list the sessions from another and use the session's other tokens",
    rule="logout ends the current session: it leaves the sessions list and every token of it is refused",
    severity=Severity.HIGH,
    references=("ASVS 3.3.1", "ASVS 3.3.4", "API2:2023"),
    needs=("logout",),
)
def logout_session(ctx: CheckContext) -> None:
    user, first = _session(ctx)
    # A second access token of the same session: via refresh where the target has it, else a
    # token minted for the session with the target's key. Logout presents the newest one, so
    # refusing the older one needs the session itself to be gone, not just one revoked token id.
    sibling: Tokens | str | None = None
    current = first
    if ctx.profile.declares("refresh"):
        current = ctx.api.refresh(first)
        if ctx.api.accepted(first, note="older access token of the session, before logout"):
            sibling = first
    if sibling is None and ctx.minter is not None and first.session_id:
        claims = _claims_of(first.access)
        if claims:
            minted = ctx.minter.mint({**claims, **ctx.minter.claims(
                sub=str(claims.get("sub", "")), tid=str(claims.get("tid", "")), sid=first.session_id,
                role=str(claims.get("role", user.role)), now=_now(ctx))})
            ctx.redactor.add(minted)
            if ctx.api.accepted(minted, note="control: minted token of the same session"):
                sibling = minted
    other: Tokens | None = None
    listing_checked = ctx.profile.declares("sessions") and bool(current.session_id)
    if listing_checked:
        other = _login(ctx, user)
        before = ctx.api.call("sessions_list", auth=other, note="sessions before logout")
        ctx.control(_ok(before.status) and current.session_id in listed_session_ids(before.json()),
                    "the sessions list does not show a session that was just created")
    if sibling is None and not listing_checked:
        raise NotApplicable("needs a second token of one session (refresh, or the signing key) "
                            "or a sessions list to observe the session")
    _logout(ctx, current)
    ctx.expect(_refused(ctx, current, "presented access token after logout"),
               "the access token presented to logout still works")
    if sibling is not None:
        ctx.expect(_refused(ctx, sibling, "another access token of the logged-out session"),
                   "logout revoked only the presented token: another access token of the same "
                   "session still works, so the session was not ended")
    if other is not None:
        after = ctx.api.call("sessions_list", auth=other, note="sessions after logout")
        ctx.control(_ok(after.status), f"listing sessions with a live session answered {after.status}")
        ctx.expect(current.session_id not in listed_session_ids(after.json()),
                   "the logged-out session is still in the user's sessions list")


def _claims_of(token: str) -> dict[str, Any]:
    from conformance.minting import split

    try:
        return split(token)[1]
    except (ValueError, TypeError):
        return {}


def _now(ctx: CheckContext) -> float | None:
    return ctx.target.clock.now() if ctx.target.clock is not None else None


@check(
    "REV-LOGOUT-ALL",
    ends_credential=True,
    clock_sensitive=True,
    controls=("valid-token", "no-token", "liveness"),
    title="log in on three devices, log out everywhere from the first",
    rule="logout-all revokes every token and session of the user, the caller's included",
    severity=Severity.HIGH,
    references=("ASVS 3.3.3", "API2:2023"),
    needs=("logout_all",),
)
def logout_all(ctx: CheckContext) -> None:
    user, first = _session(ctx)
    count = 3
    if ctx.profile.declares("session_limit"):
        count = max(2, min(count, ctx.profile.sessions.max_sessions))
    others = [first] + [_login(ctx, user) for _ in range(count - 2)]
    # The caller logs in last, so its token is the freshest when logout-all goes out: logins may
    # have waited out a login window, longer than a short access TTL.
    device_a = _login(ctx, user)
    response = ctx.api.call("logout_all", auth=device_a, note="logout-all from device A")
    ctx.control(_ok(response.status), f"logout-all with a valid token answered {response.status}")
    still = [name for name, tokens in zip("BCDE", others, strict=False)
             if not _refused(ctx, tokens, f"device {name} after logout-all")]
    ctx.expect(not still, f"after logout-all the tokens of device(s) {', '.join(still)} still work")
    ctx.expect(_refused(ctx, device_a, "device A (the caller) after logout-all"),
               "after logout-all the caller's own access token still works")
    if ctx.profile.declares("refresh"):
        ctx.expect(_refresh_refused(ctx, others[0], "device B refresh after logout-all"),
                   "after logout-all another device's refresh token still gives new tokens")


@check(
    "REV-PASSWORD-CHANGE",
    controls=("valid-token", "no-token", "liveness"),
    title="change the password on device A; use device B's tokens; log in with the new password",
    rule="a password change revokes the user's other sessions and tokens; the new password works",
    severity=Severity.HIGH,
    references=("ASVS 3.3.3", "ASVS 2.1.5", "API2:2023"),
    needs=("password_change",),
)
def password_change(ctx: CheckContext) -> None:
    user, device_a = _session(ctx)
    device_b = _login(ctx, user)
    new_password = ctx.users.password()
    response = ctx.api.call("me_update", auth=device_a, note="password change on device A",
                            body={"current_password": user.password, "new_password": new_password})
    ctx.control(_ok(response.status), f"a password change with the right current password answered "
                                      f"{response.status}")
    changed = Principal(user.username, new_password, user.tenant, user.role, user.user_id)
    try:
        ctx.expect(_refused(ctx, device_b, "device B after the password change"),
                   "after a password change another device's access token still works")
        if ctx.profile.declares("refresh"):
            ctx.expect(_refresh_refused(ctx, device_b, "device B refresh after the password change"),
                       "after a password change another device's refresh token still gives new tokens")
        old = ctx.api.login_response(user, retry_limited=True)
        ctx.expect(not ctx.api.logged_in(old), "the old password still logs in after the password change")
        fresh = ctx.api.login_response(changed, retry_limited=True)
        ctx.expect(ctx.api.logged_in(fresh), f"the new password does not log in ({fresh.status})")
    finally:
        # A pre-provisioned account gets its password back whatever the verdict: later checks log in with it.
        if ctx.profile.users.source == "accounts":
            again = ctx.api.login_response(changed, retry_limited=True)
            if ctx.api.logged_in(again):
                _restore_password(ctx, ctx.api.tokens_from(again), new_password, user.password)


def _restore_password(ctx: CheckContext, tokens: Tokens, current: str, original: str) -> None:
    """Give a pre-provisioned account its password back, so later checks can still log in."""
    response = ctx.api.call("me_update", auth=tokens, note="restore the account's password",
                            body={"current_password": current, "new_password": original})
    ctx.control(_ok(response.status), f"restoring the pre-provisioned account's password answered "
                                      f"{response.status}; reset it by hand before the next run")


@check(
    "REV-DELETED-USER",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="delete a user (by their admin, and by themselves); present their tokens",
    rule="a token of a deleted user is rejected at once",
    severity=Severity.HIGH,
    references=("RFC 7519 §4.1.2", "ASVS 3.3.1", "API1:2023"),
)
def deleted_user(ctx: CheckContext) -> None:
    by_admin, by_self = ctx.profile.declares("user_admin"), ctx.profile.declares("delete_account")
    if not (by_admin or by_self):
        raise NotApplicable("needs capability 'user_admin' or 'delete_account', which the profile "
                            "declares neither of")
    if ctx.profile.users.source == "accounts":
        raise NotApplicable("would delete a pre-provisioned account; needs users.source = \"signup\"")
    ctx.details["paths"] = []
    if by_admin:
        ctx.details["paths"].append("admin deletes the user")
        admin = ctx.users.create("admin")
        admin_tokens = _login(ctx, admin)
        user, tokens = _session(ctx)
        second = _login(ctx, user)
        user_id = user.user_id or _find_user_id(ctx, admin_tokens, user.username)
        ctx.control(bool(user_id), "the created user's id is not known (no id in the answer or the list)")
        response = ctx.api.call("user_delete", auth=admin_tokens, ids={"id": user_id},
                                note="admin deletes the user")
        ctx.control(_ok(response.status), f"the tenant admin deleting a user answered {response.status}")
        ctx.expect(_refused(ctx, tokens, "deleted user's token") and
                   _refused(ctx, second, "deleted user's other session"),
                   "a token of a user deleted by their admin still works")
    if by_self:
        ctx.details["paths"].append("the user deletes their own account")
        user, tokens = _session(ctx)
        second = _login(ctx, user)
        response = ctx.api.call("me_delete", auth=tokens, note="user deletes their own account")
        ctx.control(_ok(response.status), f"deleting one's own account answered {response.status}")
        ctx.expect(_refused(ctx, second, "other session of the self-deleted user"),
                   "a token of a user who deleted their account still works (another session)")
        ctx.expect(_refused(ctx, tokens, "token that deleted its own account"),
                   "the token that deleted its own account still works")


def _find_user_id(ctx: CheckContext, admin_tokens: Tokens, username: str) -> str:
    listing = ctx.api.call("users_list", auth=admin_tokens, note="find the user's id").json()
    rows = listing.get("users", []) if isinstance(listing, dict) else listing
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("username") == username and row.get("id") is not None:
            return str(row["id"])
    return ""


@check(
    "REV-REFRESH-ROTATES",
    controls=("valid-token", "no-token", "liveness"),
    title="refresh once and compare the refresh token returned with the one used",
    rule="refresh rotates: each use returns a new refresh token",
    severity=Severity.MEDIUM,
    references=("RFC 9700 §4.14.2", "ASVS 3.5.2"),
    needs=("refresh",),
)
def refresh_rotates(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    fresh = ctx.api.refresh(tokens)
    ctx.control(ctx.api.accepted(fresh, note="control: refreshed access token works"),
                "the access token from a refresh was refused")
    # A service may revoke the access token a refresh replaced: the new pair is the one that must live on.
    ctx.live = [(fresh, "the access token from the refresh")]
    ctx.expect(bool(fresh.refresh) and not fresh.refresh_kept,
               "the refresh answer carries no refresh token: the one used stays in use, refresh does not rotate")
    ctx.expect(fresh.refresh != tokens.refresh, "refresh returned the same refresh token again")


@check(
    "REV-REFRESH-REUSE-REJECTED",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="refresh once, then refresh again with the rotated-out token",
    rule="a refresh token that was already used is refused",
    severity=Severity.HIGH,
    references=("RFC 9700 §4.14.2", "ASVS 3.5.2", "API2:2023"),
    needs=("refresh",),
)
def refresh_reuse_rejected(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    fresh = ctx.api.refresh(tokens)
    ctx.control(fresh.refresh != tokens.refresh, "refresh did not rotate, so reuse cannot be told apart "
                                                 "(see REV-REFRESH-ROTATES)")
    ctx.expect(_refresh_refused(ctx, tokens, "reuse of the rotated-out refresh token"),
               "a refresh token that was already used gave new tokens again")


@check(
    "REV-REFRESH-REUSE-FAMILY",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="reuse a rotated-out refresh token, then use the newest tokens of that family",
    rule="reuse of a rotated refresh token revokes its whole family, newest tokens included",
    severity=Severity.HIGH,
    references=("RFC 9700 §4.14.2", "ASVS 3.5.2", "API2:2023"),
    needs=("refresh",),
)
def refresh_reuse_family(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    newest = ctx.api.refresh(tokens)
    ctx.control(newest.refresh != tokens.refresh, "refresh did not rotate (see REV-REFRESH-ROTATES)")
    ctx.control(ctx.api.accepted(newest, note="control: newest access token works"),
                "the access token from a refresh was refused")
    _refresh_refused(ctx, tokens, "reuse of the rotated-out refresh token (theft signal)")
    ctx.expect(_refused(ctx, newest, "newest access token of the family after reuse"),
               "after reuse of a rotated refresh token, the newest access token of the family still works")
    ctx.expect(_refresh_refused(ctx, newest, "newest refresh token of the family after reuse"),
               "after reuse of a rotated refresh token, the newest refresh token of the family still works")


@check(
    "REV-SHARED-STORE",
    ends_credential=True,
    controls=("valid-token", "no-token", "liveness"),
    title="log out on worker 0; use the token on worker 1; restart; use it again",
    rule="revocation holds across all server workers and survives a restart",
    severity=Severity.HIGH,
    references=("ASVS 3.3.1", "API2:2023"),
    needs=("workers", "restart", "logout"),
)
def shared_store(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    ctx.control(ctx.api.accepted(tokens, worker=1, note="control: token works on worker 1"),
                "a valid token was refused by the second worker")
    _logout(ctx, tokens, worker=0)
    ctx.expect(_refused(ctx, tokens, "revoked token on worker 1", worker=1),
               "a token revoked on one worker is still accepted by another")
    ctx.target.restart()
    for worker in (0, 1):
        ctx.expect(_refused(ctx, tokens, f"revoked token on worker {worker} after restart", worker=worker),
                   f"a revoked token is accepted again after a restart (worker {worker})")


@check(
    "REV-STORE-DOWN-FAILS-CLOSED",
    controls=("valid-token", "no-token", "liveness"),
    title="make the revocation store unreachable and present a valid token",
    rule="if the revocation store is unreachable the server fails closed (401/503), never open",
    severity=Severity.HIGH,
    references=("ASVS 1.4.4", "ASVS 3.3.1", "API8:2023"),
    needs=("store_control",),
)
def store_down_fails_closed(ctx: CheckContext) -> None:
    _user, tokens = _session(ctx)
    with ctx.target.store_down():
        status = ctx.api.me(tokens, note="valid token while the store is down").status
    ctx.details["status_while_down"] = status
    ctx.control(ctx.api.accepted(tokens, note="control: token works once the store is back"),
                "the valid token was refused after the store came back")
    ctx.expect(not _ok(status), f"with the revocation store down a token was accepted ({status}): "
                                "the server fails open")
    ctx.expect(status in (401, 503), f"with the revocation store down the server answered {status}; "
                                     "the contract asks for 401 or 503")
