"""The bench generator: every user GETs ``BENCH_PATH`` without pause, presenting
``BENCH_AUTHORIZATION`` when it is set. Run by bench/common.py (``locust_get``)."""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

PATH = os.environ.get("BENCH_PATH", "/")
HEADERS = {"Authorization": os.environ["BENCH_AUTHORIZATION"]} if os.environ.get("BENCH_AUTHORIZATION") else {}


class Get(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get(PATH, headers=HEADERS, name="GET")
