from ivr.demo.customers import customer_by_phone, national_number


def test_national_number_from_international_and_formatted_forms() -> None:
    assert national_number("+81 3-1234-5678") == "0312345678"
    assert national_number("81312345678") == "0312345678"  # the + lost in a query string
    assert national_number("03-1234-5678") == "0312345678"
    assert national_number("0812345678") == "0812345678"  # a national number starting 08 stays


def test_known_caller_is_found_and_new_caller_is_not() -> None:
    found = customer_by_phone("+81312345678")
    assert found is not None
    assert found["id"] == "C1001"
    assert found["phone"] == "0312345678"
    assert set(found["name"]) == set(found["address"]) == {"ja", "en"}
    assert customer_by_phone("0399999999") is None
