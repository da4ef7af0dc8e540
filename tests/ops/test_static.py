"""Production static files: collectstatic writes hashed, compressed names that WhiteNoise serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from whitenoise.storage import CompressedManifestStaticFilesStorage

from tests.test_settings import BASE_ENV, ROOT


def test_collectstatic_writes_hashed_and_compressed_files(tmp_path):
    env = {**BASE_ENV, "DJANGO_STATIC_ROOT": str(tmp_path), "HOME": os.environ.get("HOME", str(tmp_path))}
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/portal.css"]
    assert hashed != "css/portal.css"
    assert (tmp_path / hashed).exists()
    assert (tmp_path / f"{hashed}.gz").exists()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest
    storage = CompressedManifestStaticFilesStorage(location=str(tmp_path), base_url="/static/")
    assert storage.url("css/portal.css") == f"/static/{hashed}"
    assert Path(tmp_path / "admin").is_dir()
