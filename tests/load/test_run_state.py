"""A load run's state lives on locust's Environment: each environment sees its own, and the
master/worker exchange (whose events carry no environment) reaches the state of the environment
whose runner fired it, never another's.

Locust monkey-patches the process (gevent) when imported, so the checks run in a fresh
interpreter, as every locust run of the suite does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECKS = '''
from locust.env import Environment
from locust.event import Events

from conformance.profile import load as load_profile
from scenarios.load import support


def environment():
    env = Environment(events=Events())
    support._on_init(env)
    state = support.RunState(profile=load_profile(None), out="", budget=10, label="host")
    support.attach_state(env, state)
    return env, state


first, first_state = environment()
second, second_state = environment()
assert support.state_of(first) is first_state and support.state_of(second) is second_state
assert support.state_of(Environment(events=Events())) is None

worker, worker_state = environment()
master, master_state = environment()
_other, other_state = environment()
row = [0.0, 0.01, 200, "me", [], "", 0]
worker_state.pending.append(row)
worker_state.notes["set-up retried"] += 2
data = {}
worker.events.report_to_master.fire(client_id="w1", data=data)
assert worker_state.pending == [] and not worker_state.notes, worker_state
master.events.worker_report.fire(client_id="w1", data=data)
assert master_state.rows == [row] and master_state.seen_workers == {"w1"}, master_state
assert master_state.notes == {"set-up retried": 2} and master_state.counts["2xx"] == 1, master_state
assert other_state.rows == [] and other_state.seen_workers == set(), other_state
print("state checks passed")
'''


def test_each_environment_keeps_its_own_state_and_its_own_worker_reports() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", CHECKS], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "state checks passed" in done.stdout
