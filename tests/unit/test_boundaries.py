"""The import boundaries the house keeps: three bands, imports only downward.

entry points (pages, states, components, app/app.py, app/api.py, jobs/)
  → domains (app/<domain>/, listed in app/domains.py; app/integrations/)
    → platform (app/platform/, app/settings.py)

Every import counts, also the ones inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app import domains

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_NAMES = {d.name for d in domains.domains()} - {"platform"}
DEPENDS = {d.name: set(d.depends_on) for d in domains.domains()}
ENTRY_MODULES = (
    "jobs",
    "state",
    "components",
    "app.pages",
    "app.app",
    "app.api",
    "app.routes",
    "app.domains",
    "app.demo",
    "app.cli",
)


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (absolute names), with its line."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _files(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py") if "__pycache__" not in p.parts)


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _domain_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in DOMAIN_NAMES else None


def _violations(files: list[Path], rule) -> list[str]:
    out = []
    for path in files:
        for line, name in _imports(path):
            why = rule(path, name)
            if why:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {name}: {why}")
    return sorted(set(out))


def test_the_platform_imports_no_domain_and_no_entry_point():
    def rule(path: Path, name: str) -> str | None:
        if _domain_of(name) or _under(name, "app.integrations"):
            return "the platform is below every domain"
        if _under(name, *ENTRY_MODULES):
            return "the platform is below the entry points"
        if _under(name, "reflex"):
            return "the platform does not know Reflex"
        return None

    assert _violations(_files("app/platform"), rule) == []


def test_domains_import_no_entry_point_and_no_reflex():
    files = [p for d in sorted(DOMAIN_NAMES) for p in _files(f"app/{d}")] + _files("app/integrations")

    def rule(path: Path, name: str) -> str | None:
        if _under(name, *ENTRY_MODULES):
            return "a domain is below the entry points (enqueue jobs by dotted name through app.platform.tasks)"
        if _under(name, "reflex"):
            return "a domain does not know Reflex"
        return None

    assert _violations(files, rule) == []


def test_domain_dependencies_run_one_way():
    """A domain imports another only when its door declares it (`depends_on`),
    and only domains listed before it: no two domains import each other."""

    def rule(path: Path, name: str) -> str | None:
        own, other = _domain_of(_module(path)), _domain_of(name)
        if own and other and other != own and other not in DEPENDS[own]:
            return f"{own} does not declare that it depends on {other}"
        return None

    files = [p for d in sorted(DOMAIN_NAMES) for p in _files(f"app/{d}")]
    assert _violations(files, rule) == []
    order = [d.name for d in domains.domains()]
    assert all(order.index(dep) < order.index(d) for d, deps in DEPENDS.items() for dep in deps)


def test_integrations_know_no_domain():
    def rule(path: Path, name: str) -> str | None:
        return "an outside system's client is below the domains" if _domain_of(name) else None

    assert _violations(_files("app/integrations"), rule) == []


def test_pages_never_touch_the_database():
    def rule(path: Path, name: str) -> str | None:
        if _under(name, "sqlmodel", "sqlalchemy", "psycopg", "app.platform.db"):
            return "a page shows state; states call services"
        if name.endswith(".service") or ".service." in name:
            return "a page calls no service; its state does"
        return None

    assert _violations(_files("app/pages", "components"), rule) == []


def test_jobs_import_no_reflex_and_no_page_state():
    def rule(path: Path, name: str) -> str | None:
        if _under(name, "reflex", "state", "components", "app.pages"):
            return "jobs run in workers, which know no pages"
        return None

    assert _violations(_files("jobs"), rule) == []


@pytest.mark.parametrize("folder", ["app", "jobs", "state", "components"])
def test_nothing_shipped_imports_tests_or_standins(folder):
    def rule(path: Path, name: str) -> str | None:
        return "tests and stand-ins are not shipped" if _under(name, "tests", "standins") else None

    assert _violations(_files(folder), rule) == []


def test_every_domain_has_one_door():
    for d in domains.domains():
        if d.name == "platform":
            continue
        door = ROOT / "app" / d.name / "domain.py"
        assert door.exists(), f"{d.name} declares itself in {door}"
