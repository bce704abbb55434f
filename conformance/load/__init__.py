"""Load profiles: the contract's rate limits, revocation and rotation under real concurrency.

``authconform load PROFILE_NAME`` runs one of the locustfiles in ``scenarios/load/`` headless
(one process, or a locust master with worker processes), against the bundled reference served
by gunicorn with a Redis store, or against the profile's own target. Every request the
simulated users send is recorded as a :class:`~conformance.load.samples.Sample`; after the run
the samples and locust's CSV statistics become the figures of the report, and the thresholds of
the profile's ``[load]`` section become the exit code.

- ``samples.py``: what one request leaves behind (no token, password or username in it);
- ``windows.py``: admitted requests per limiter key and window, judged against the limit;
- ``figures.py``: samples + locust CSVs -> the report's ``load`` figures and threshold verdicts;
- ``settings.py``: the run's settings, validated (profile ``[load]`` and command-line options);
- ``runner.py``: serving the reference, starting locust, live progress, writing the reports.
"""
