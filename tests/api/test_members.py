"""Membership management through the API: who may add, change and remove whom."""

from httpx import AsyncClient
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.api.conftest import make_team, sign_up


async def test_members_are_listed_for_members_only(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, ids = await make_team(client, session)
    url = f"/api/v1/projects/{project_id}/members"
    page = (await client.get(url, headers=headers["member"])).json()
    roles = {m["user_id"]: m["role"] for m in page["items"]}
    assert roles == {ids["owner"]: "owner", ids["admin"]: "admin", ids["member"]: "member"}
    assert page["next_cursor"] is None
    assert (await client.get(url, headers=headers["stranger"])).status_code == 404


async def test_adding_members_follows_the_roles(client: AsyncClient, session: AsyncSession) -> None:
    project_id, headers, ids = await make_team(client, session)
    url = f"/api/v1/projects/{project_id}/members"
    newcomer = await sign_up(client, "newcomer@example.com")
    body = {"user_id": newcomer["id"], "role": "member"}
    assert (await client.post(url, json=body, headers=headers["stranger"])).status_code == 404
    assert (await client.post(url, json=body, headers=headers["member"])).status_code == 403
    as_owner = {"user_id": newcomer["id"], "role": "owner"}
    assert (await client.post(url, json=as_owner, headers=headers["admin"])).status_code == 403
    added = await client.post(url, json=body, headers=headers["admin"])
    assert added.status_code == 201
    assert added.json()["role"] == "member"
    again = await client.post(url, json=body, headers=headers["owner"])
    assert again.status_code == 409
    unknown = await client.post(url, json={"user_id": 987654}, headers=headers["owner"])
    assert unknown.status_code == 404
    bad_role = await client.post(
        url, json={"user_id": ids["stranger"], "role": "king"}, headers=headers["owner"]
    )
    assert bad_role.status_code == 422


async def test_changing_roles(client: AsyncClient, session: AsyncSession) -> None:
    project_id, headers, ids = await make_team(client, session)
    url = f"/api/v1/projects/{project_id}/members"

    async def patch(target: str, role: str, actor: str) -> int:
        response = await client.patch(
            f"{url}/{ids[target]}", json={"role": role}, headers=headers[actor]
        )
        return response.status_code

    assert await patch("member", "admin", "member") == 403
    assert await patch("owner", "member", "admin") == 403  # admins cannot touch owners
    assert await patch("member", "owner", "admin") == 403  # nor make them
    assert await patch("owner", "admin", "owner") == 409  # the project's owner stays owner
    assert await patch("stranger", "admin", "owner") == 404
    assert await patch("member", "admin", "admin") == 200
    assert await patch("member", "owner", "owner") == 200
    null_role = await client.patch(
        f"{url}/{ids['admin']}", json={"role": None}, headers=headers["owner"]
    )
    assert null_role.status_code == 422


async def test_removing_and_leaving(client: AsyncClient, session: AsyncSession) -> None:
    project_id, headers, ids = await make_team(client, session)
    url = f"/api/v1/projects/{project_id}/members"

    async def delete(target: str, actor: str) -> int:
        return (await client.delete(f"{url}/{ids[target]}", headers=headers[actor])).status_code

    assert await delete("admin", "member") == 403
    assert await delete("owner", "admin") == 403
    assert await delete("owner", "owner") == 409  # the owner cannot leave their project
    assert await delete("member", "stranger") == 404
    assert await delete("member", "member") == 204  # leaving
    assert (
        await client.get(f"/api/v1/projects/{project_id}", headers=headers["member"])
    ).status_code == 404
    assert await delete("admin", "owner") == 204
    assert await delete("admin", "owner") == 404


async def test_a_second_owner_is_removed_only_by_an_owner(
    client: AsyncClient, session: AsyncSession
) -> None:
    project_id, headers, ids = await make_team(client, session)
    url = f"/api/v1/projects/{project_id}/members"
    promoted = await client.patch(
        f"{url}/{ids['admin']}", json={"role": "owner"}, headers=headers["owner"]
    )
    assert promoted.status_code == 200
    # The promoted owner still cannot remove the project's owner_id membership.
    removal = await client.delete(f"{url}/{ids['owner']}", headers=headers["admin"])
    assert removal.status_code == 409
    assert (
        await client.delete(f"{url}/{ids['admin']}", headers=headers["owner"])
    ).status_code == 204
