"""Locust load profiles, driven by the suite's own profile (see ``support.py`` and docs/load.md).

One locustfile per profile: ``login_storm``, ``refresh_churn``, ``rate_limit_probe``,
``revocation_race``, ``mixed``. ``authconform load NAME`` runs them; locust can run them directly.
"""
