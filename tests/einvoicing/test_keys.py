import base64

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured

from backend.einvoicing import keys

from .support import SUBJECT, certificate_for


@pytest.mark.parametrize(
    ("environment", "template"),
    [
        ("sandbox", b"TSTZATCA-Code-Signing"),
        ("simulation", b"PREZATCA-Code-Signing"),
        ("production", b"ZATCA-Code-Signing"),
    ],
)
def test_the_csr_carries_what_zatca_reads(environment, template):
    key = keys.generate_private_key()
    assert key.curve.name == "secp256k1"
    pem = keys.build_csr(key, SUBJECT, environment)
    assert base64.b64decode(keys.csr_base64(pem)) == pem
    csr = x509.load_pem_x509_csr(pem)
    assert csr.is_signature_valid
    assert csr.signature_hash_algorithm.name == "sha256"
    assert [(attribute.oid, attribute.value) for attribute in csr.subject] == [
        (NameOID.COUNTRY_NAME, "SA"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Riyadh Branch"),
        (NameOID.ORGANIZATION_NAME, "Al Faris Barbershop"),
        (NameOID.COMMON_NAME, "salon-1"),
    ]
    extension = csr.extensions.get_extension_for_oid(keys.TEMPLATE_OID).value
    assert extension.value == bytes([0x13, len(template)]) + template  # PrintableString
    directory = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value[0].value
    assert {attribute.oid.dotted_string: attribute.value for attribute in directory} == {
        "2.5.4.4": "1-SalonBooking|2-web|3-7f1c0c4e-0000-4000-8000-000000000001",
        "0.9.2342.19200300.100.1.1": "310122393500003",
        "2.5.4.12": "0100",
        "2.5.4.26": "King Fahd Road 1234, Riyadh",
        "2.5.4.15": "Beauty salon",
    }
    assert csr.public_key().public_numbers() == key.public_key().public_numbers()


def test_unknown_environment():
    with pytest.raises(ValueError, match="unknown ZATCA environment"):
        keys.build_csr(keys.generate_private_key(), SUBJECT, "staging")


def test_keys_are_stored_encrypted_and_rotate(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.EINVOICING_KEY_ENCRYPTION_KEY = old
    key = keys.generate_private_key()
    token = keys.encrypt_private_key(key)
    assert b"PRIVATE KEY" not in token.encode() and b"PRIVATE KEY" not in base64.urlsafe_b64decode(token)
    assert keys.decrypt_private_key(token).private_numbers() == key.private_numbers()
    settings.EINVOICING_KEY_ENCRYPTION_KEY = f"{new}, {old}"
    assert keys.decrypt_private_key(token).private_numbers() == key.private_numbers()
    settings.EINVOICING_KEY_ENCRYPTION_KEY = new
    with pytest.raises(keys.KeyMaterialError, match="does not decrypt"):
        keys.decrypt_private_key(token)


@pytest.mark.parametrize("value", ["", " , ", "not-a-fernet-key"])
def test_no_usable_encryption_key(settings, value):
    settings.EINVOICING_KEY_ENCRYPTION_KEY = value
    with pytest.raises(ImproperlyConfigured):
        keys.encrypt_private_key(keys.generate_private_key())


def test_loading_keys():
    key = keys.generate_private_key()
    assert keys.load_private_key(keys.private_key_pem(key)).private_numbers() == key.private_numbers()
    with pytest.raises(keys.KeyMaterialError, match="not a PEM"):
        keys.load_private_key(b"garbage")
    other_curve = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(keys.KeyMaterialError, match="secp256k1"):
        keys.load_private_key(keys.private_key_pem(other_curve))


def test_the_certificate_in_a_binary_security_token():
    certificate, text = certificate_for(keys.generate_private_key())
    token = base64.b64encode(text.encode()).decode()
    loaded, loaded_text = keys.certificate_from_token(token)
    assert loaded == certificate and loaded_text == text
    assert base64.b64decode(loaded_text) == certificate.public_bytes(Encoding.DER)
    with pytest.raises(keys.KeyMaterialError):
        keys.certificate_from_token("bm90IGEgY2VydA==")
