"""``Setting.read``: an explicit value is kept, unset is the default, a bad value names the key."""

import pytest

from service_runtime.settings import ALL_SETTINGS, Setting, SettingError, boolean, string_list


@pytest.fixture(autouse=True)
def declared_settings_restored():
    """Settings declared by a test leave ``ALL_SETTINGS`` (the README table reads it) as found."""
    before = dict(ALL_SETTINGS)
    yield
    ALL_SETTINGS.clear()
    ALL_SETTINGS.update(before)


def timeout(**bounds):
    return Setting("TEST_TIMEOUT_SECONDS", float, 5.0, "a test timeout", **bounds)


@pytest.mark.parametrize("zero", [0, 0.0, "0"])
def test_an_explicit_zero_stays_zero(zero):
    assert timeout(minimum=0).read({"TEST_TIMEOUT_SECONDS": zero}) == 0


@pytest.mark.parametrize(
    "config", [{}, {"TEST_TIMEOUT_SECONDS": None}, {"TEST_TIMEOUT_SECONDS": ""}]
)
def test_unset_null_or_empty_is_the_default(config):
    assert timeout().read(config) == 5.0


def test_a_configured_value_is_parsed_with_the_settings_type():
    assert timeout().read({"TEST_TIMEOUT_SECONDS": "2.5"}) == 2.5


@pytest.mark.parametrize(("value", "message"), [(0.5, "at least 1"), (31, "at most 30")])
def test_a_value_out_of_bounds_is_refused_naming_the_key(value, message):
    with pytest.raises(SettingError, match=f"^TEST_TIMEOUT_SECONDS={value!r}: must be {message}$"):
        timeout(minimum=1, maximum=30).read({"TEST_TIMEOUT_SECONDS": value})


@pytest.mark.parametrize("value", [1, 30])
def test_the_bounds_themselves_are_allowed(value):
    assert timeout(minimum=1, maximum=30).read({"TEST_TIMEOUT_SECONDS": value}) == value


@pytest.mark.parametrize("value", ["soon", [1], "1e999x"])
def test_a_value_of_the_wrong_type_is_refused_naming_the_key(value):
    with pytest.raises(SettingError, match=r"^TEST_TIMEOUT_SECONDS="):
        timeout().read({"TEST_TIMEOUT_SECONDS": value})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), ("yes", True), ("ON", True), (1, True), ("0", False), ("off", False)],
)
def test_boolean_reads_the_usual_spellings(raw, expected):
    assert Setting("TEST_FLAG", boolean, False, "a flag").read({"TEST_FLAG": raw}) is expected


def test_boolean_refuses_anything_else_naming_the_key():
    with pytest.raises(SettingError, match=r"^TEST_FLAG='maybe': not a boolean"):
        Setting("TEST_FLAG", boolean, False, "a flag").read({"TEST_FLAG": "maybe"})


@pytest.mark.parametrize("raw", [["a", " b "], "a, b,", ("a", "b")])
def test_string_list_reads_a_yaml_list_or_a_comma_separated_string(raw):
    assert Setting("TEST_NAMES", string_list, (), "names").read({"TEST_NAMES": raw}) == ("a", "b")


def test_every_setting_is_recorded_once_by_key():
    setting = timeout()

    assert ALL_SETTINGS["TEST_TIMEOUT_SECONDS"] is setting
    assert timeout() == setting  # the same declaration again (a re-import) is allowed


def test_a_second_declaration_with_another_default_is_refused():
    timeout()

    with pytest.raises(SettingError, match="TEST_TIMEOUT_SECONDS is declared twice"):
        Setting("TEST_TIMEOUT_SECONDS", float, 10.0, "a test timeout")
