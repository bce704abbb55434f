"""Requests and wall time of the per-operation checks on a 50-operation OpenAPI document (prints JSON).

The in-process reference gets a blueprint of generated routes (``/bench/items{n}`` reads, writes on
``/bench/items{n}/{item_id}``, each behind a permission of the contract, each declared like the
reference's own routes so /openapi.json describes it) until its document has ``--operations``
operations. Each check runs once with the document as its catalog (``--openapi /openapi.json``) and
once with the profile's [[routes]] only; every request the check sends through the target is counted.

    .venv/bin/python -m bench.operations [--operations 50] [--fault NAME]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bench.common import print_json

CHECKS = ("ROLE-MATRIX", "ROLE-METHOD-SWITCH", "ROLE-PATH-VARIANT", "TOK-FORGED-EVERY-OPERATION",
          "CRED-NO-MINT-ROUTE")
PERMISSIONS = ("read", "write", "manage_users", "audit", "")


def reference_operations() -> int:
    """How many operations the reference's own document describes (public ones included)."""
    from reference_impl.app import create_app
    from reference_impl.config import Config
    from reference_impl.openapi import document

    app = create_app(Config.for_tests())
    with app.app_context():
        paths = document(app)["paths"]
    return sum(1 for item in paths.values() for method in item if method != "parameters")


def wide_blueprint(extra: int) -> Any:
    """A blueprint of ``extra`` generated operations: GET /bench/itemsN and PUT /bench/itemsN/{item_id}
    in turn, each behind one of the contract's permissions."""
    from flask import Blueprint

    from reference_impl.openapi import STRING, obj
    from reference_impl.operations import Operation, route
    from reference_impl.role_access import current

    bp = Blueprint("bench_items", __name__)
    for n in range(extra):
        permission = PERMISSIONS[n % len(PERMISSIONS)]
        if n % 2 == 0:
            operation = Operation("get", f"/bench/items{n}", f"generated read {n}", 200,
                                  obj(["tenant"], tenant=STRING), permission=permission)
        else:
            operation = Operation("put", f"/bench/items{n}/{{item_id}}", f"generated write {n}", 200,
                                  obj(["tenant"], tenant=STRING), permission=permission,
                                  body=obj(["name"], name={"type": "string", "minLength": 1, "maxLength": 40}),
                                  path_parameters={"item_id": {"type": "integer", "minimum": 1}},
                                  answers={404: "no such item"})

        def view(**_ids: Any) -> Any:
            return {"tenant": current().tenant}

        view.__name__ = f"item_{n}"
        route(bp, operation)(view)
    return bp


@contextmanager
def wide_reference(operations: int) -> Iterator[None]:
    """The in-process reference built with the generated blueprint, while the context lasts."""
    from conformance.targets import inprocess

    original: Callable[..., Any] = inprocess.create_app
    extra = max(0, operations - reference_operations())

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        app.register_blueprint(wide_blueprint(extra))
        return app

    inprocess.create_app = create_app
    try:
        yield
    finally:
        inprocess.create_app = original


@contextmanager
def counted() -> Iterator[list[int]]:
    """Count every request the in-process target sends (one list item, incremented)."""
    from conformance.targets.inprocess import InProcessTarget

    original = InProcessTarget.request
    count = [0]

    def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return original(self, *args, **kwargs)

    InProcessTarget.request = request  # type: ignore[method-assign]
    try:
        yield count
    finally:
        InProcessTarget.request = original  # type: ignore[method-assign]


def measure(check_id: str, *, openapi: bool, operations: int, faults: frozenset[str] = frozenset()) -> dict[str, Any]:
    from conformance import profile, registry
    from conformance.deployments import in_process_source, reference_config
    from conformance.runner import run_check

    base = profile.load(overrides={"openapi.document": "/openapi.json"} if openapi else None)
    with wide_reference(operations), counted() as count:
        source = in_process_source(base, reference_config(faults, frozenset()))
        started = time.perf_counter()
        try:
            result = run_check(registry.get(check_id), source(registry.get(check_id)))
        finally:
            source.close()  # type: ignore[attr-defined]
        seconds = time.perf_counter() - started
    return {"check": check_id, "catalog": "openapi" if openapi else "routes", "verdict": str(result.verdict),
            "requests": count[0], "seconds": round(seconds, 2), "coverage": result.coverage,
            "reason": result.reason[:200]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=50)
    parser.add_argument("--fault", action="append", default=[])
    args = parser.parse_args(argv)
    rows = [measure(check_id, openapi=openapi, operations=args.operations, faults=frozenset(args.fault))
            for check_id in CHECKS for openapi in (True, False)]
    print_json({"operations": args.operations, "results": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
