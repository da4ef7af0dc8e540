"""The simulator refuses a peering name holding a control character, on create and on update."""

from __future__ import annotations

import pytest

from tests.vpcsim.support import PEERINGS, neutron_error, peering_body
from vpcsim.models import Peering

pytestmark = pytest.mark.django_db

CONTROLLED = ["a\r\nb", "a\nb", "a\tb", "a\x1bb", "a\x9bb", "a\u2029b"]


@pytest.mark.parametrize("name", CONTROLLED)
def test_create_with_a_control_character_in_the_name_is_400(api, alpha, beta, name):
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, name=name)
    response = api(alpha).post(PEERINGS, body)
    assert response.status_code == 400
    error = neutron_error(response)
    assert error["type"] == "InvalidInput"
    assert error["message"].startswith("Invalid input for name. Reason:")
    assert "control characters" in error["message"]
    assert not Peering.objects.exists()


@pytest.mark.parametrize("name", CONTROLLED)
def test_update_with_a_control_character_in_the_name_is_400(api, alpha, beta, make_peering, name):
    peering = make_peering(alpha, beta)
    response = api(alpha).put(f"{PEERINGS}/{peering['id']}", {"peering": {"name": name}})
    assert response.status_code == 400
    assert neutron_error(response)["type"] == "InvalidInput"
    assert Peering.objects.get().name == "link"


def test_a_description_keeps_the_clouds_rule(api, alpha, beta):
    """The cloud's rule for descriptions is only "no < or >": a line break stays allowed there."""
    body = peering_body(alpha.vpc_ids[0], beta.vpc_ids[0], beta.project_id, description="one\ntwo")
    assert api(alpha).post(PEERINGS, body).status_code == 201
