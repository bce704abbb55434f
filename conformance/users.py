"""Test users: fresh ones per check where the target has sign-up, pre-provisioned otherwise.

Fresh users keep checks independent, so they can run in any order and in parallel. Every
password chosen here is registered with the redactor before it is sent anywhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from conformance.api import Principal, Tokens
from conformance.leases import MissingAccounts
from conformance.profile import Account
from conformance.verdict import NotApplicable

if TYPE_CHECKING:
    from conformance.context import CheckContext


def _name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


class Users:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.profile = ctx.profile
        self._admins: dict[str, tuple[Principal, Tokens]] = {}

    def distinct(self, role: str) -> int:
        """How many distinct users of ``role`` ``create`` can hand out (unbounded with sign-up)."""
        if self.profile.users.source != "accounts":
            return 1_000_000
        if not self.profile.declares("roles"):
            return len(self._plain())
        return sum(1 for account in self._plain() if account.role == role)

    def _plain(self) -> list[Account]:
        """The declared accounts other than those with MFA on (their login takes a second step, which
        only the MFA checks take)."""
        return [account for account in self.profile.users.accounts if not account.totp_secret]

    def username(self, prefix: str) -> str:
        """A fresh username in the form the target wants (users.username_template)."""
        return self.profile.users.username_template.replace("{name}", _name(prefix))

    def password(self) -> str:
        password = "Pw-" + secrets.token_urlsafe(12)
        self.ctx.redactor.add(password)
        return password

    def tenant_admin(self, tenant: str | None = None) -> Principal:
        """A fresh tenant with its admin (sign-up), or the configured admin account (also where a
        sign-up makes a user of another role: users.signup_role)."""
        if self.profile.users.source == "accounts" or not self._signup_makes("admin"):
            return self._account("admin", tenant)
        return self._sign_up("admin", tenant)

    def _signup_makes(self, role: str) -> bool:
        """Does a sign-up give a user of ``role``? (Without roles, a user is any role.)"""
        return not self.profile.declares("roles") or self.profile.users.signup_role == role

    def _sign_up(self, role: str, tenant: str | None) -> Principal:
        principal = Principal(self.username(f"{role}-"), self.password(), tenant or _name("t-"), role)
        response = self.ctx.api.signup(principal)
        self.ctx.control(200 <= response.status < 300,
                         f"sign-up of a fresh tenant answered {response.status}")
        principal.user_id = self.ctx.api.object_id("signup", response, {"username": principal.username})
        return principal

    def _admin_session(self, tenant: str | None) -> tuple[Principal, Tokens]:
        key = tenant or ""
        if key not in self._admins:
            admin = self.tenant_admin(tenant)
            self._admins[key] = (admin, self.ctx.api.login(admin))
        return self._admins[key]

    def create(self, role: str, *, tenant: str | None = None, distinct_from: Principal | None = None) -> Principal:
        """A user with ``role``; in the admin's tenant (a fresh one unless given). With
        ``distinct_from``, a user other than that one, or not applicable (one account only)."""
        user = self._create(role, tenant)
        if distinct_from is not None and (user.username, user.tenant) == (distinct_from.username,
                                                                          distinct_from.tenant):
            matches = self._matcher(user.role, tenant)
            declared = sum(1 for account in self.profile.users.accounts if matches(account))
            held = self.ctx.accounts.holds(self.ctx, matches)
            raise MissingAccounts(f"needs a second {role} user besides {distinct_from.username}: add another "
                                  "account to [[users.accounts]]", role=user.role, needed=held + 1,
                                  declared=declared)
        return user

    def standing_for(self, contract_role: str) -> str:
        """The target's own role that stands where a check names one of the contract's roles: the
        lowest for viewer, the highest for superadmin, the lowest that manages users for admin, the
        lowest above the bottom that may write for editor."""
        ordered = self.profile.roles_by_level()
        permissions = self.profile.permissions

        def lowest_with(permission: str, above: int = 0) -> str:
            return next((r for r in ordered[above:] if permission in permissions.get(r, [])), "")

        standing = {"viewer": ordered[0] if ordered else "",
                    "superadmin": ordered[-1] if ordered else "",
                    "admin": lowest_with("manage_users") or (ordered[-1] if len(ordered) > 1 else ""),
                    "editor": lowest_with("write", above=1)}.get(contract_role, "")
        if not standing:
            raise NotApplicable(f"needs a {contract_role} user, and no role of the profile's [roles] "
                                f"({', '.join(ordered) or 'none'}) stands for it")
        return standing

    def _create(self, role: str, tenant: str | None) -> Principal:
        if role not in self.profile.roles and self.profile.declares("roles"):
            role = self.standing_for(role)
        if self.profile.users.source == "accounts":
            return self._account(role, tenant)
        if not self.profile.declares("roles"):
            # Without roles every user is alike: a fresh sign-up stands for any role a check asks for.
            principal = self.tenant_admin(tenant)
            principal.role = role
            return principal
        if self.profile.users.signup_role != "admin" and self.profile.declares("signup"):
            # Sign-up makes plain users here, so no sign-up admin can create the others.
            if role == self.profile.users.signup_role:
                return self._sign_up(role, tenant)
            return self._provisioned(role, tenant)
        if not self.profile.offers("user_create"):  # no user administration, or not this operation of it
            if role == "admin":
                return self.tenant_admin(tenant)
            return self._provisioned(role, tenant)
        admin_level = self.profile.role_level("admin") if "admin" in self.profile.roles else 0
        if self.profile.role_level(role) > admin_level:
            return self._provisioned(role, tenant)
        admin, admin_tokens = self._admin_session(tenant)
        if role == "admin" and tenant is None:
            return admin
        principal = Principal(self.username(f"{role}-"), self.password(), admin.tenant, role)
        body = {"username": principal.username, "password": principal.password, "role": role}
        response = self.ctx.api.call("user_create", auth=admin_tokens, body=body)
        if response.status == 429 and self.ctx.api.pass_api_window():
            # The admin is this check's own set-up account; its per-user budget is not under test.
            response = self.ctx.api.call("user_create", auth=admin_tokens, body=body)
        self.ctx.control(200 <= response.status < 300,
                         f"creating a {role} as tenant admin answered {response.status}")
        principal.user_id = self.ctx.api.object_id("user_create", response, body)
        return principal

    def _provisioned(self, role: str, tenant: str | None) -> Principal:
        if "provision" in self.ctx.target.abilities:
            if tenant is None:
                tenant = self._admin_session(None)[0].tenant
            principal = Principal(self.username(f"{role}-"), self.password(), tenant, role)
            principal.user_id = self.ctx.target.provision_user(
                username=principal.username, password=principal.password, tenant=tenant, role=role)
            return principal
        accounts = [a for a in self._plain() if a.role == role]
        if not accounts:
            raise MissingAccounts(f"needs a {role} account: add one to [[users.accounts]] in the profile",
                                  role=role, needed=1, declared=0)
        return self._account(role, tenant)

    def _matcher(self, role: str, tenant: str | None) -> Callable[[Account], bool]:
        any_role = not self.profile.declares("roles")  # without roles any account stands for any role
        # Accounts with MFA on are the MFA checks' alone (their login takes a second step).
        return lambda account: (not account.totp_secret and (any_role or account.role == role)
                                and (tenant is None or account.tenant == tenant))

    def _account(self, role: str, tenant: str | None) -> Principal:
        """A declared account of ``role``, leased to this check: never one another running check
        holds; a second call gives a second account where there are two, else this check's own again."""
        matches = self._matcher(role, tenant)
        if not any(matches(account) for account in self.profile.users.accounts):
            where = f" in tenant {tenant}" if tenant else ""
            raise MissingAccounts(f"needs a pre-provisioned {role} account{where} in [[users.accounts]]",
                                  role=role, needed=1, declared=0)
        key = "" if not self.profile.declares("roles") else role
        account = self.ctx.accounts.lease(self.ctx, matches, key=f"{key}@{tenant or ''}")
        self.ctx.redactor.add(account.password)
        return Principal(account.username, account.password, account.tenant, role, email=account.email)
