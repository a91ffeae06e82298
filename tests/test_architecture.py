"""The house rules of ARCHITECTURE.md, read from the code's own imports: a broken rule fails here, not in review."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "tasks", "bot", "bench")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


MODULES = project_modules()


def imports_of(name: str) -> set[str]:
    """The project modules ``name`` imports, anywhere in it (inside functions too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def third_party_imports_of(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add((node.module or "").partition(".")[0])
    return names


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_graph_reads_the_project():
    assert "app.phone.services" in GRAPH["tasks.phone"]
    assert "app.core.jobs" in GRAPH["app.phone.services"]


def test_no_module_imports_itself_back_through_others():
    state: dict[str, str] = {}
    cycles = []

    def visit(name, trail):
        state[name] = "open"
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def test_the_bot_speaks_http_only():
    reaching = {name: sorted(t for t in GRAPH[name] if not in_package(t, "bot"))
                for name in GRAPH if in_package(name, "bot")}
    assert {name: targets for name, targets in reaching.items() if targets} == {}


def test_tasks_never_import_routes():
    offenders = {name: sorted(t for t in GRAPH[name] if t.endswith(".routes"))
                 for name in GRAPH if in_package(name, "tasks")}
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_services_never_import_routes():
    offenders = {name: sorted(t for t in GRAPH[name] if t.endswith(".routes"))
                 for name in GRAPH if name.endswith(".services")}
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_provider_clients_know_neither_the_app_nor_the_domain():
    offenders = {name: sorted(t for t in GRAPH[name] if not in_package(t, "app.integrations"))
                 for name in GRAPH if in_package(name, "app.integrations")}
    assert {name: targets for name, targets in offenders.items() if targets} == {}
    assert all("flask" not in third_party_imports_of(name) for name in GRAPH if in_package(name, "app.integrations"))


def test_shared_plumbing_imports_no_domain():
    domains = {path.parent.name for path in (ROOT / "app").glob("*/__init__.py")} - {"core", "integrations"}
    offenders = {name: sorted(t for t in GRAPH[name] if any(in_package(t, f"app.{domain}") for domain in domains))
                 for name in GRAPH if in_package(name, "app.core")}
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_the_app_queues_work_through_enqueue_only():
    """Services name a function to run; only the factory and the worker entry know the ``tasks`` package."""
    offenders = {name: sorted(t for t in GRAPH[name] if in_package(t, "tasks"))
                 for name in GRAPH if in_package(name, "app") and name != "app"}
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_rules_are_pure():
    """A rules module takes its inputs as arguments: no Flask, no database, no Redis, no network, no services."""
    impure = {"flask", "sqlalchemy", "redis", "requests", "flask_sqlalchemy"}
    offenders = {}
    for name in GRAPH:
        if name.endswith(".rules"):
            bad = sorted((third_party_imports_of(name) & impure)
                         | {t for t in GRAPH[name] if t.endswith((".services", ".models", ".routes", "app.extensions"))})
            if bad:
                offenders[name] = bad
    assert offenders == {}


API_DOMAINS = sorted(path.parent.name for path in (ROOT / "app").glob("*/routes.py")
                     if "app.core.api" in GRAPH[f"app.{path.parent.name}.routes"])


def test_api_domains_are_found():
    assert {"auth", "phone", "users", "posts", "chat", "ops"} <= set(API_DOMAINS)


@pytest.mark.parametrize("domain", API_DOMAINS)
def test_every_api_domain_has_the_same_shape(domain):
    files = {path.name for path in (ROOT / "app" / domain).glob("*.py")}
    expected = {"__init__.py", "models.py", "routes.py", "schemas.py", "services.py"}
    assert expected <= files, sorted(expected - files)


@pytest.mark.parametrize("domain", API_DOMAINS)
def test_routes_hold_no_schemas(domain):
    tree = ast.parse((ROOT / "app" / domain / "routes.py").read_text())
    schema_classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef) and node.name.endswith("Schema")]
    assert schema_classes == []


def test_the_top_level_holds_what_spec_1_requires():
    required = ["wsgi.py", "app", "migrations", "tasks", "bot", "tests", "setup.cfg", "celeryconfig.py", "bot.json",
                "README.md"]
    assert [name for name in required if not (ROOT / name).exists()] == []


def test_the_app_root_is_short():
    loose = sorted(path.name for path in (ROOT / "app").glob("*.py"))
    assert loose == ["__init__.py", "config.py", "extensions.py"]


def test_each_redis_key_family_belongs_to_one_models_module():
    """A domain's Redis keys are its own: only its models.py names them (``redis_store.key("<family>", ...)``)."""
    owners: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "key"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "redis_store"):
                first = node.args[0] if node.args else None
                family = first.value if isinstance(first, ast.Constant) else "<computed>"
                owners.setdefault(family, set()).add(name)
    assert owners, "no Redis keys found: the test no longer reads the code"
    assert {family: sorted(names) for family, names in owners.items()
            if len(names) != 1 or not next(iter(names)).endswith(".models")} == {}
