"""services/container_env.py, the images' entrypoint: broker credentials from secret files."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from service_testing.services import REPO_ROOT

SCRIPT = REPO_ROOT / "services" / "container_env.py"
_spec = importlib.util.spec_from_file_location("container_env", SCRIPT)
container_env = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(container_env)


@pytest.fixture
def secret_files(tmp_path):
    def write(user: str, password: str) -> dict[str, str]:
        (tmp_path / "user").write_text(user + "\n")  # `echo x | docker secret create` adds one
        (tmp_path / "password").write_text(password)
        return {
            "AMQP_USER_FILE": str(tmp_path / "user"),
            "AMQP_PASSWORD_FILE": str(tmp_path / "password"),
        }

    return write


def test_without_secret_files_the_environment_passes_through():
    env = {"AMQP_URI": "pyamqp://guest:guest@rabbitmq:5672/", "OTHER": "x"}
    assert container_env.environment(env) == env


def test_secret_files_become_the_uris_credentials_percent_encoded(secret_files):
    env = {"AMQP_URI": "pyamqp://rabbitmq:5672/vhost", **secret_files("travel", "p@ss:w/rd")}
    assert container_env.environment(env)["AMQP_URI"] == (
        "pyamqp://travel:p%40ss%3Aw%2Frd@rabbitmq:5672/vhost"
    )


def test_credentials_in_the_uri_are_replaced_by_the_secrets(secret_files):
    env = {"AMQP_URI": "pyamqp://guest:guest@rabbitmq/", **secret_files("travel", "s3cret")}
    assert container_env.environment(env)["AMQP_URI"] == "pyamqp://travel:s3cret@rabbitmq/"


def test_every_node_of_a_failover_list_gets_the_secrets(secret_files):
    nodes = "pyamqp://rabbitmq1:5672/;pyamqp://rabbitmq2:5672/"
    env = {"AMQP_URI": nodes, **secret_files("travel", "s3cret")}
    assert container_env.environment(env)["AMQP_URI"] == (
        "pyamqp://travel:s3cret@rabbitmq1:5672/;pyamqp://travel:s3cret@rabbitmq2:5672/"
    )


def test_kombu_reads_back_exactly_the_secret_values(secret_files):
    kombu = pytest.importorskip("kombu")
    env = {"AMQP_URI": "pyamqp://rabbitmq:5672/", **secret_files("tr@vel", "p@ss:w/rd %")}
    connection = kombu.Connection(container_env.environment(env)["AMQP_URI"])
    assert (connection.userid, connection.password) == ("tr@vel", "p@ss:w/rd %")


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"AMQP_URI": "pyamqp://rabbitmq/", "AMQP_USER_FILE": "/x"}, "without its pair"),
        ({"AMQP_USER_FILE": "/x", "AMQP_PASSWORD_FILE": "/y"}, "need AMQP_URI"),
        (
            {
                "AMQP_URI": "pyamqp://rabbitmq/",
                "AMQP_USER_FILE": "/no/such",
                "AMQP_PASSWORD_FILE": "/y",
            },
            "cannot read /no/such",
        ),
    ],
)
def test_misconfiguration_is_named(env, error):
    with pytest.raises(container_env.ConfigurationError, match=error):
        container_env.environment(env)


def test_an_empty_secret_is_refused(secret_files):
    env = {"AMQP_URI": "pyamqp://rabbitmq/", **secret_files("travel", "")}
    with pytest.raises(container_env.ConfigurationError, match="is empty"):
        container_env.environment(env)


def test_the_entrypoint_runs_the_command_with_the_completed_uri(secret_files):
    env = {"AMQP_URI": "pyamqp://rabbitmq:5672/", **secret_files("travel", "s3cret")}
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            sys.executable,
            "-c",
            "import os; print(os.environ['AMQP_URI'])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "pyamqp://travel:s3cret@rabbitmq:5672/"


def test_the_entrypoint_stops_with_one_clear_line_on_misconfiguration():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "true"],
        env={"AMQP_URI": "pyamqp://rabbitmq/", "AMQP_PASSWORD_FILE": "/x"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == "configuration error: AMQP_PASSWORD_FILE is set without its pair: set both or neither\n"
    )


def test_redis_url_gets_the_redis_secret_files_independently(tmp_path, secret_files):
    (tmp_path / "redis_password").write_text("r3dis/pw")
    env = {
        "AMQP_URI": "pyamqp://rabbitmq:5672/",
        **secret_files("airports", "amqp"),
        "REDIS_URL": "redis://redis-airports:6379/0",
        "REDIS_USER_FILE": str(tmp_path / "user"),
        "REDIS_PASSWORD_FILE": str(tmp_path / "redis_password"),
    }
    completed = container_env.environment(env)
    assert completed["REDIS_URL"] == "redis://airports:r3dis%2Fpw@redis-airports:6379/0"
    assert completed["AMQP_URI"] == "pyamqp://airports:amqp@rabbitmq:5672/"
