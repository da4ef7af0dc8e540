"""``GET /v1/{project_id}/vpcs`` and its v1 error envelope."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.django_db


def vpcs_url(project_id: str) -> str:
    return f"/v1/{project_id}/vpcs"


def test_lists_the_projects_vpcs(api, alpha):
    response = api(alpha).get(vpcs_url(alpha.project_id))

    assert response.status_code == 200
    vpcs = response.json()["vpcs"]
    assert [v["id"] for v in vpcs] == sorted(alpha.vpc_ids)
    web = next(v for v in vpcs if v["name"] == "alpha-web")
    assert web == {
        "id": str(alpha.vpcs[0].vpc_id),
        "name": "alpha-web",
        "cidr": "10.0.0.0/16",
        "status": "OK",
        "description": "",
        "routes": [],
        "tenant_id": alpha.project_id,
        "enterprise_project_id": "0",
        "created_at": alpha.vpcs[0].created_at.strftime("%Y-%m-%dT%H:%M:%S"),
        "updated_at": alpha.vpcs[0].updated_at.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    assert set(response.json()) == {"vpcs"}


def test_filters_and_paging(api, alpha):
    client = api(alpha)
    first, second = sorted(alpha.vpc_ids)

    assert [v["id"] for v in client.get(vpcs_url(alpha.project_id), query={"id": second}).json()["vpcs"]] == [
        second
    ]
    page = client.get(vpcs_url(alpha.project_id), query={"limit": 1}).json()
    assert [v["id"] for v in page["vpcs"]] == [first]
    after = client.get(vpcs_url(alpha.project_id), query={"limit": 1, "marker": first}).json()
    assert [v["id"] for v in after["vpcs"]] == [second]
    for enterprise, count in (("0", 2), ("all_granted_eps", 2), ("other", 0)):
        listed = client.get(vpcs_url(alpha.project_id), query={"enterprise_project_id": enterprise})
        assert len(listed.json()["vpcs"]) == count


def test_url_project_must_be_the_signed_project(api, alpha, alpha_dev):
    response = api(alpha).get(vpcs_url(alpha_dev.project_id))

    assert response.status_code == 400
    assert response.json() == {
        "code": "VPC.0007",
        "message": f"The project {alpha_dev.project_id} in the URL does not match "
        "the X-Project-Id of the request.",
    }


@pytest.mark.parametrize("query", [{"limit": "many"}, {"marker": str(uuid.uuid4())}])
def test_v1_errors_use_code_and_message(api, alpha, query):
    response = api(alpha).get(vpcs_url(alpha.project_id), query=query)

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == "VPC.0101"


def test_other_accounts_project_is_refused_by_the_gateway(api, alpha, beta):
    response = api(alpha).get(vpcs_url(beta.project_id), project_id=beta.project_id)

    assert response.status_code == 403
    assert response.json()["error_code"] == "APIGW.0302"
