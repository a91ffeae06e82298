"""requirements.lock against what the project declares: a requirement the lock cannot satisfy fails here, not in a
fresh ``make``. Reads files only (and the installed metadata of the extras' packages): no index is asked."""

import ast
import configparser
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
# The project's own top-level modules and packages: imported by the code, installed by no requirement.
PROJECT_MODULES = {"app", "tasks", "bot", "bench", "tests", "migrations", "celeryconfig", "wsgi"}


def declared_requirements() -> list[tuple[str, Requirement]]:
    """Each requirement the project declares, with where: setup.cfg's runtime and dev lists, the build's."""
    setup = configparser.ConfigParser(interpolation=None)
    setup.read(ROOT / "setup.cfg")
    sources = {
        "install_requires": setup["options"]["install_requires"],
        "extras_require dev": setup["options.extras_require"]["dev"],
    }
    found = [(source, Requirement(line)) for source, text in sources.items()
             for line in map(str.strip, text.splitlines()) if line]
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    return found + [("build-system requires", Requirement(line)) for line in build]


def lock_entries() -> list[tuple[str, list[str]]]:
    """The lock's entries: each requirement line with its continuation lines joined, comments dropped, split into
    the requirement and its options (``--hash=...``)."""
    joined = re.sub(r"\\\n", " ", LOCK.read_text())
    entries = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            requirement, *options = line.split(" --")
            entries.append((requirement.strip(), ["--" + option.strip() for option in options]))
    return entries


def locked_versions() -> dict[str, str]:
    """Each locked distribution's version, by canonical name (empty when the entry is not one ``==``)."""
    pins = {}
    for text, _ in lock_entries():
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        pins[canonicalize_name(requirement.name)] = specifiers[0].version if len(specifiers) == 1 else ""
    return pins


DECLARED = declared_requirements()
LOCKED = locked_versions()


def applies(requirement: Requirement, extra: str = "") -> bool:
    """Whether ``requirement`` is needed on this Python and platform, with ``extra`` requested."""
    return requirement.marker is None or requirement.marker.evaluate({"extra": extra})


def unsatisfied(requirement: Requirement) -> str | None:
    """Why the lock does not satisfy ``requirement``, or None when it does."""
    version = LOCKED.get(canonicalize_name(requirement.name))
    if version is None:
        return f"{requirement.name} is not in {LOCK.name}"
    if not requirement.specifier.contains(version, prereleases=True):
        return f"{LOCK.name} pins {requirement.name}=={version}, outside {requirement.specifier}"
    return None


def test_the_lock_is_read():
    assert len(DECLARED) > 30 and "flask" in LOCKED and "celery" in LOCKED, "the test no longer reads the files"


@pytest.mark.parametrize("source, requirement", DECLARED, ids=str)
def test_the_lock_pins_each_declared_requirement_at_a_version_it_admits(source, requirement):
    if not applies(requirement, "dev" if source.endswith("dev") else ""):
        pytest.skip(f"{requirement} does not apply here")
    problem = unsatisfied(requirement)
    assert problem is None, f"{source}: {problem}: run make lock"


@pytest.mark.parametrize("requirement", [requirement for _, requirement in DECLARED if requirement.extras], ids=str)
def test_the_lock_pins_what_each_requested_extra_needs(requirement):
    """``celery[redis]`` needs what celery's ``redis`` extra lists, read from the metadata of the installed celery."""
    try:
        installed = distribution(requirement.name)
    except PackageNotFoundError:
        pytest.fail(f"{requirement.name} is not installed: run make install")
    assert installed.version == LOCKED[canonicalize_name(requirement.name)], (
        f"{requirement.name} {installed.version} is installed, not the lock's: run make install")
    needed = [Requirement(text) for text in installed.requires or []]
    missing = [f"{needed_requirement} ([{extra}]): {unsatisfied(needed_requirement)}"
               for extra in sorted(requirement.extras) for needed_requirement in needed
               if applies(needed_requirement, extra) and unsatisfied(needed_requirement)]
    assert missing == []


def test_every_lock_entry_is_one_exact_version_with_hashes():
    loose = []
    for text, options in lock_entries():
        requirement = Requirement(text)
        specifiers = list(requirement.specifier)
        exact = len(specifiers) == 1 and specifiers[0].operator == "==" and "*" not in specifiers[0].version
        if not exact or requirement.url or not any(option.startswith("--hash=sha256:") for option in options):
            loose.append(text)
    assert loose == [], "pip install --require-hashes needs every entry pinned with == and hashed"


def test_the_lock_pins_the_installers_own_packages():
    """make installs with the locked pip and builds the project with the locked setuptools and wheel."""
    assert {"pip", "setuptools", "wheel"} - LOCKED.keys() == set(), "pip-compile needs --allow-unsafe"


def third_party_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add((node.module or "").partition(".")[0])
    return names - PROJECT_MODULES - set(sys.stdlib_module_names)


def test_every_library_the_code_imports_is_declared():
    """An undeclared import works only while another library happens to bring it along."""
    declared = {canonicalize_name(requirement.name) for _, requirement in DECLARED}
    providers = packages_distributions()
    paths = [path for folder in ("app", "tasks", "bot", "bench", "tests", "migrations")
             for path in (ROOT / folder).rglob("*.py")] + sorted(ROOT.glob("*.py"))
    undeclared = {}
    for path in paths:
        for module in third_party_imports(path):
            names = {canonicalize_name(name) for name in providers.get(module, [module])}
            if not names & declared:
                undeclared.setdefault(module, path.relative_to(ROOT).as_posix())
    assert undeclared == {}, "declare these in setup.cfg (module: first file importing it)"
