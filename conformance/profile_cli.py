"""``authconform profile``: check a profile without running, print its JSON Schema, upgrade an old one.

    authconform profile check FILE [--set FIELD=VALUE]   # exit 0 when valid, 2 with the field and fix
    authconform profile schema                           # JSON Schema for editors (taplo, VS Code)
    authconform profile upgrade FILE [--reference] [--resources] [--write]

Profiles written before ``extends`` were read over the reference's profile without saying so, so
an operation they did not map silently took the reference's route. ``upgrade`` rewrites one (its
comments kept): for the reference, it adds ``extends = "reference"``; for any other target, it
writes the routes it cannot load without (login, me, and those of a declared capability that maps
none of its own) as the target's own, marked for review, and lists the other inherited routes
commented out, for the user to keep only those the target has. With ``--resources``, a profile that
maps the document operations also gets them written as a ``[[resources]]`` entry named documents
(how they are read anyway), for the user to add the target's other resources beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError

from conformance.profile import (
    DEFAULT_PROFILE,
    LEGACY_OPERATIONS,
    OPERATION_CAPABILITY,
    ProfileError,
    json_schema,
    load,
    loads,
    parse_override,
)

REQUIRED_OPERATIONS = ("login", "me")


def add_parser(commands: Any) -> None:
    profile = commands.add_parser("profile", help="check a profile, print its JSON Schema, or upgrade an old one")
    actions = profile.add_subparsers(dest="profile_command", required=True, parser_class=type(profile))
    check = actions.add_parser("check", help="validate a profile without running anything (exit 0 or 2)")
    check.add_argument("file", metavar="FILE")
    check.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                       help="override a profile field, as run does")
    actions.add_parser("schema", help="print the profile's JSON Schema (for editors)")
    upgrade = actions.add_parser("upgrade", help="rewrite a profile that relied on the reference's routes")
    upgrade.add_argument("file", metavar="FILE")
    upgrade.add_argument("--reference", action="store_true",
                         help='the profile describes the reference: add extends = "reference"')
    upgrade.add_argument("--resources", action="store_true",
                         help="write the document operations as a [[resources]] entry named documents")
    upgrade.add_argument("--write", action="store_true", help="rewrite FILE in place (default: print it)")


def main(args: argparse.Namespace) -> int:
    if args.profile_command == "schema":
        sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
        return 0
    if args.profile_command == "check":
        overrides = dict(parse_override(item) for item in args.overrides)
        loaded = load(args.file, overrides=overrides)
        offered = sorted(name for name in loaded.operations if loaded.offers(name))
        print(f"{args.file}: valid profile {loaded.name!r}"
              + (' (extends "reference")' if loaded.extends else "")
              + f"; {len(loaded.capabilities)} capabilities, operations: {', '.join(offered)}"
              + (f"; resources: {', '.join(r.name for r in loaded.resource_list())}" if loaded.resource_list() else ""))
        return 0
    text, notes = upgrade(Path(args.file), for_reference=args.reference, resources=args.resources)
    if args.write:
        Path(args.file).write_text(text)
    else:
        sys.stdout.write(text)
    for note in notes:
        print(f"upgrade: {note}", file=sys.stderr)
    return 0


def upgrade(path: Path, *, for_reference: bool = False, resources: bool = False) -> tuple[str, list[str]]:
    """The profile at ``path`` rewritten for explicit ``extends``, and what changed (for the user)."""
    try:
        document = tomlkit.parse(path.read_text())
    except FileNotFoundError:
        raise ProfileError(str(path), "", "the file does not exist", "pass the path of an existing profile") from None
    except ParseError as exc:
        raise ProfileError(str(path), "", f"not valid TOML ({exc})", "correct the TOML syntax") from None
    notes: list[str] = []
    inherit = document.pop("inherit", None)
    if "extends" in document:
        notes.append("already says extends; nothing inherited implicitly")
    elif inherit is not None and not inherit:
        notes.append("inherit = false removed: a profile without extends now stands on its own")
    elif for_reference:
        _put_first(document, "extends", "reference", "read over the bundled default, which describes the reference")
        notes.append('extends = "reference" added: read over the bundled default as before')
    else:
        notes += _own_routes(document)
    if resources:
        notes += _resources_from_documents(path, document)
    text = tomlkit.dumps(document)
    _validate_upgraded(path, text)
    return text, notes


def _put_first(document: tomlkit.TOMLDocument, key: str, value: str, comment: str) -> None:
    body = list(document.items())
    for name, _item in body:
        document.remove(name)
    item = tomlkit.item(value)
    item.comment(comment)
    document.add(key, item)
    for name, old in body:
        document.add(name, old)


def _own_routes(document: tomlkit.TOMLDocument) -> list[str]:
    """Write as the target's own the required routes it took from the reference, and list the
    others it took, commented out; notes say what else the reference no longer supplies."""
    notes = []
    reference = load(DEFAULT_PROFILE)
    data = document.unwrap()
    capabilities = data.get("capabilities", reference.capabilities)
    mapped = set(data.get("operations") or {})
    inherited = [name for name, capability in OPERATION_CAPABILITY.items()
                 if name not in mapped and name in reference.operations and (not capability or capability in
                                                                             capabilities)]
    if "operations" not in document:
        document.add("operations", tomlkit.table(is_super_table=True))
    operations: Any = document["operations"]
    # Kept as the target's own (marked for review): the required ones, and those of a declared
    # capability that maps none of its operations itself (the profile would not load without them).
    bare = {capability for capability in capabilities
            if not any(n in mapped for n, c in OPERATION_CAPABILITY.items() if c == capability)}
    kept = [n for n in inherited if n in REQUIRED_OPERATIONS or OPERATION_CAPABILITY[n] in bare]
    for name in kept:
        op = reference.operation(name)
        table = tomlkit.table()
        table.add(tomlkit.comment("was the reference's route: check that the target has it here"))
        table.add("method", op.method)
        table.add("path", op.path)
        if op.fields:
            table.add("fields", _inline(op.fields))
        operations.add(name, table)
        notes.append(f"operations.{name}: the reference's {op.method} {op.path} written as the target's own; check it")
    others = [n for n in inherited if n not in kept]
    if others:
        lines = ["", "Until now these operations were the reference's routes, read over this profile without",
                 "saying so. Uncomment only those the target has, at its own paths; a check needing one",
                 "left out is \"not applicable\" (operation NAME is not declared)."]
        for name in others:
            op = reference.operation(name)
            lines += [f"[operations.{name}]", f'method = "{op.method}"', f'path = "{op.path}"']
        for line in lines:
            document.add(tomlkit.comment(line) if line else tomlkit.nl())
        notes.append("operations " + ", ".join(others) + " are no longer the reference's: listed commented out")
    if "users" not in data or "source" not in (data.get("users") or {}):
        if "signup" in capabilities:
            notes.append('users.source: "signup" (as before)')
    tokens = data.get("tokens") or {}
    for name in ("issuer", "audience"):
        if name not in tokens:
            notes.append(f"tokens.{name}: was the reference's {getattr(reference.tokens, name)!r}, now empty "
                         "(the target sets none): write the target's own if it has one")
    if not data.get("resources") and any(n in mapped for n in LEGACY_OPERATIONS.values()):
        notes.append("operations document_*: still read as the one resource \"documents\"; declare [[resources]] "
                     "to have the object-level checks judge each resource of the target (docs/targets.md)")
    if "max_length" not in (data.get("passwords") or {}):
        notes.append("passwords.max_length: was 128, now none (0): write the target's maximum if it has one")
    return notes


def _resources_from_documents(path: Path, document: tomlkit.TOMLDocument) -> list[str]:
    """Write the one resource an older profile describes with the document operations as a
    [[resources]] entry (the profile is read the same way before and after)."""
    if document.get("resources"):
        return ["resources: already declared; nothing written"]
    loaded = _placeholder_load(path, tomlkit.dumps(document))
    legacy = loaded.resource_list() if not loaded.resources else []
    if not legacy:
        return ["resources: the profile maps no document operations (or does not declare documents); nothing "
                "written"]
    resource = legacy[0]
    table = tomlkit.table()
    table.add(tomlkit.comment("was the operations document_*: check id_kind and ownership, and add the "
                              "target's other resources beside this one"))
    table.add("name", resource.name)
    table.add("id_kind", resource.id_kind)
    table.add("ownership", resource.ownership)
    for verb in ("create", "read", "update", "delete", "list"):
        op = resource.operation(verb)
        if not op.offered:
            continue
        values: dict[str, Any] = {"method": op.method, "path": op.path}
        if op.body:
            values["body"] = _inline(op.body)
        if op.form != "json":
            values["form"] = op.form
        if verb == "create" and op.id_path != "id":
            values["id_path"] = op.id_path
        table.add(verb, _inline(values))
    if resource.id_field != "id":
        table.add("id_field", resource.id_field)
    entries = tomlkit.aot()
    entries.append(table)
    document.add("resources", entries)
    return [f"resources: the document operations written as the resource {resource.name!r} "
            f"({resource.id_kind} ids, ownership {resource.ownership}: check both)"]


def _placeholder_load(path: Path, text: str) -> Any:
    variables = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))
    environ = {name: "http://127.0.0.1:9" if name.endswith("_URL") else "placeholder" for name in variables}
    return loads(text, source=str(path), environ=environ)


def _inline(values: dict[str, Any]) -> Any:
    table = tomlkit.inline_table()
    table.update(values)
    return table


def _validate_upgraded(path: Path, text: str) -> None:
    """The upgraded text must load; ${VARS} stand in as placeholders (they are read at run time)."""
    try:
        _placeholder_load(path, text)
    except ProfileError as exc:
        raise ProfileError(str(path), exc.field_path, f"even upgraded, {exc.problem}", exc.fix) from None
