"""The Prometheus alerting rules: valid, unit-tested with promtool, and about
metrics the app really exports."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "ops" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed "
                                    "(Debian package prometheus)")


@needs_promtool
def test_promtool_accepts_the_rules():
    result = subprocess.run([PROMTOOL, "check", "rules", "alerts.yml"], cwd=RULES,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


@needs_promtool
def test_the_alerts_fire_when_they_should_and_not_otherwise():
    result = subprocess.run([PROMTOOL, "test", "rules", "alerts_test.yml"], cwd=RULES,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_use_metrics_the_app_exports(exported_metric_names):
    text = (RULES / "alerts.yml").read_text()
    prefixes = "api|jifen|points|task|webhook"
    used = set(re.findall(rf"\b(?:{prefixes})_[a-z_]+\b", text))
    used = {re.sub(r"_(bucket|count|sum)$", "", name) for name in used}
    exported = exported_metric_names
    assert used and used <= exported, used - exported


@pytest.fixture
def exported_metric_names(app, make_app):
    """Metric names in a scrape, after one request so the labelled series exist,
    with a (down) Redis configured so the redis gauge is there too."""
    from tests.ops.conftest import free_port

    application = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = application.test_client()
    client.get("/core/health/live/")
    body = client.get("/metrics").get_data(as_text=True)
    names = set()
    for line in body.splitlines():
        if line and not line.startswith("#"):
            names.add(re.sub(r"_(bucket|count|sum|total|created)$", "",
                             line.split("{")[0].split(" ")[0]))
    names |= {n + "_total" for n in names}
    return names
