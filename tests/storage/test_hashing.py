from amz_pipeline.hashing import canonical_json, idempotency_key, payload_hash


def test_canonical_json_is_order_independent_and_utf8():
    assert canonical_json({"b": 1, "a": "Größe"}) == '{"a":"Größe","b":1}'.encode()
    assert payload_hash({"a": 1, "b": 2}) == payload_hash({"b": 2, "a": 1})


def test_idempotency_key_separates_seller_marketplace_sku_and_payload():
    base = idempotency_key("S", "M", "SKU", {"x": 1})
    assert base != idempotency_key("S2", "M", "SKU", {"x": 1})
    assert base != idempotency_key("S", "M2", "SKU", {"x": 1})
    assert base != idempotency_key("S", "M", "SKU2", {"x": 1})
    assert base != idempotency_key("S", "M", "SKU", {"x": 2})
    assert base == idempotency_key("S", "M", "SKU", {"x": 1})
