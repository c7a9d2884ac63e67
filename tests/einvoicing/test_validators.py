import pytest
from django.utils import translation

from backend.einvoicing import validators

ADDRESS = {
    "street": "King Fahd Road",
    "building": "1234",
    "district": "Olaya",
    "city": "Riyadh",
    "postal_code": "12211",
}


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("310122393500003", True),
        ("300000000000003", True),
        ("310122393500004", False),  # does not end with 3
        ("210122393500003", False),  # does not start with 3
        ("31012239350003", False),  # 14 digits
        ("3101223935000033", False),  # 16 digits
        ("31012239350000a", False),
        ("٣١٠١٢٢٣٩٣٥٠٠٠٠٣", False),  # Arabic-Indic digits are not what ZATCA reads
        (310122393500003, False),
        (None, False),
    ],
)
def test_vat_number(value, valid):
    assert validators.is_valid_vat_number(value) is valid


def test_cr_number():
    assert validators.is_valid_cr_number("1010010000")
    assert not validators.is_valid_cr_number("101001000")
    assert not validators.is_valid_cr_number("1010010000\n")
    assert not validators.is_valid_cr_number(1010010000)


def test_address_problems():
    assert validators.address_problems(ADDRESS) == {}
    assert validators.address_problems(
        {**ADDRESS, "street": " ", "city": "x" * 128, "building": "12", "postal_code": None}
    ) == {
        "street": "required",
        "city": "too_long",
        "building": "invalid",
        "postal_code": "invalid",
    }


def test_the_tax_profile_serializer():
    good = {
        "legal_name": "Al Faris",
        "vat_number": "310122393500003",
        "cr_number": "1010010000",
        "address": ADDRESS,
    }
    assert validators.TaxProfileSerializer(data=good).is_valid()
    bad = validators.TaxProfileSerializer(
        data={
            **good,
            "vat_number": "310122393500004",
            "cr_number": "12",
            "address": {**ADDRESS, "building": "12345", "postal_code": "1221"},
        }
    )
    assert not bad.is_valid()
    assert set(bad.errors) == {"vat_number", "cr_number", "address"}
    assert set(bad.errors["address"]) == {"building", "postal_code"}
    assert (
        str(bad.errors["vat_number"][0]) == "الرقم الضريبي 15 رقمًا، يبدأ بالرقم 3 وينتهي به."
    )  # default: ar
    with translation.override("en"):
        english = validators.TaxProfileSerializer(data={**good, "vat_number": "310122393500004"})
        assert not english.is_valid()
        assert (
            str(english.errors["vat_number"][0]) == "A VAT number is 15 digits, starting and ending with 3."
        )
    wrong_digit = validators.TaxProfileSerializer(
        data={**good, "vat_number": "210122393500003", "cr_number": "101001000a"}
    )
    assert not wrong_digit.is_valid()
    assert set(wrong_digit.errors) == {"vat_number", "cr_number"}
