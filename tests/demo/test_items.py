from ivr.demo.items import COLOURS, SIZES, item_json


def test_items_carry_sizes_and_colours_only_where_they_have_them() -> None:
    shirt, bag, jacket, mug = (item_json(n) for n in ("101", "205", "310", "420"))
    assert shirt is not None and bag is not None and jacket is not None and mug is not None
    assert shirt["sizes"] == list(SIZES) and shirt["colours"] == list(COLOURS)
    assert "sizes" not in bag and bag["colours"] == list(COLOURS)
    assert jacket["sizes"] == list(SIZES) and "colours" not in jacket
    assert "sizes" not in mug and "colours" not in mug
    assert mug["number"] == "420" and isinstance(mug["price"], int)
    assert set(mug["name"]) == {"ja", "en"}


def test_unknown_item() -> None:
    assert item_json("999") is None
