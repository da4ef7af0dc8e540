"""The rules modules import nothing that reaches the database or the network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MODULES = ["decisions", "duties", "expiry", "limits", "messages", "overlap", "request"]
FORBIDDEN = ("django.db", "peerings.models", "requests", "urllib3", "rest_framework", "http.client")


def test_importing_the_rules_loads_no_database_or_http_module():
    """In a fresh interpreter without Django settings: only pure modules come in."""
    code = (
        "import json, sys\n"
        + "".join(f"import peerings.rules.{name}\n" for name in MODULES)
        + "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code],
            check=True,
            capture_output=True,
            text=True,
            env={"PATH": ""},
            cwd=Path(__file__).resolve().parents[3],
        ).stdout
    )
    assert "peerings.rules.request" in loaded
    found = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert found == []
