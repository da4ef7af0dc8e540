"""The simulator's own store (``VPCSIM_DATABASE_URL``): its tables there and nowhere else.

A fresh interpreter (the alias and the router are chosen when the settings load) with the
portal on one SQLite file and the simulator on another: both migrated, a cross-account
peering created, accepted and deleted with the official SDK against the simulator served
apart (``SimulatorWSGIHandler`` on a loopback port); the rows are in the simulator's file,
and the portal's file has none of its tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sqlite3, sys, threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django
django.setup()
from django.conf import settings
from django.core.management import call_command

assert settings.DATABASES["vpcsim"]["NAME"].endswith("sim.sqlite3"), settings.DATABASES
call_command("migrate", verbosity=0)
call_command("migrate", database="vpcsim", verbosity=0)

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkvpc.v2 import (
    AcceptVpcPeeringRequest, CreateVpcPeeringOption, CreateVpcPeeringRequest,
    CreateVpcPeeringRequestBody, DeleteVpcPeeringRequest, VpcClient, VpcInfo,
)
from portal.simulator import SimulatorWSGIHandler
from vpcsim import provision
from vpcsim.models import Peering

parties = []
for n, cidr in (("a", "10.1.0.0/16"), ("b", "10.2.0.0/16")):
    account = provision.create_account(name=n)
    project = provision.create_project(account=account, name=n)
    vpc = provision.create_vpc(project=project, name=n, cidr=cidr)
    key = account.access_keys.get()
    parties.append((key.access_key, key.secret_key, project.project_id, str(vpc.vpc_id)))

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", 0, SimulatorWSGIHandler(), handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"http://127.0.0.1:{server.server_port}"

def client(ak, sk, project):
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    return (VpcClient.new_builder().with_http_config(config)
            .with_credentials(BasicCredentials(ak, sk, project)).with_endpoints([endpoint]).build())

(ak_a, sk_a, p_a, vpc_a), (ak_b, sk_b, p_b, vpc_b) = parties
a, b = client(ak_a, sk_a, p_a), client(ak_b, sk_b, p_b)
option = CreateVpcPeeringOption(
    name="apart", request_vpc_info=VpcInfo(vpc_id=vpc_a), accept_vpc_info=VpcInfo(vpc_id=vpc_b, tenant_id=p_b)
)
made = a.create_vpc_peering(CreateVpcPeeringRequest(body=CreateVpcPeeringRequestBody(peering=option))).peering
accepted = b.accept_vpc_peering(AcceptVpcPeeringRequest(peering_id=made.id))
stored = sqlite3.connect(sys.argv[2]).execute(
    "select count(*) from vpcsim_peering where status = 'ACTIVE'").fetchone()[0] == 1
a.delete_vpc_peering(DeleteVpcPeeringRequest(peering_id=made.id))
server.shutdown()

portal_tables = {r[0] for r in sqlite3.connect(sys.argv[1]).execute("select name from sqlite_master")}
sim_tables = {r[0] for r in sqlite3.connect(sys.argv[2]).execute("select name from sqlite_master")}
print(made.status, accepted.status, stored, Peering.objects.filter(peering_id=made.id).exists(),
      any(t.startswith("vpcsim_") for t in portal_tables), "vpcsim_peering" in sim_tables,
      any(t.startswith("peerings_") for t in sim_tables))
"""


def test_the_simulator_keeps_its_state_in_its_own_database(tmp_path):
    portal_db, sim_db = tmp_path / "portal.sqlite3", tmp_path / "sim.sqlite3"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DJANGO_SECRET_KEY": "x" * 60,
        "PORTAL_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PORTAL_BASE_URL": "http://127.0.0.1:8000",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "VPC_SIMULATOR_ENABLED": "true",
        "DATABASE_URL": f"sqlite:///{portal_db}",
        "VPCSIM_DATABASE_URL": f"sqlite:///{sim_db}",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(portal_db), str(sim_db)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # created pending, accepted (its row in the simulator's file), deleted; no table in the wrong file
    assert result.stdout.split()[-7:] == [
        "PENDING_ACCEPTANCE",
        "ACTIVE",
        "True",
        "False",
        "False",
        "True",
        "False",
    ]
