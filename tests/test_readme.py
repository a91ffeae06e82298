"""The README is a front door (SPEC 10): short, linking every reference page, and no link leads nowhere."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
REFERENCE = [*DOCS, ROOT / "ARCHITECTURE.md", ROOT / "bench" / "README.md"]
CHECKED = [README, *DOCS, ROOT / "ARCHITECTURE.md", ROOT / "bench" / "README.md"]

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
ERROR_CODE = re.compile(r"[a-z]+(?:_[a-z]+)*\Z")
ERROR_STATUSES = range(400, 600)


def prose(text: str) -> str:
    """The text a reader sees as prose: fenced blocks and code spans left out."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text()))


def relative_links(path: Path) -> list[str]:
    return [target for target in links(path) if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)]


def github_slug(heading: str) -> str:
    """GitHub's anchor of a heading: its rendered text lower-cased, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = text.replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    for _hashes, heading in HEADING.findall(FENCE.sub("", path.read_text())):
        slug = github_slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def test_the_readme_is_under_300_lines():
    lines = README.read_text().splitlines()
    assert len(lines) < 300, f"README.md has {len(lines)} lines: move reference material to docs/"


def test_the_readme_links_every_reference_page():
    linked = {(README.parent / target.split("#")[0]).resolve() for target in relative_links(README)}
    missing = [str(page.relative_to(ROOT)) for page in REFERENCE if page.resolve() not in linked]
    assert not missing, f"README.md does not link {missing}"


def test_every_docs_page_links_back_to_the_readme():
    lost = [page.name for page in DOCS
            if README.resolve() not in {(page.parent / t.split("#")[0]).resolve() for t in relative_links(page)}]
    assert not lost, f"docs pages without a link back to README.md: {lost}"


def test_every_relative_link_reaches_a_file_and_its_heading():
    broken = []
    for page in CHECKED:
        for target in relative_links(page):
            file_part, _, anchor = target.partition("#")
            destination = (page.parent / file_part).resolve() if file_part else page
            if not destination.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_github_slugs_as_github_makes_them():
    assert github_slug("The bot: `flask run-bot`") == "the-bot-flask-run-bot"
    assert github_slug("Set-up: two commands") == "set-up-two-commands"
    assert github_slug("The contract test: `/openapi.json` says what the server does") == (
        "the-contract-test-openapijson-says-what-the-server-does")
    assert github_slug("Chat reads (issue 28): 2026-12-07") == "chat-reads-issue-28-2026-12-07"


def class_code(node: ast.ClassDef) -> str | None:
    """The literal a class body assigns to ``code`` (alone, or in a tuple such as ``status, code = ...``)."""
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                pairs = [(target, statement.value)]
                if isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple):
                    pairs = list(zip(target.elts, statement.value.elts))
                for name, value in pairs:
                    if isinstance(name, ast.Name) and name.id == "code" and is_text(value):
                        return value.value
    return None


def is_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def is_error_status(node) -> bool:
    return (isinstance(node, ast.Constant) and type(node.value) is int and node.value in ERROR_STATUSES)


def base_name(node) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def called_name(call: ast.Call) -> str:
    return base_name(call.func)


def code_positions(functions: list[ast.FunctionDef]) -> dict[str, set[int]]:
    """Function name -> positions of its ``code`` argument: ``error_response``'s, and those of every
    function that hands a parameter of its own on to one of these (``token_error(code)``)."""
    def parameters(function):
        return [argument.arg for argument in function.args.args]

    positions = {f.name: {parameters(f).index("code")} for f in functions
                 if f.name == "error_response" and "code" in parameters(f)}
    grown = True
    while grown:
        grown = False
        for function in functions:
            names = parameters(function)
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                handed = [call.args[i] for i in positions.get(called_name(call), ()) if i < len(call.args)]
                handed += [k.value for k in call.keywords if k.arg == "code" and called_name(call) in positions]
                for argument in handed:
                    if isinstance(argument, ast.Name) and argument.id in names:
                        index = names.index(argument.id)
                        if index not in positions.setdefault(function.name, set()):
                            positions[function.name].add(index)
                            grown = True
    return positions


def error_codes_in_the_code() -> set[str]:
    """Every error code the app can answer, read from app/: the ``code`` of each DomainError subclass;
    each literal handed as the code to ``error_response`` or to a function passing it on; each
    snake_case literal beside an error status (4xx, 5xx) in one tuple, call or dict entry (a table of
    statuses), and the default of a lookup in such a table (``HTTP_CODES.get(status, "http_error")``)."""
    trees = [ast.parse(path.read_text(), str(path)) for path in sorted((ROOT / "app").rglob("*.py"))]
    nodes = [node for tree in trees for node in ast.walk(tree)]
    classes, codes, tables = {}, set(), set()

    def add(node):
        if is_text(node) and ERROR_CODE.match(node.value):
            codes.add(node.value)

    positions = code_positions([n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))])
    for node in nodes:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = ([base_name(base) for base in node.bases], class_code(node))
        if isinstance(node, ast.Call) and called_name(node) in positions:
            for index in positions[called_name(node)]:
                if index < len(node.args):
                    add(node.args[index])
            for keyword in node.keywords:
                if keyword.arg == "code":
                    add(keyword.value)
        elements = node.elts if isinstance(node, ast.Tuple) else node.args if isinstance(node, ast.Call) else []
        if any(is_error_status(element) for element in elements):
            for element in elements:
                add(element)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            entries = [value for key, value in zip(node.value.keys, node.value.values)
                       if is_error_status(key) and is_text(value)]
            for value in entries:
                add(value)
            if entries:
                tables.update(target.id for target in node.targets if isinstance(target, ast.Name))
    for node in nodes:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and base_name(node.func.value) in tables and len(node.args) == 2):
            add(node.args[1])

    def is_domain_error(name: str, seen: frozenset = frozenset()) -> bool:
        if name == "DomainError":
            return True
        bases = classes.get(name, ([], None))[0]
        return any(is_domain_error(base, seen | {name}) for base in bases if base not in seen)

    codes.update(code for name, (_bases, code) in classes.items() if code and is_domain_error(name))
    return codes


def test_the_errors_page_names_every_error_code_the_app_answers():
    codes = error_codes_in_the_code()
    assert {"validation_error", "not_found", "token_expired", "uri_too_long", "http_error"} <= codes
    documented = set(re.findall(r"`([a-z_]+)`", (ROOT / "docs" / "errors.md").read_text()))
    missing = sorted(codes - documented)
    assert not missing, f"error codes the app answers that docs/errors.md does not name: {missing}"
