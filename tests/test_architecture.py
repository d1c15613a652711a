"""The layers of docs/architecture.md, read off the source with `ast`:

- app/models imports no layer above it (services, web, api, cli, ops);
- app/services imports neither the web side (web, api, cli, ops, the request
  helpers) nor Flask's request objects (request, session, g, current_user):
  the actor and the request id come in as arguments;
- app/web and app/api take from app/models only constants, names written in
  UPPER_CASE (ROLES, CATEGORIES …): rows are loaded and changed through the
  services, and what views hold is what a service returned.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
ABOVE_MODELS = ("app.services", "app.web", "app.api", "app.cli", "app.ops")
ABOVE_SERVICES = ("app.web", "app.api", "app.cli", "app.ops", "app.request_context",
                  "app.envelope", "app.errors")
REQUEST_OBJECTS = {"flask": {"request", "session", "g"}, "flask.globals": {"request", "session", "g"},
                   "flask_login": {"current_user"}, "flask_login.utils": {"current_user"}}


def _module_name(path: Path) -> str:
    """Dotted, with a package's own module as `pkg.__init__`: for every module,
    the package relative imports start from is then its name's parent."""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _sources(package: str) -> Iterator[tuple[str, str]]:
    """(module name, source) of every module of `package` (e.g. "app/web")."""
    for path in sorted((ROOT / package).rglob("*.py")):
        yield _module_name(path), path.read_text(encoding="utf-8")


def imports(module: str, source: str) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, name) of each import: `import a.b` gives ("a.b", None),
    `from a import b` gives ("a", "b"); relative imports are made absolute.
    Imports inside functions and `if TYPE_CHECKING:` blocks count too."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[:-1]
                anchor = package[:len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield node.lineno, base, alias.name


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def model_imports_of_a_view(module: str, source: str) -> list[str]:
    """What a web or api module takes from app.models that is not a constant."""
    found = []
    for line, base, name in imports(module, source):
        if name is None and _within(base, ("app.models",)):
            found.append(f"{module}:{line}: import {base}")
        elif base == "app" and name == "models":
            found.append(f"{module}:{line}: from app import models")
        elif _within(base, ("app.models",)) and not CONSTANT.match(name or ""):
            found.append(f"{module}:{line}: from {base} import {name}")
    return found


def web_imports_of_a_service(module: str, source: str) -> list[str]:
    """The web side and request objects a services module reaches for."""
    found = []
    flask_aliases = set()
    for line, base, name in imports(module, source):
        if _within(base, ABOVE_SERVICES) or (base == "app" and name in
                                              {p.split(".")[1] for p in ABOVE_SERVICES}):
            found.append(f"{module}:{line}: imports {base}{'.' + name if name else ''}")
        elif name in REQUEST_OBJECTS.get(base, ()):
            found.append(f"{module}:{line}: from {base} import {name}")
        elif name is None and base == "flask":
            flask_aliases.add("flask")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            flask_aliases.update(a.asname for a in node.names if a.name == "flask" and a.asname)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in flask_aliases and node.attr in REQUEST_OBJECTS["flask"]:
            found.append(f"{module}:{node.lineno}: flask.{node.attr}")
    return found


def upward_imports_of_a_model(module: str, source: str) -> list[str]:
    return [f"{module}:{line}: imports {base}{'.' + name if name else ''}"
            for line, base, name in imports(module, source)
            if _within(base, ABOVE_MODELS)
            or (base == "app" and name in {p.split(".")[1] for p in ABOVE_MODELS})]


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize("package", ["app/web", "app/api"])
def test_views_take_only_constants_from_the_models(package):
    found = [hit for module, source in _sources(package)
             for hit in model_imports_of_a_view(module, source)]
    assert not found, "load and change rows through app/services:\n" + "\n".join(found)


def test_services_know_nothing_of_requests_or_the_layers_above():
    found = [hit for module, source in _sources("app/services")
             for hit in web_imports_of_a_service(module, source)]
    assert not found, "pass the actor and request id in as arguments:\n" + "\n".join(found)


def test_models_import_no_layer_above_them():
    found = [hit for module, source in _sources("app/models")
             for hit in upward_imports_of_a_model(module, source)]
    assert not found, "\n".join(found)


def test_every_package_the_rules_read_is_there():
    for package in ("app/models", "app/services", "app/web", "app/api"):
        assert len(list(_sources(package))) > 1, package


# --------------------------------------------------------------------------- the checks


@pytest.mark.parametrize("source, module, refused", [
    ("from app.models import Member", "app.web.members.views", True),
    ("from app.models.member import Member", "app.api.profiles", True),
    ("import app.models", "app.web.views", True),
    ("import app.models.ledger as ledger", "app.web.views", True),
    ("from app import models", "app.web.views", True),
    ("from ...models import Member", "app.web.members.views", True),
    ("from ..models.ledger import PointTransaction", "app.api.points", True),
    ("def f():\n    from app.models import StaffUser", "app.web.auth.views", True),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.models import Member",
     "app.web.views", True),
    ("from app.models import ROLES", "app.web.admin.forms", False),
    ("from app.models.ledger import CATEGORIES, KINDS", "app.api.openapi", False),
    ("from ...models.ledger import KINDS", "app.web.members.forms", False),
    ("from ..models import Tenant", "app.web.__init__", True),
    ("from app.services import members", "app.web.members.views", False),
    ("from app.modelsx import Thing", "app.web.views", False),
])
def test_the_view_rule_tells_constants_from_everything_else(source, module, refused):
    assert bool(model_imports_of_a_view(module, source)) is refused


@pytest.mark.parametrize("source, refused", [
    ("from flask import request", True),
    ("from flask import current_app, g", True),
    ("from flask import session as s", True),
    ("from flask.globals import request", True),
    ("from flask_login import current_user", True),
    ("import flask\nflask.request.headers", True),
    ("import flask as f\nf.g.user", True),
    ("from app.request_context import request_id", True),
    ("from app.web.labels import KINDS", True),
    ("from app import api", True),
    ("from ...web import labels", True),
    ("def f():\n    from flask import g", True),
    ("from flask import current_app", False),
    ("import flask\nflask.current_app.config", False),
    ("from flask_babel import gettext", False),
    ("from app.services.context import Actor", False),
    ("from app.models import Member", False),
])
def test_the_service_rule_finds_request_objects_and_the_web_side(source, refused):
    assert bool(web_imports_of_a_service("app.services.ledger.entries", source)) is refused


@pytest.mark.parametrize("source, refused", [
    ("from app.services import clock", True),
    ("from app.web import labels", True),
    ("from ..services.clock import now", True),
    ("from app.extensions import db", False),
    ("from app.models.base import UTCDateTime", False),
])
def test_the_model_rule_finds_upward_imports(source, refused):
    assert bool(upward_imports_of_a_model("app.models.ledger", source)) is refused
