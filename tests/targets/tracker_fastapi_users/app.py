"""tracker: a FastAPI service whose accounts are fastapi-users', as its documentation sets them up.

Not written for authconform: the SQLAlchemy example of the fastapi-users docs, with the JWT
strategy over a Bearer transport. Users are identified by UUID and sign up with an e-mail address
(``EmailStr``, checked by email-validator) and a password; ``POST /auth/jwt/login`` is an OAuth2
password form whose ``username`` is the e-mail; there is no refresh token, and logout answers 204
without revoking anything (the JWT strategy cannot destroy a token). ``PATCH /users/me`` changes
the caller's own e-mail or password. SQLite through SQLAlchemy's aiosqlite driver.

Configuration (environment): ``TRACKER_SECRET`` (required: the JWT secret), ``TRACKER_DB`` (the
SQLite file, default ``tracker.sqlite3``).

Serve: ``uvicorn --app-dir tests/targets/tracker_fastapi_users app:app``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, InvalidPasswordException, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

SECRET = os.environ["TRACKER_SECRET"]
DATABASE_URL = f"sqlite+aiosqlite:///{os.environ.get('TRACKER_DB', 'tracker.sqlite3')}"
TOKEN_LIFETIME = 3600
MIN_PASSWORD = 8


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


engine = create_async_engine(DATABASE_URL)
async_session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_async_session() -> AsyncGenerator[AsyncSession, None]:
    async with async_session_maker() as session:
        yield session


UserDatabase = SQLAlchemyUserDatabase[User, uuid.UUID]


async def get_user_db(session: Annotated[AsyncSession, Depends(get_async_session)]) -> AsyncGenerator[
        UserDatabase, None]:
    yield SQLAlchemyUserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET

    async def validate_password(self, password: str, user: schemas.UC | User) -> None:
        if len(password) < MIN_PASSWORD:
            raise InvalidPasswordException(reason=f"Password should be at least {MIN_PASSWORD} characters")
        if user.email in password:
            raise InvalidPasswordException(reason="Password should not contain e-mail")


async def get_user_manager(user_db: Annotated[UserDatabase, Depends(get_user_db)]) -> \
        AsyncGenerator[UserManager, None]:
    yield UserManager(user_db)


def get_jwt_strategy() -> JWTStrategy[User, uuid.UUID]:
    return JWTStrategy(secret=SECRET, lifetime_seconds=TOKEN_LIFETIME)


bearer_transport = BearerTransport(tokenUrl="auth/jwt/login")
auth_backend = AuthenticationBackend(name="jwt", transport=bearer_transport, get_strategy=get_jwt_strategy)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])
current_active_user = fastapi_users.current_user(active=True)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield


app = FastAPI(title="tracker", lifespan=lifespan)
app.include_router(fastapi_users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"])
app.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth", tags=["auth"])
app.include_router(fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users", tags=["users"])


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
