import sys
from pathlib import Path

from service_testing.xdist_scopes import modules_together

# tools/ is a folder of scripts, not a package: make its modules importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Two workers (the session's -n 2): both of these run tools/devstack.py from this checkout,
# which creates the services' venvs under .venvs/ on a first run: one worker, one after
# the other. The fresh clone has its own checkout and runs beside them.
pytest_xdist_make_scheduler = modules_together(
    {"test_devstack": "this-checkout", "test_broker_containers": "this-checkout"}
)
