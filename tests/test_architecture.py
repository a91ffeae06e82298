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
    domains = {path.parent.name for path in (ROOT / "app").glob("*/__init__.py")} - {"core", "integrations", "internals"}
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


# --- each operation declares its authentication and its errors once: Blueprint.operation ----------------

ROUTE_MODULES = sorted((ROOT / "app").glob("*/routes.py"))
# What only an operation declaring its auth may use, or declare by hand beside it.
UNDECLARED_AUTH = {"token_required", "verify_token", "ErrorSchema"}
TOKEN_READERS = {"current_user", "current_user_id", "current_claims"}


def operation_auth(function: ast.FunctionDef) -> ast.expr | None:
    """The ``auth=`` of ``function``'s ``@<blueprint>.operation(...)``, or None."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) \
                and decorator.func.attr == "operation":
            return next((keyword.value for keyword in decorator.keywords if keyword.arg == "auth"), None)
    return None


def test_routes_declare_auth_and_errors_only_through_the_operation_decorator():
    found = []
    for path in ROUTE_MODULES:
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Name, ast.alias)) and getattr(node, "id", getattr(node, "name", None)) \
                    in UNDECLARED_AUTH:
                found.append(f"{where}:{node.lineno} names {getattr(node, 'id', getattr(node, 'name', ''))}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "alt_response":
                    # A second success answer is the library's to document; an error is the operation's.
                    status = node.args[0] if node.args else None
                    if not (isinstance(status, ast.Constant) and isinstance(status.value, int) and status.value < 400):
                        found.append(f"{where}:{node.lineno} documents an error with alt_response")
                elif node.func.attr == "doc" and any(keyword.arg == "security" for keyword in node.keywords):
                    found.append(f"{where}:{node.lineno} documents security with doc(security=...)")
    assert found == [], "\n".join(found)


def test_every_operation_that_reads_the_token_declares_its_auth():
    declared, missing = 0, []
    for path in ROUTE_MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            auth = operation_auth(node)
            if auth is not None and not (isinstance(auth, ast.Constant) and auth.value is None):
                declared += 1
            elif any(isinstance(name, ast.Name) and name.id in TOKEN_READERS for name in ast.walk(node)):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert missing == []
    assert declared >= 20, "the check no longer finds the operations"


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


# --- private names of libraries: only in app/internals ------------------------------------------

FENCED = ROOT / "app" / "internals"
# Underscored names that their library documents as public.
PUBLIC_UNDERSCORED = {
    "_mapping": "SQLAlchemy's Row._mapping (the underscore keeps it apart from column names)",
}
# Flask's request globals are set by design (``g.user = ...``), not patched.
ASSIGNABLE = {"g"}
SCANNED = sorted(path for path in [*ROOT.glob("*.py"), *[p for folder in (*PACKAGES, "tests")
                                                         for p in (ROOT / folder).rglob("*.py")]]
                 if not path.is_relative_to(FENCED) and not path.is_relative_to(ROOT / "tests" / "internals"))


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def own_private_names(trees) -> set[str]:
    """Underscored names the project defines itself: functions, classes, variables and its own attributes."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                names.add(node.attr)
    return {name for name in names if private(name)}


def library_names(tree) -> set[str]:
    """The names a module binds to other packages' modules and objects by importing them."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.partition(".")[0] for alias in node.names
                      if alias.name.partition(".")[0] not in PROJECT_ROOTS}
        elif isinstance(node, ast.ImportFrom) and not node.level \
                and (node.module or "").partition(".")[0] not in PROJECT_ROOTS:
            names |= {alias.asname or alias.name for alias in node.names}
    return names


PROJECT_ROOTS = {*PACKAGES, "tests", *(path.stem for path in ROOT.glob("*.py"))}


def private_library_uses(path: Path, own: set[str]) -> list[str]:
    """Where ``path`` imports a library's private module or name, reads one of its underscored
    attributes, or patches an attribute of something it imported."""
    tree = ast.parse(path.read_text(), str(path))
    imported = library_names(tree)
    where = str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{where}:{node.lineno} imports {alias.name}" for alias in node.names
                      if any(private(part) for part in alias.name.split("."))]
        elif isinstance(node, ast.ImportFrom) and not node.level \
                and (node.module or "").partition(".")[0] not in PROJECT_ROOTS:
            if any(private(part) for part in node.module.split(".")):
                found.append(f"{where}:{node.lineno} imports from {node.module}")
            found += [f"{where}:{node.lineno} imports {node.module}.{alias.name}" for alias in node.names
                      if private(alias.name)]
        elif isinstance(node, ast.Attribute):
            if private(node.attr) and node.attr not in own and node.attr not in PUBLIC_UNDERSCORED:
                found.append(f"{where}:{node.lineno} reads {ast.unparse(node)}")
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(node.ctx, ast.Store) and isinstance(base, ast.Name) and base.id in imported - ASSIGNABLE:
                found.append(f"{where}:{node.lineno} patches {ast.unparse(node)}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr")
              and node.args and isinstance(node.args[0], (ast.Name, ast.Attribute))
              and ast.unparse(node.args[0]).partition(".")[0] in imported):
            found.append(f"{where}:{node.lineno} patches {ast.unparse(node.args[0])} with {node.func.id}")
    return found


def test_no_private_library_name_outside_app_internals():
    overrides = library_overrides()
    # The project's own underscored names are its own, unless a class of it overrides a library's.
    own = own_private_names(ast.parse(path.read_text()) for path in SCANNED) - {attr for attr, _ in overrides}
    found = [use for path in SCANNED for use in private_library_uses(path, own)]
    found += [f"{where} overrides the library's {attr}" for attr, where in overrides]
    assert found == [], "private library names outside app/internals:\n" + "\n".join(found)


def library_overrides() -> list[tuple[str, str]]:
    """``(name, class)`` for each underscored method or attribute a project class defines over a library
    class's own: overriding a private method relies on it as much as calling it."""
    import importlib
    import inspect

    found = []
    for name in MODULES:
        if name in ("tasks.worker", "bench.__main__") or in_package(name, "app.internals"):
            continue  # the worker's entry builds the app at import; the fence may override
        written = {node.name: {item.name if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) else target.id
                               for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Assign))
                               for target in (item.targets if isinstance(item, ast.Assign) else [item])
                               if not isinstance(item, ast.Assign) or isinstance(target, ast.Name)}
                   for node in ast.parse(MODULES[name].read_text()).body if isinstance(node, ast.ClassDef)}
        if not any(private(attr) for attrs in written.values() for attr in attrs):
            continue
        module = importlib.import_module(name)
        for class_name, attrs in written.items():
            cls = getattr(module, class_name, None)
            if not inspect.isclass(cls):
                continue
            library_bases = [base for base in cls.__mro__[1:] if base is not object
                             and base.__module__.partition(".")[0] not in PROJECT_ROOTS]
            found += [(attr, f"{name}.{class_name}") for attr in sorted(attrs)
                      if private(attr) and any(attr in vars(base) for base in library_bases)]
    return found


def test_the_private_name_check_finds_each_kind_of_use(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from marshmallow.utils import _Missing\nfrom kombu.transport import redis\n"
                      "import flask._compat\n\n"
                      "redis.Channel._connparams = None\nsetattr(redis.Channel, 'x', 1)\n"
                      "def f(schema, g):\n    g.user = 1\n    return schema._hooks, schema._mine\n\n"
                      "def _mine():\n    pass\n")
    uses = private_library_uses(sample, {"_mine"})
    assert sorted(use.split(" ", 1)[1] for use in uses) == sorted([
        "imports marshmallow.utils._Missing", "imports flask._compat", "reads redis.Channel._connparams",
        "patches redis.Channel._connparams", "patches redis.Channel with setattr", "reads schema._hooks"])


def test_the_fences_know_only_their_libraries():
    """``app/internals`` is imported by the plumbing that needs it and imports nothing of the project."""
    assert {name: sorted(GRAPH[name]) for name in GRAPH if in_package(name, "app.internals") and GRAPH[name]} == {}
