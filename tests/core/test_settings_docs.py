"""The settings are declared once (app.core.settings): the docs and .env.example are written from the declaration."""

import pytest

from app.core.settings import PROCESS_SETTINGS, SETTINGS, read, text_of
from app.core.settings_docs import DOCS, ENV_EXAMPLE, ROOT, documented, env_example

REWRITE = "run `python -m app.core.settings_docs` to write it from app/core/settings.py"


def test_the_configuration_docs_hold_the_tables_the_declaration_writes():
    current = DOCS.read_text()
    assert current == documented(current), f"{DOCS.relative_to(ROOT)} differs from the declaration: {REWRITE}"


def test_env_example_is_the_one_the_declaration_writes():
    assert ENV_EXAMPLE.read_text() == env_example(), f".env.example differs from the declaration: {REWRITE}"


@pytest.mark.parametrize("setting", [s for s in SETTINGS.values() if s.default is not None], ids=lambda s: s.name)
def test_a_default_as_written_in_the_docs_reads_back_as_itself(setting):
    """So uncommenting a line of .env.example changes nothing."""
    assert read({setting.name: text_of(setting.default)})[setting.key or setting.name] == setting.default


@pytest.mark.parametrize("setting", PROCESS_SETTINGS, ids=lambda s: s.name)
def test_a_process_setting_is_read_where_the_docs_say(setting):
    assert setting.name in (ROOT / setting.read_by).read_text()
