"""Tags through the API: autocomplete, create, delete."""

from httpx import AsyncClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.conftest import make_team


async def test_tags_autocomplete_create_and_delete(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, _ids = await make_team(client, session)
    url = f"/api/v1/projects/{project_id}/tags"
    created = {}
    for name in ["Bug", "build", "docs"]:
        response = await client.post(url, json={"name": name}, headers=headers["member"])
        assert response.status_code == 201
        created[name] = response.json()["id"]
    duplicate = await client.post(url, json={"name": "Bug"}, headers=headers["owner"])
    assert duplicate.status_code == 409
    blank = await client.post(url, json={"name": "  "}, headers=headers["owner"])
    assert blank.status_code == 422
    page = (await client.get(url, params={"prefix": "B"}, headers=headers["member"])).json()
    assert [t["name"] for t in page["items"]] == ["Bug", "build"]
    first = (await client.get(url, params={"limit": 1}, headers=headers["member"])).json()
    second = (
        await client.get(
            url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=headers["member"]
        )
    ).json()
    assert [first["items"][0]["name"], second["items"][0]["name"]] == ["Bug", "build"]
    assert (await client.get(url, headers=headers["stranger"])).status_code == 404
    assert (
        await client.post(url, json={"name": "x"}, headers=headers["stranger"])
    ).status_code == 404

    tag_url = f"{url}/{created['docs']}"
    assert (await client.delete(tag_url, headers=headers["member"])).status_code == 403
    assert (await client.delete(tag_url, headers=headers["admin"])).status_code == 204
    assert (await client.delete(tag_url, headers=headers["admin"])).status_code == 404


async def test_a_tag_of_another_project_cannot_be_deleted_through_this_one(
    client: AsyncClient, session: AsyncSession
) -> None:
    first_id, headers, _ids = await make_team(client, session)
    other = await client.post("/api/v1/projects", json={"name": "Other"}, headers=headers["owner"])
    other_tag = await client.post(
        f"/api/v1/projects/{other.json()['id']}/tags", json={"name": "x"}, headers=headers["owner"]
    )
    response = await client.delete(
        f"/api/v1/projects/{first_id}/tags/{other_tag.json()['id']}", headers=headers["owner"]
    )
    assert response.status_code == 404
