from backend.einvoicing import client


def test_the_environment_picks_the_base_url_and_zatca_base_url_overrides_it(settings):
    settings.ZATCA_BASE_URL = ""
    for environment, tail in (
        ("sandbox", "developer-portal"),
        ("simulation", "simulation"),
        ("production", "core"),
    ):
        settings.ZATCA_ENVIRONMENT = environment
        assert client.base_url() == f"https://gw-fatoora.zatca.gov.sa/e-invoicing/{tail}"
    settings.ZATCA_BASE_URL = "http://127.0.0.1:9/e-invoicing/simulation/"
    assert client.base_url() == "http://127.0.0.1:9/e-invoicing/simulation"


def test_classification_of_answers_without_the_usual_shape():
    assert client._result(200, None).status == client.REPORTED
    assert client._result(409, {"validationResults": {"errorMessages": "x"}}).status == client.REPORTED
    warned = {"validationResults": {"warningMessages": [{"code": "BR-KSA-98"}, "noise"]}}
    assert client._result(200, warned).status == client.REPORTED_WITH_WARNINGS
    assert client._error_code({"code": 5}) is None
