"""README.md's configuration table is the one ``python -m service_testing.config_table`` writes."""

import re

import pytest

from service_runtime.settings import ALL_SETTINGS, Setting
from service_testing import config_table
from service_testing.config_table import README, ConfigTableError, shown, table, with_table


@pytest.fixture(autouse=True)
def declared_settings_restored():
    """Every module imported (every Setting declared) first, a test's own Settings removed after."""
    config_table.import_every_module()
    before = dict(ALL_SETTINGS)
    yield
    ALL_SETTINGS.clear()
    ALL_SETTINGS.update(before)


def test_the_readme_table_is_current():
    readme = README.read_text()

    assert with_table(readme, table()) == readme, (
        "README.md's configuration table is stale: run python -m service_testing.config_table"
    )


def readme_rows():
    """Variable -> (default cell, meaning cell) of the README's configuration table."""
    rows = re.findall(r"^\| `(\w+)` \| (.*?) \| .*? \| (.*) \|$", README.read_text(), re.M)
    return {name: (default, text) for name, default, text in rows}


def test_every_declared_setting_has_a_row_with_its_default_and_meaning():
    rows = readme_rows()
    variables = config_table.config_variables()

    for setting in ALL_SETTINGS.values():
        [name] = [v.name for v in variables.values() if config_table.setting_of(v) is setting]
        default, text = rows[name]
        assert shown(setting.default) in default, setting.key
        assert text.startswith(setting.doc), setting.key


def test_a_variable_nobody_describes_is_refused(monkeypatch):
    monkeypatch.delitem(config_table.OTHER_VARIABLES, "AMQP_URI")

    with pytest.raises(ConfigTableError, match=r"AMQP_URI .* has no meaning"):
        table()


def test_a_setting_no_config_yaml_maps_is_refused():
    Setting("TEST_UNMAPPED_SECONDS", float, 1.0, "read by nothing")

    with pytest.raises(ConfigTableError, match=r"no service's config\.yaml maps it: TEST_UNMAPPED"):
        table()
