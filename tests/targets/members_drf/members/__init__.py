"""members: a Django REST framework service with djangorestframework-simplejwt.

Not written for authconform: it follows the simplejwt documentation. ``POST /api/token/`` answers
``{"refresh", "access"}``; ``POST /api/token/refresh/`` rotates the refresh token and blacklists
the old one (``rest_framework_simplejwt.token_blacklist``); ``POST /api/token/blacklist/`` is the
logout. Users are Django's own ``auth.User``, found by username in the routes; staff users are the
``admin`` role, everyone else ``user``. SQLite, migrated before the server starts.

Configuration (environment): ``MEMBERS_SECRET_KEY`` (required; also the JWT signing key, as
simplejwt defaults to ``SECRET_KEY``), ``MEMBERS_DB`` (the SQLite file), and
``MEMBERS_PBKDF2_ITERATIONS`` (Django's default unless set).

Serve: ``python manage.py migrate && gunicorn --chdir tests/targets/members_drf members.wsgi``.
"""
