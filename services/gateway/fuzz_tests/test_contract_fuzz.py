"""schemathesis against the live gateway and services: every operation of /openapi.json
(but the live stream, which never ends, and the document itself: the gateway's own
tests cover both), a fixed budget of generated cases per operation, all through the real
edge. Checks: no 5xx,
every status, content type, header and body as documented, and schema-invalid input
refused with a 4xx."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import requests

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
STREAM = "/messages/stream"
# The stream never ends; schemathesis leaves out the document it was given itself.
NOT_FUZZED = {f"GET {STREAM}", "GET /openapi.json"}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
# A budget of cases, not of seconds: each operation gets up to MAX_EXAMPLES generated
# cases (fewer where fewer distinct inputs exist), however loaded the machine is, and the
# run must reach MIN_CASES in all.
MAX_EXAMPLES = 20
MIN_CASES = 200
# Only a guard against a run that is stuck: nothing is asserted about time.
HARD_LIMIT_SECONDS = 900


def generated_cases(output: str) -> int:
    found = re.search(r"Test cases:\s+(\d+) generated", output)
    assert found, "no test case count in schemathesis' summary"
    return int(found.group(1))


def operations_in_report(junit_report: Path) -> set[str]:
    """``METHOD /path`` of every operation the JUnit report has a test case for (the
    report also has one for the stateful phase as a whole)."""
    names = {case.get("name", "") for case in ET.parse(junit_report).iter("testcase")}
    return {name for name in names if name.split(" ")[0] in HTTP_METHODS}


def test_every_operation_answers_as_documented_under_generated_input(stack, tmp_path):
    paths = requests.get(f"{stack.url}/openapi.json", timeout=10).json()["paths"]
    documented = {f"{verb.upper()} {path}" for path, verbs in paths.items() for verb in verbs}
    junit_report = tmp_path / "junit.xml"
    command = [
        shutil.which("schemathesis") or "schemathesis",
        "run",
        f"{stack.url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--exclude-path",
        STREAM,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--request-timeout",
        "15",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit_report),
    ]

    completed = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=HARD_LIMIT_SECONDS,
        check=False,
    )

    print(completed.stdout, completed.stderr)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    assert operations_in_report(junit_report) == documented - NOT_FUZZED
    assert generated_cases(completed.stdout) >= MIN_CASES
