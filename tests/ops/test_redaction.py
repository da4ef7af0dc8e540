"""One list of secret names: a value under any of them is masked in the cloud's records and in log lines."""

from __future__ import annotations

import logging

import pytest

from ops.logging import extras
from ops.redaction import MASK, SECRET_NAMES, SECRET_PARTS
from peerings.cloud import scrub

NAMES = sorted(SECRET_NAMES | {f"x_{part}_y" for part in SECRET_PARTS} | {"Secret-Key", "X-Auth-Token"})


@pytest.mark.parametrize("name", NAMES)
def test_a_secret_name_is_masked_in_a_recorded_body(name):
    assert scrub({"outer": [{name: "s3cr3t", "name": "shown"}]}) == {"outer": [{name: MASK, "name": "shown"}]}


@pytest.mark.parametrize("name", NAMES)
def test_a_secret_name_is_masked_in_a_log_line(name):
    record = logging.LogRecord("x", logging.INFO, "", 0, "message", None, None)
    setattr(record, name, "s3cr3t")
    record.destination = "10.0.0.0/8"
    assert extras(record)[name] == MASK
    assert extras(record)["destination"] == "10.0.0.0/8"
