"""The reference's configuration: one frozen dataclass, read from ``AUTHCONF_*`` variables.

Every number of the contract is a field here, never a constant somewhere else. ``from_env`` says
which variable was wrong and how to fix it; ``validate`` is the start-up refusal (weak secret,
faults without ``allow_faults``).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reference_impl.conditions import parse_condition_list
from reference_impl.faults import parse_fault_list

ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")
ASYMMETRIC = frozenset({"RS256", "ES256", "EdDSA"})
STORES = ("memory", "redis")
HASH_PRESETS = ("default", "fast")
MIN_SECRET_BYTES = 32
# Secrets copied from tutorials and framework defaults: refused at start-up outside debug.
KNOWN_DEFAULT_SECRETS = frozenset({
    "secret", "changeme", "change-me", "change_me", "super-secret-key", "super-secret", "supersecret",
    "your-secret-key", "your_secret_key", "your-256-bit-secret", "dev", "development", "jwt-secret",
    "jwt_secret", "jwt-secret-key", "secret-key", "secret_key", "secretkey", "mysecret", "my-secret",
    "password", "test", "testing", "default", "key", "flask-secret", "s3cr3t",
    # Long enough to pass a length check, yet printed in the FastAPI docs' JWT tutorial.
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
})
# What the faults that replace the secret put in its place (faults.py: blank-secret, default-secret,
# copied-tutorial-secret).
BLANK_SECRET = ""
TUTORIAL_SECRET = "super-secret-key"
COPIED_TUTORIAL_SECRET = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the setting and the fix."""


@dataclass(frozen=True)
class Config:
    secret_key: str = ""
    jwt_algorithm: str = "HS256"
    private_key_pem: str = ""
    issuer: str = "authconform-reference"
    audience: str = "authconform-api"
    access_ttl: int = 900
    refresh_ttl: int = 604800
    leeway: int = 0
    max_sessions: int = 5
    idle_timeout: int = 1800
    absolute_timeout: int = 28800
    api_rate_limit: int = 60
    api_rate_window: int = 60
    login_limit_account: int = 5
    login_limit_ip: int = 20
    login_rate_window: int = 60
    trusted_proxies: int = 0
    mfa_challenge_ttl: int = 300  # contract §9: the password step's challenge token lives 5 min
    mfa_attempt_limit: int = 5  # verification attempts per challenge, and failures per account...
    mfa_attempt_window: int = 300  # ...in this window (s)
    mfa_backup_codes: int = 10
    database_url: str = "sqlite:///authconform-reference.sqlite3"
    store: str = "memory"
    redis_url: str = ""
    cookie_mode: bool = False
    allow_signup: bool = True
    debug: bool = False
    hash_preset: str = "default"
    faults: frozenset[str] = field(default_factory=frozenset)
    allow_faults: bool = False
    conditions: frozenset[str] = field(default_factory=frozenset)  # see conditions.py

    def has_fault(self, name: str) -> bool:
        return name in self.faults

    def has_condition(self, name: str) -> bool:
        return name in self.conditions

    @property
    def signing_secret(self) -> str:
        """The HMAC secret actually used: the configured one unless a secret fault replaces it."""
        if self.has_fault("blank-secret"):
            return BLANK_SECRET
        if self.has_fault("default-secret"):
            return TUTORIAL_SECRET
        if self.has_fault("copied-tutorial-secret"):
            return COPIED_TUTORIAL_SECRET
        return self.secret_key

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ start-up refusal
    def validate(self) -> None:
        """Raise ConfigError when the server must not start with this configuration."""
        if self.conditions and not self.allow_faults:
            raise ConfigError(f"conditions {', '.join(sorted(self.conditions))} are switched on but "
                              "AUTHCONF_ALLOW_FAULTS is not set; unset AUTHCONF_CONDITIONS, or set "
                              "AUTHCONF_ALLOW_FAULTS=1 on a test system")
        parse_condition_list(",".join(self.conditions))
        if self.faults and not self.allow_faults:
            raise ConfigError(
                f"faults {', '.join(sorted(self.faults))} are switched on but AUTHCONF_ALLOW_FAULTS is not "
                "set; faults make the server deliberately vulnerable: unset AUTHCONF_FAULTS, or set "
                "AUTHCONF_ALLOW_FAULTS=1 for a conformance self-test")
        parse_fault_list(",".join(self.faults))
        if self.jwt_algorithm not in ALGORITHMS:
            raise ConfigError(f"AUTHCONF_JWT_ALGORITHM={self.jwt_algorithm!r} is not supported; use one of "
                              f"{', '.join(ALGORITHMS)}")
        if self.store not in STORES:
            raise ConfigError(f"AUTHCONF_STORE={self.store!r} is not a store; use one of {', '.join(STORES)}")
        if self.store == "redis" and not self.redis_url:
            raise ConfigError("AUTHCONF_STORE=redis needs AUTHCONF_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
        if self.hash_preset not in HASH_PRESETS:
            raise ConfigError(f"AUTHCONF_HASH_PRESET={self.hash_preset!r} is not a preset; use one of "
                              f"{', '.join(HASH_PRESETS)}")
        positive = ("access_ttl", "refresh_ttl", "max_sessions", "idle_timeout", "absolute_timeout",
                    "api_rate_limit", "api_rate_window", "login_limit_account", "login_limit_ip",
                    "login_rate_window", "mfa_challenge_ttl", "mfa_attempt_limit", "mfa_attempt_window",
                    "mfa_backup_codes")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{_env_name(name)} must be a positive integer, not {getattr(self, name)}")
        if not 0 <= self.leeway <= 30:
            raise ConfigError(f"AUTHCONF_LEEWAY must be 0-30 seconds, not {self.leeway}")
        if self.trusted_proxies < 0:
            raise ConfigError(f"AUTHCONF_TRUSTED_PROXIES must be 0 or more, not {self.trusted_proxies}")
        if self.secret_faulted or self.debug:
            return
        if self.jwt_algorithm == "HS256" or self.secret_key:
            self._refuse_weak_secret()

    @property
    def secret_faulted(self) -> bool:
        return any(self.has_fault(name) for name in ("blank-secret", "default-secret", "copied-tutorial-secret"))

    def _refuse_weak_secret(self) -> None:
        secret = self.secret_key
        if not secret:
            raise ConfigError("AUTHCONF_SECRET_KEY is not set; set it to a random value of at least "
                              f"{MIN_SECRET_BYTES} bytes, e.g. `python -c 'import secrets; "
                              "print(secrets.token_urlsafe(48))'` (or AUTHCONF_DEBUG=1 for local work)")
        if secret.strip().lower() in KNOWN_DEFAULT_SECRETS:
            raise ConfigError("AUTHCONF_SECRET_KEY is a well-known default secret; replace it with a random "
                              f"value of at least {MIN_SECRET_BYTES} bytes")
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"AUTHCONF_SECRET_KEY is {len(secret.encode())} bytes; it must be at least "
                              f"{MIN_SECRET_BYTES} bytes (256 bits) of random data")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def for_tests(cls, **overrides: Any) -> Config:
        """Fast hashing, in-memory SQLite, memory store, a random 256-bit secret, faults allowed."""
        settings: dict[str, Any] = {
            "secret_key": secrets.token_urlsafe(32),
            "database_url": "sqlite://",
            "store": "memory",
            "hash_preset": "fast",
            "allow_faults": True,
            "debug": False,
        }
        settings.update(overrides)
        if "faults" in settings:
            settings["faults"] = frozenset(settings["faults"])
        if "conditions" in settings:
            settings["conditions"] = frozenset(settings["conditions"])
        config = cls(**settings)
        return config.with_generated_key()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        """Read ``AUTHCONF_*`` variables; a bad value raises ConfigError naming the variable."""
        reader = _EnvReader(environ)
        defaults = cls()
        settings: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            name = item.name
            env = _env_name(name)
            if name == "private_key_pem":
                path = environ.get("AUTHCONF_PRIVATE_KEY_FILE", "").strip()
                if path:
                    settings[name] = reader.file(path, "AUTHCONF_PRIVATE_KEY_FILE")
                continue
            if env not in environ:
                continue
            default = getattr(defaults, name)
            if name == "faults":
                try:
                    settings[name] = parse_fault_list(environ[env])
                except ValueError as exc:
                    raise ConfigError(f"AUTHCONF_FAULTS: {exc}") from None
            elif name == "conditions":
                try:
                    settings[name] = parse_condition_list(environ[env])
                except ValueError as exc:
                    raise ConfigError(f"AUTHCONF_CONDITIONS: {exc}") from None
            elif isinstance(default, bool):
                settings[name] = reader.boolean(env)
            elif isinstance(default, int):
                settings[name] = reader.integer(env)
            else:
                settings[name] = environ[env].strip() if name != "secret_key" else environ[env]
        config = cls(**settings)
        config.validate()
        return config.with_generated_key()

    def with_generated_key(self) -> Config:
        """An asymmetric algorithm without a key file gets a key generated now, once: every app made
        from this configuration (workers, restarts in-process) then shares it."""
        if self.jwt_algorithm in ASYMMETRIC and not self.private_key_pem:
            from reference_impl.keys import generate_private_key_pem

            return self.replace(private_key_pem=generate_private_key_pem(self.jwt_algorithm))
        return self


def _env_name(field_name: str) -> str:
    return "AUTHCONF_" + field_name.upper()


class _EnvReader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def boolean(self, env: str) -> bool:
        value = self.environ[env].strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{env}={self.environ[env]!r} is not a boolean; use 1/true/yes or 0/false/no")

    def integer(self, env: str) -> int:
        value = self.environ[env].strip()
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{env}={value!r} is not an integer; give a whole number (seconds or a count)") \
                from None

    def file(self, path: str, env: str) -> str:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except OSError as exc:
            raise ConfigError(f"{env}={path!r} cannot be read ({exc.strerror}); point it at a PEM private "
                              "key file, or unset it to generate a key at start-up") from None
