"""The Shopify stand-in follows /work/shared/contracts/shopify.md (real socket, httpx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from standins.shopify import (
    DEFAULT_TOKEN,
    INVALID_TOKEN_BODY,
    LOCATION_GID,
    ShopifyStandin,
    make_order,
    seeded_standin,
    send_webhook,
    sign,
    webhook_headers,
)

ORDERS_QUERY = """
query Orders($cursor: String, $first: Int, $q: String) {
  orders(first: $first, after: $cursor, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId name updatedAt createdAt }
  }
}
"""

FO_QUERY = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) { id name fulfillmentOrders(first: 10) { nodes { id status
    lineItems(first: 100) { nodes { id remainingQuantity totalQuantity lineItem { id sku } } } } } }
}
"""

CREATE_MUTATION = """
mutation CreateFulfillment($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status createdAt trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[ShopifyStandin]:
    with ShopifyStandin() as standin:
        yield standin


@pytest.fixture
def shop(server: ShopifyStandin) -> ShopifyStandin:
    """The shared server, reset to an empty shop for each test."""
    with server.lock:
        server.orders.clear()
        server.fulfillment_orders.clear()
        server.fulfillments.clear()
        server.throttle_next = 0
        server.throttle_status = 429
        server.requests = server.throttled = 0
    return server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"X-Shopify-Access-Token": DEFAULT_TOKEN}, timeout=5) as c:
        yield c


def gql(client: httpx.Client, shop: ShopifyStandin, query: str, **variables: Any) -> httpx.Response:
    return client.post(shop.graphql_url, json={"query": query, "variables": variables})


def test_hmac_matches_the_contract_worked_example() -> None:
    body = b'{"id":820982911946154508,"name":"#1001","email":"jon@example.com"}'
    assert sign(body, "shpss_test_secret_123") == "CxoEDfkWWFvxnKwhKsWsbzEJx+33UsYv6MU4QvsSlxo="
    assert sign(body + b"\n", "shpss_test_secret_123") == "fTdvXRVbY5K/lPke1T7gNLTrSgyOC/NzBY0+PkJnsOc="
    headers = webhook_headers(body, topic="orders/create", secret="shpss_test_secret_123")
    assert headers["X-Shopify-Hmac-Sha256"] == "CxoEDfkWWFvxnKwhKsWsbzEJx+33UsYv6MU4QvsSlxo="
    for name in (
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Triggered-At",
        "X-Shopify-Event-Id",
    ):
        assert headers[name]
    again = webhook_headers(body, topic="orders/create", secret="x", webhook_id=headers["X-Shopify-Webhook-Id"])
    assert again["X-Shopify-Webhook-Id"] == headers["X-Shopify-Webhook-Id"]


def test_make_order_is_deterministic_and_consistent() -> None:
    order = make_order(7)
    assert order == make_order(7)
    assert order["name"] == "#1007" and order["order_number"] == 1007
    assert order["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"
    lines = sum(float(li["price"]) * li["quantity"] for li in order["line_items"])
    assert float(order["subtotal_price"]) == pytest.approx(lines)
    shipping = float(order["shipping_lines"][0]["price"])
    assert float(order["total_price"]) == pytest.approx(lines + shipping)
    custom = make_order(8, skus=[("BENCHY-PLA-RED", 2, "Benchy")], email="ada@example.com")
    assert [(li["sku"], li["quantity"]) for li in custom["line_items"]] == [("BENCHY-PLA-RED", 2)]
    assert custom["email"] == "ada@example.com"


def test_paging_120_orders_three_pages_in_updated_at_order(shop: ShopifyStandin, client: httpx.Client) -> None:
    base = datetime(2026, 5, 1, tzinfo=UTC)
    # Inserted scrambled, and in groups of three sharing an updated_at (one group straddles the
    # first page boundary), so the sort and the id tie-breaker in the cursor are exercised.
    for n in range(120):
        order = make_order(n, created_at=base + timedelta(minutes=(n * 37) % 120 * 10))
        order["updated_at"] = (base + timedelta(days=1, minutes=((n * 37) % 120) // 3)).isoformat()
        shop.add_order(order)
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        response = gql(client, shop, ORDERS_QUERY, cursor=cursor, first=50)
        assert response.status_code == 200
        assert response.headers["X-Shopify-API-Version"] == "2026-07"
        body = response.json()
        assert "throttleStatus" in body["extensions"]["cost"]
        page = body["data"]["orders"]
        seen.extend(page["nodes"])
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert len(seen) == 120
    assert len({node["id"] for node in seen}) == 120
    keys = [(node["updatedAt"], int(node["legacyResourceId"])) for node in seen]
    assert keys == sorted(keys)
    assert seen[0]["id"] == f"gid://shopify/Order/{seen[0]['legacyResourceId']}"


def test_created_at_search_filter(shop: ShopifyStandin, client: httpx.Client) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    for n in range(10):
        shop.add_order(make_order(n, created_at=now - timedelta(days=n)))
    body = gql(client, shop, ORDERS_QUERY, q="created_at:>='2026-05-29T00:00:00Z' financial_status:paid").json()
    assert {node["name"] for node in body["data"]["orders"]["nodes"]} == {"#1000", "#1001", "#1002", "#1003"}
    body = gql(client, shop, ORDERS_QUERY, q="created_at:>=2026-05-31 tag:ignored").json()
    assert len(body["data"]["orders"]["nodes"]) == 2


def test_wrong_or_missing_token_is_401(shop: ShopifyStandin) -> None:
    for headers in ({"X-Shopify-Access-Token": "shpat_wrong"}, {}):
        response = httpx.post(shop.graphql_url, json={"query": ORDERS_QUERY}, headers=headers)
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN_BODY
    assert shop.requests == 0


@pytest.mark.parametrize("status", [429, 200])
def test_throttle_mode_then_success(shop: ShopifyStandin, client: httpx.Client, status: int) -> None:
    shop.add_order(make_order(1))
    shop.throttle_status = status
    shop.throttle_next = 1
    throttled = gql(client, shop, ORDERS_QUERY)
    assert throttled.status_code == status
    body = throttled.json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    cost = body["extensions"]["cost"]
    bucket = cost["throttleStatus"]
    wait = (cost["requestedQueryCost"] - bucket["currentlyAvailable"]) / bucket["restoreRate"]
    assert 0 < wait < 1
    if status == 429:
        assert float(throttled.headers["Retry-After"]) == pytest.approx(wait)
    ok = gql(client, shop, ORDERS_QUERY)
    assert ok.status_code == 200
    assert len(ok.json()["data"]["orders"]["nodes"]) == 1
    assert (shop.requests, shop.throttled) == (2, 1)


def test_fulfillment_create_closes_fo_and_rejects_over_fulfilment(shop: ShopifyStandin, client: httpx.Client) -> None:
    order = shop.add_order(make_order(3, skus=[("BENCHY-PLA-RED", 2, "Benchy"), ("CABLE-CLIP-10", 1, "Cable clips")]))
    other = shop.add_order(make_order(4))

    data = gql(client, shop, FO_QUERY, id=order["admin_graphql_api_id"]).json()["data"]["order"]
    fo = data["fulfillmentOrders"]["nodes"][0]
    assert fo["status"] == "OPEN"
    assert fo["assignedLocation"]["location"]["id"] == LOCATION_GID
    lines = fo["lineItems"]["nodes"]
    assert [(li["lineItem"]["sku"], li["remainingQuantity"]) for li in lines] == [
        ("BENCHY-PLA-RED", 2),
        ("CABLE-CLIP-10", 1),
    ]

    def create(fo_id: str, items: list[dict[str, Any]] | None) -> dict[str, Any]:
        pair: dict[str, Any] = {"fulfillmentOrderId": fo_id}
        if items is not None:
            pair["fulfillmentOrderLineItems"] = items
        response = gql(
            client,
            shop,
            CREATE_MUTATION,
            fulfillment={
                "lineItemsByFulfillmentOrder": [pair],
                "trackingInfo": {"company": "PostNL", "number": "3SABC1234567"},
                "notifyCustomer": True,
            },
        )
        assert response.status_code == 200
        return response.json()["data"]["fulfillmentCreate"]

    over = create(fo["id"], [{"id": lines[0]["id"], "quantity": 3}])
    assert over["fulfillment"] is None
    assert over["userErrors"][0]["field"][-1] == "quantity"
    assert "remaining quantity" in over["userErrors"][0]["message"]

    other_fo = shop.fulfillment_order_for(other["id"])
    assert other_fo is not None
    wrong = create(fo["id"], [{"id": other_fo["lineItems"]["nodes"][0]["id"], "quantity": 1}])
    assert wrong["fulfillment"] is None and wrong["userErrors"]

    done = create(fo["id"], [{"id": lines[0]["id"], "quantity": 2}, {"id": lines[1]["id"], "quantity": 1}])
    assert done["userErrors"] == []
    assert done["fulfillment"]["status"] == "SUCCESS"
    assert done["fulfillment"]["trackingInfo"] == [{"company": "PostNL", "number": "3SABC1234567", "url": None}]
    assert len(shop.fulfillments) == 1 and shop.fulfillments[0]["notifyCustomer"] is True

    after = gql(client, shop, FO_QUERY, id=order["admin_graphql_api_id"]).json()["data"]["order"]
    assert after["fulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"
    assert after["displayFulfillmentStatus"] == "FULFILLED"

    closed = create(fo["id"], None)
    assert closed["fulfillment"] is None
    assert "closed" in closed["userErrors"][0]["message"]


def test_send_webhook_signs_the_exact_bytes_it_posts() -> None:
    captured: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200)

    payload = make_order(1)
    with httpx.Client(transport=httpx.MockTransport(receiver)) as http:
        send_webhook("http://app.test/webhooks/shopify", "orders/create", payload, "s3cret", client=http)
        send_webhook(
            "http://app.test/webhooks/shopify",
            "orders/create",
            payload,
            "s3cret",
            client=http,
            webhook_id=captured[0].headers["X-Shopify-Webhook-Id"],
        )
    first, retry = captured
    assert first.content == json.dumps(payload, separators=(",", ":")).encode()
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["X-Shopify-Hmac-Sha256"] == sign(first.content, "s3cret")
    assert first.headers["X-Shopify-Topic"] == "orders/create"
    assert retry.headers["X-Shopify-Webhook-Id"] == first.headers["X-Shopify-Webhook-Id"]


TRACKING_UPDATE = """
mutation UpdateTracking($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput,
                                notifyCustomer: $notifyCustomer) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}
"""

ORDER_FULFILLMENTS_QUERY = """
query Orders($first: Int) {
  orders(first: $first) { pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId displayFulfillmentStatus
            fulfillments(first: 5) { id status createdAt trackingInfo { company number url } } } }
}
"""


def test_tracking_update_replaces_the_tracking_and_keeps_its_history(
    shop: ShopifyStandin, client: httpx.Client
) -> None:
    order = shop.add_order(make_order(5, skus=[("BENCHY-PLA-RED", 1, "Benchy")]))
    fo = shop.fulfillment_order_for(order["id"])
    assert fo is not None
    created = gql(
        client,
        shop,
        CREATE_MUTATION,
        fulfillment={
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
            "trackingInfo": {"company": "PostNL", "number": "3SOLD", "url": "https://track.example/3SOLD"},
            "notifyCustomer": True,
        },
    ).json()["data"]["fulfillmentCreate"]["fulfillment"]

    response = gql(
        client,
        shop,
        TRACKING_UPDATE,
        fulfillmentId=created["id"],
        trackingInfoInput={"company": "DHL Express", "number": "JD0001", "url": "https://track.example/JD0001"},
        notifyCustomer=False,
    )
    assert response.status_code == 200
    updated = response.json()["data"]["fulfillmentTrackingInfoUpdate"]
    assert updated["userErrors"] == []
    new_tracking = [{"company": "DHL Express", "number": "JD0001", "url": "https://track.example/JD0001"}]
    assert updated["fulfillment"] == {"id": created["id"], "status": "SUCCESS", "trackingInfo": new_tracking}

    [recorded] = shop.fulfillments_of(order["admin_graphql_api_id"])
    assert recorded["via"] == "api" and recorded["trackingInfo"] == new_tracking
    assert [h["trackingInfo"][0]["number"] for h in recorded["trackingHistory"]] == ["3SOLD", "JD0001"]
    assert [h["notifyCustomer"] for h in recorded["trackingHistory"]] == [True, False]
    # the order's REST view (the next webhook) and GraphQL view show the new tracking, on the same fulfillment
    rest = order["fulfillments"]
    assert len(rest) == 1 and rest[0]["tracking_number"] == "JD0001" and rest[0]["tracking_company"] == "DHL Express"
    node = gql(client, shop, ORDER_FULFILLMENTS_QUERY, first=5).json()["data"]["orders"]["nodes"][0]
    assert node["displayFulfillmentStatus"] == "FULFILLED"
    assert [(f["id"], f["trackingInfo"]) for f in node["fulfillments"]] == [(created["id"], new_tracking)]


def test_tracking_update_refuses_unknown_fulfillments_and_empty_tracking(
    shop: ShopifyStandin, client: httpx.Client
) -> None:
    unknown = gql(
        client, shop, TRACKING_UPDATE, fulfillmentId="gid://shopify/Fulfillment/1", trackingInfoInput={"number": "X"}
    ).json()["data"]["fulfillmentTrackingInfoUpdate"]
    assert unknown["fulfillment"] is None
    assert unknown["userErrors"] == [{"field": ["fulfillmentId"], "message": "Fulfillment does not exist."}]

    order = shop.add_order(make_order(6))
    done = shop.fulfil(order["id"])
    for bad in ({}, {"number": "A", "numbers": ["B"]}):
        refused = gql(client, shop, TRACKING_UPDATE, fulfillmentId=done["id"], trackingInfoInput=bad).json()
        errors = refused["data"]["fulfillmentTrackingInfoUpdate"]["userErrors"]
        assert errors and errors[0]["field"] == ["trackingInfoInput"]
    assert len(shop.fulfillments_of(order["id"])[0]["trackingHistory"]) == 1


def test_fulfilling_in_the_admin_shows_in_the_order_views(shop: ShopifyStandin, client: httpx.Client) -> None:
    order = shop.add_order(make_order(7, skus=[("BENCHY-PLA-RED", 2, "Benchy"), ("CABLE-CLIP-10", 1, "Clips")]))
    shop.fulfil(order["id"], skus={"BENCHY-PLA-RED": 2})
    assert order["fulfillment_status"] == "partial"
    node = gql(client, shop, ORDER_FULFILLMENTS_QUERY, first=5).json()["data"]["orders"]["nodes"][0]
    assert node["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert len(node["fulfillments"]) == 1 and node["fulfillments"][0]["trackingInfo"] == []
    fo = shop.fulfillment_order_for(order["id"])
    assert fo is not None and fo["status"] == "IN_PROGRESS"

    tracking = {"company": "PostNL", "number": "3SREST", "url": "https://track.example/3SREST"}
    shop.fulfil(order["id"], tracking=tracking)
    node = gql(client, shop, ORDER_FULFILLMENTS_QUERY, first=5).json()["data"]["orders"]["nodes"][0]
    assert node["displayFulfillmentStatus"] == "FULFILLED" and fo["status"] == "CLOSED"
    assert node["fulfillments"][-1]["trackingInfo"] == [tracking]
    assert node["fulfillments"][-1]["status"] == "SUCCESS" and node["fulfillments"][-1]["createdAt"].endswith("Z")
    assert order["fulfillment_status"] == "fulfilled" and order["fulfillments"][-1]["tracking_number"] == "3SREST"
    assert [f["via"] for f in shop.fulfillments_of(order["id"])] == ["admin", "admin"]
    with pytest.raises(ValueError, match="closed"):
        shop.fulfil(order["id"])


def test_a_seeded_shop_has_fulfilled_and_partly_fulfilled_history() -> None:
    seeded = seeded_standin(40)
    by_status: dict[str | None, list[dict[str, Any]]] = {}
    for order in seeded.orders:
        by_status.setdefault(order["fulfillment_status"], []).append(order)
    assert set(by_status) == {None, "partial", "fulfilled"}
    for order in by_status["fulfilled"]:
        [fulfillment] = order["fulfillments"]
        assert fulfillment["tracking_company"] == "PostNL" and fulfillment["tracking_number"].startswith("3S")
    assert all(not o["cancelled_at"] for o in by_status["fulfilled"] + by_status["partial"])
