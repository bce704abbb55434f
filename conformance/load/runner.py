"""``authconform load PROFILE_NAME``: serve (or reach) the target, run locust headless, report.

Without ``--target``/``--profile`` the bundled reference is served for the run: a throwaway
redis-server and gunicorn (4 workers by default) on free loopback ports, configured with the
profile's declared numbers, trusting one proxy so that every simulated client has an address of
its own. Locust runs as one local process, or as a master with ``--workers K`` worker processes
(locust's distributed mode; ``--remote-workers N`` waits for workers started on other machines).
The master prints a progress line every few seconds; this process shows it and writes the rest of
locust's output to log files in the report directory. The run is bounded twice: locust stops after
the run time (or when ``load.max_requests`` is spent), and a watchdog here stops locust if it has
not ended well after that.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from conformance import exitcodes
from conformance.load import figures as figures_mod
from conformance.load.samples import Sample
from conformance.load.settings import LoadSettings, LoadUsageError, check_target, processes_text, resolve
from conformance.profile import Profile, ProfileError, load, parse_override
from conformance.verdict import TargetUnreachable

SERVED_WORKERS = 4  # gunicorn workers of the served reference
EXPECT_WORKERS_WAIT = 60  # seconds the master waits for its workers to connect
GRACE = 90.0  # seconds past run time + ramp-up before the watchdog stops locust
PROGRESS_EVERY = 5.0  # seconds between progress lines when stdout is not a terminal
LOCUST_STOP_MARGIN = 60  # master with workers: locust's own --run-time backstop, past ours
PROGRESS_PREFIX = "AUTHCONF-PROGRESS "
SAMPLES_FILE = "samples.json"


@dataclass
class Outcome:
    samples: list[Sample]
    notes: dict[str, int]
    started: float
    finished: float
    workers_reported: int
    workers_final: int


# ---------------------------------------------------------------------------- the served reference

def reference_settings(profile: Profile, redis_url: str, faults: frozenset[str]) -> dict[str, str]:
    """``AUTHCONF_*`` for the served reference: the profile's declared numbers, the Redis store,
    one trusted proxy, and the faults asked for (with the configuration they need)."""
    from conformance.deployments import faults_by_name

    by_name = faults_by_name()
    rate, tokens, sessions = profile.rate_limits, profile.tokens, profile.sessions
    settings = {
        "AUTHCONF_STORE": "redis", "AUTHCONF_REDIS_URL": redis_url,
        "AUTHCONF_TRUSTED_PROXIES": "1",
        "AUTHCONF_API_RATE_LIMIT": rate.api_limit, "AUTHCONF_API_RATE_WINDOW": rate.api_window,
        "AUTHCONF_LOGIN_LIMIT_ACCOUNT": rate.login_account_limit, "AUTHCONF_LOGIN_LIMIT_IP": rate.login_ip_limit,
        "AUTHCONF_LOGIN_RATE_WINDOW": rate.login_window,
        "AUTHCONF_MAX_SESSIONS": sessions.max_sessions, "AUTHCONF_IDLE_TIMEOUT": sessions.idle_timeout,
        "AUTHCONF_ABSOLUTE_TIMEOUT": sessions.absolute_timeout,
        "AUTHCONF_ACCESS_TTL": tokens.access_ttl, "AUTHCONF_REFRESH_TTL": tokens.refresh_ttl,
        "AUTHCONF_LEEWAY": tokens.leeway, "AUTHCONF_JWT_ALGORITHM": tokens.algorithm,
        "AUTHCONF_ISSUER": tokens.issuer, "AUTHCONF_AUDIENCE": tokens.audience,
    }
    if faults:
        settings["AUTHCONF_FAULTS"] = ",".join(sorted(faults))
        settings["AUTHCONF_ALLOW_FAULTS"] = "1"
        for name in sorted(faults):
            for key, value in by_name[name].config.items():
                settings["AUTHCONF_" + key.upper()] = ("1" if value else "0") if isinstance(value, bool) else value
    return {key: str(value) for key, value in settings.items()}


@contextmanager
def served_reference(profile: Profile, faults: frozenset[str], directory: Path,
                     workers: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Serve the reference for the run; yields its URL and the profile fields that describe it."""
    from conformance.deployments import reference_config_from_environment, reference_overrides
    from conformance.served import redis_server, reference_environment, reference_server

    with redis_server() as redis_url:
        settings = reference_settings(profile, redis_url, faults)
        environment = reference_environment(settings, directory)
        try:
            config = reference_config_from_environment(environment)
        except ValueError as exc:  # the reference's ConfigError, naming the variable
            raise LoadUsageError(f"the served reference cannot use this profile: {exc}") from None
        with reference_server(settings, directory / "reference", workers=workers) as base:
            yield base, reference_overrides(profile, config)


# ---------------------------------------------------------------------------- locust

def locust_commands(settings: LoadSettings, base: str, directory: Path, *, master_port: int, remote_workers: int,
                    master_bind: str) -> tuple[list[str], list[list[str]]]:
    """The master (or only) locust command, and one command per local worker. The profile goes in the
    environment (``locust_environment``), never on a command line other users of the machine can read."""
    locust = [sys.executable, "-m", "locust", "-f", str(settings.locustfile), "--loglevel", "WARNING"]
    expected = settings.workers + remote_workers
    main = [*locust, "--headless", "--users", str(settings.users), "--spawn-rate", f"{settings.spawn_rate:g}",
            "--host", base, "--csv", str(directory / figures_mod.LOCUST_PREFIX), "--csv-full-history",
            "--only-summary", "--stop-timeout", "0", "--exit-code-on-error", "0",
            "--authconform-out", str(directory), "--authconform-processes", str(max(1, expected))]
    if not expected:
        return [*main, "--run-time", f"{settings.run_time}s"], []
    main += ["--master", "--master-bind-host", master_bind, "--master-bind-port", str(master_port),
             "--expect-workers", str(expected), "--expect-workers-max-wait", str(EXPECT_WORKERS_WAIT),
             "--run-time", f"{settings.run_time + LOCUST_STOP_MARGIN}s",
             "--authconform-run-time", str(settings.run_time)]
    worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port)]
    return main, [list(worker) for _ in range(settings.workers)]


def locust_environment(profile_path: str | None, overrides: dict[str, Any]) -> dict[str, str]:
    """The profile a locust process reads (scenarios/load/support.py): the file and the overrides."""
    return {**os.environ, "AUTHCONF_PROFILE": profile_path or "",
            "AUTHCONF_PROFILE_OVERRIDES": json.dumps(overrides)}


def _stop_all(processes: list[subprocess.Popen[Any]]) -> None:
    from conformance.served import stop

    for process in reversed(processes):  # the workers, then the master
        stop(process)


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


class ProgressLine:
    """The master's figures, live: rewritten in place on a terminal, every few seconds in a log."""

    def __init__(self, run_time: int) -> None:
        self.run_time = run_time
        self.tty = sys.stdout.isatty()
        self.last_print = 0.0
        self.shown = False

    def show(self, data: dict[str, Any]) -> None:
        text = (f"[{data.get('elapsed', 0):5.0f}/{self.run_time} s] {data.get('users', 0)} users  "
                f"{data.get('rps', 0):.0f} req/s  2xx {data.get('2xx', 0)}  401 {data.get('401', 0)}  "
                f"429 {data.get('429', 0)}  5xx {data.get('5xx', 0)}  other {data.get('other', 0)}  "
                f"p95 {data.get('p95_ms', 0):.0f} ms  violations {data.get('violations', 0)}")
        if self.tty:
            sys.stdout.write("\r\x1b[K" + text)
            sys.stdout.flush()
            self.shown = True
        elif time.monotonic() - self.last_print >= PROGRESS_EVERY:
            self.last_print = time.monotonic()
            print(text, flush=True)

    def done(self) -> None:
        if self.tty and self.shown:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()


def run_locust(settings: LoadSettings, base: str, profile_path: str | None, overrides: dict[str, Any],
               directory: Path, *, remote_workers: int = 0, master_bind: str = "127.0.0.1",
               master_port: int | None = None) -> Outcome:
    from conformance.served import free_port, last_error_line

    (directory / SAMPLES_FILE).unlink(missing_ok=True)
    main, workers = locust_commands(settings, base, directory, master_port=master_port or free_port(),
                                    remote_workers=remote_workers, master_bind=master_bind)
    env = locust_environment(profile_path, overrides)
    ramp_up = settings.users / settings.spawn_rate
    wait_for_workers = EXPECT_WORKERS_WAIT if remote_workers else 0
    deadline = time.monotonic() + settings.run_time + ramp_up + wait_for_workers + GRACE
    progress = ProgressLine(settings.run_time)
    processes: list[subprocess.Popen[Any]] = []
    started = time.time()
    with ExitStack() as stack:
        master_log = stack.enter_context((directory / "locust-master.log").open("w"))
        master = subprocess.Popen(main, stdout=subprocess.PIPE, stderr=master_log, text=True, bufsize=1, env=env)
        processes.append(master)
        stack.callback(_stop_all, processes)
        for index, command in enumerate(workers):
            log = stack.enter_context((directory / f"locust-worker-{index + 1}.log").open("w"))
            processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env))
        lines: queue.Queue[str | None] = queue.Queue()
        assert master.stdout is not None
        threading.Thread(target=_pump, args=(master.stdout, lines), daemon=True).start()
        timed_out = False
        while True:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if time.monotonic() > deadline:
                    timed_out = True
                    break
                continue
            if line is None:
                break
            if line.startswith(PROGRESS_PREFIX):
                try:
                    progress.show(json.loads(line[len(PROGRESS_PREFIX):]))
                except json.JSONDecodeError:
                    master_log.write(line)
            else:
                master_log.write(line)
        progress.done()
        try:
            master.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
    finished = time.time()
    if timed_out:
        raise LoadRunError(f"locust did not stop by itself within {deadline - started:.0f} s of starting; it was "
                           f"stopped. See {directory / 'locust-master.log'}")
    path = directory / SAMPLES_FILE
    if not path.is_file():
        master_log_path = directory / "locust-master.log"
        raise LoadRunError(f"locust ended without its samples: {last_error_line(master_log_path)} "
                           f"(its log: {master_log_path})")
    data = json.loads(path.read_text())
    samples = [Sample.from_row(row) for row in data.get("rows", [])]
    return Outcome(samples, dict(data.get("notes", {})), started, finished,
                   int(data.get("workers", 0)), int(data.get("workers_final", 0)))


class LoadRunError(RuntimeError):
    """The load run itself broke (the reference or locust did not start, stop or report); the message says
    where to look. ``exit_code`` None means an internal error (70)."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------- the command

def command(args: Any, *, write_reports: Callable[..., list[Path]]) -> int:
    """``authconform load`` (options parsed by conformance/load/cli.py, which hands in the report writer:
    ``reports.load.write_load_report``)."""
    from conformance.deployments import parse_faults
    from conformance.load.settings import LOCUST_MASTER_PORT

    overrides = dict(parse_override(item) for item in args.overrides)
    file_profile = load(args.profile)
    profile = load(args.profile, overrides=overrides)
    settings = resolve(profile, args.scenario, users=args.users, spawn_rate=args.spawn_rate,
                       run_time=args.run_time, workers=args.workers)
    remote = args.remote_workers or 0
    if remote < 0:
        raise LoadUsageError(f"--remote-workers {remote}: give the number of workers started on other machines")
    if args.master_bind != "127.0.0.1" and not remote:
        raise LoadUsageError("--master-bind only matters with --remote-workers N (workers on other machines)")
    serve = not (args.target or args.profile)
    faults = parse_faults(args.fault)
    if faults and not serve:
        raise LoadUsageError("--fault switches faults on in the served reference; drop --target/--profile")
    master_port = args.master_port if args.master_port is not None else (LOCUST_MASTER_PORT if remote else None)
    if master_port is not None and not 0 < master_port < 65536:
        raise LoadUsageError(f"--master-port {master_port} is not a port; give 1-65535")
    if remote and serve:
        raise LoadUsageError("--remote-workers need a target they can reach: the served reference listens on "
                             "loopback only; pass --profile with the target's base_url")
    if args.reference_workers < 1:
        raise LoadUsageError(f"--reference-workers {args.reference_workers}: the served reference needs at least 1")
    directory = Path(args.report_dir) / settings.scenario
    directory.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if serve:
            from conformance.served import ServeError

            try:
                base, described = stack.enter_context(
                    served_reference(profile, faults, directory, args.reference_workers))
            except ServeError as exc:
                raise LoadRunError(str(exc), exitcodes.USAGE_OR_PROFILE) from None
            target_name = f"reference (gunicorn, {args.reference_workers} workers, Redis)" + (
                f" with faults {', '.join(sorted(faults))}" if faults else "")
            overrides = {**overrides, **described}
        else:
            base = (args.target or profile.target.base_url).rstrip("/")
            check_target(base, file_profile.target.base_url)
            _wait_for(base, profile)
            target_name = base
        overrides["target.base_url"] = base
        effective = load(args.profile, overrides=overrides)
        print(f"authconform load: {settings.scenario} against {target_name}: {settings.users} users, "
              f"{settings.run_time} s, {processes_text(settings.workers, remote)}", flush=True)
        if remote:
            print(f"authconform load: the locust master waits up to {EXPECT_WORKERS_WAIT} s for {remote} remote "
                  f"worker(s) on {args.master_bind}:{master_port}", flush=True)
        outcome = run_locust(settings, base, args.profile, overrides, directory, remote_workers=remote,
                             master_bind=args.master_bind, master_port=master_port)
    if not any(s.status for s in outcome.samples):
        raise TargetUnreachable(f"no request of the run was answered by {base}" + _notes_text(outcome.notes))
    figures = figures_mod.build(outcome.samples, effective, directory, started=outcome.started,
                                finished=outcome.finished)
    figures.update({"scenario": settings.scenario, "description": _description(settings.scenario),
                    "users": settings.users, "spawn_rate": settings.spawn_rate, "run_time_s": settings.run_time,
                    "workers": settings.workers, "remote_workers": remote,
                    "served_reference": {"gunicorn_workers": args.reference_workers, "store": "redis",
                                         "faults": sorted(faults)} if serve else None,
                    "notes": outcome.notes})
    written = write_reports(figures, effective, target_name, directory, started=outcome.started,
                                finished=outcome.finished, faults=sorted(faults), overrides=list(args.overrides))
    print(summary_text(figures))
    print(f"reports: {', '.join(str(p) for p in written)}")
    return exitcodes.OK if figures["passed"] else exitcodes.LOAD_THRESHOLD


def _description(scenario: str) -> str:
    from conformance.load.settings import SCENARIOS

    return SCENARIOS[scenario]


def _notes_text(notes: dict[str, int]) -> str:
    if not notes:
        return ""
    return "; users reported: " + "; ".join(f"{message} (x{count})" for message, count in notes.items())


def _wait_for(base: str, profile: Profile) -> None:
    from conformance.deployments import wait_until_ready
    from conformance.targets.http import HttpTarget

    target = HttpTarget(base, connect_timeout=profile.target.connect_timeout,
                        read_timeout=profile.target.read_timeout,
                        verify=profile.target.ca_file or profile.target.verify_tls)
    try:
        wait_until_ready(target, profile.target.ready_path, profile.target.ready_timeout)
    finally:
        target.close()


def summary_text(figures: dict[str, Any]) -> str:
    classes = figures["status_classes"]
    lines = [f"{figures['requests']} requests in {figures['duration_s']} s ({figures['rps']} req/s): "
             + ", ".join(f"{name} {count}" for name, count in classes.items()),
             "over-admission: " + ", ".join(f"{name} {count}" for name, count in figures["over_admission"].items())]
    for kind, limit in figures["limits"].items():
        lines.append(f"  {kind}: {limit['keys']} keys, {limit['windows']} windows, at most {limit['max_admitted']} "
                     f"admitted per window (limit {limit['limit']} / {limit['window_s']:g} s), "
                     f"{limit['over_admission']} over")
    for item in figures["thresholds"]:
        mark = "ok    " if item["passed"] else "BREACH"
        lines.append(f"{mark} {item['name']}: {item['value']:g}{item['unit']} (limit {item['limit']:g}{item['unit']}, "
                     f"{item['field']})")
    lines.append("load thresholds hold" if figures["passed"] else "load thresholds breached (exit 4)")
    return "\n".join(lines)


__all__ = ["command", "LoadRunError", "LoadUsageError", "ProfileError"]
