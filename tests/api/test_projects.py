"""Projects through the API, with the authorisation matrix by membership role."""

from httpx import AsyncClient

from tests.api.conftest import login, sign_up


async def test_creator_owns_the_project_and_sees_it_listed(client: AsyncClient) -> None:
    me = await sign_up(client, "creator@example.com")
    headers = await login(client, "creator@example.com")
    created = await client.post(
        "/api/v1/projects", json={"name": "  Zeus  ", "description": "d"}, headers=headers
    )
    assert created.status_code == 201
    assert created.json()["owner_id"] == me["id"]
    assert created.json()["name"] == "Zeus"
    listed = await client.get("/api/v1/projects", headers=headers)
    assert listed.json() == {"items": [created.json()], "next_cursor": None}


async def test_project_list_is_paged_and_only_the_callers(client: AsyncClient) -> None:
    await sign_up(client, "pager@example.com")
    await sign_up(client, "else@example.com")
    mine = await login(client, "pager@example.com")
    other = await login(client, "else@example.com")
    await client.post("/api/v1/projects", json={"name": "not mine"}, headers=other)
    for i in range(5):
        await client.post("/api/v1/projects", json={"name": f"p{i}"}, headers=mine)
    names, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/projects", params=params, headers=mine)).json()
        names += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == ["p4", "p3", "p2", "p1", "p0"]
    bad = await client.get("/api/v1/projects", params={"cursor": "tampered"}, headers=mine)
    assert bad.status_code == 422


async def test_missing_project_is_404_and_bad_update_is_422(client: AsyncClient) -> None:
    await sign_up(client, "p404@example.com")
    headers = await login(client, "p404@example.com")
    assert (await client.get("/api/v1/projects/987654", headers=headers)).status_code == 404
    created = await client.post("/api/v1/projects", json={"name": "x"}, headers=headers)
    url = f"/api/v1/projects/{created.json()['id']}"
    assert (await client.patch(url, json={"name": None}, headers=headers)).status_code == 422
    assert (await client.patch(url, json={"name": "  "}, headers=headers)).status_code == 422
    cleared = await client.patch(url, json={"description": None}, headers=headers)
    assert cleared.status_code == 200
    assert cleared.json()["description"] is None
