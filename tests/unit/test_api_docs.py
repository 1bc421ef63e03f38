"""The API's description: a valid OpenAPI 3.1 document that covers every route, and the
documentation page drawn from it."""

import re

import pytest
from openapi_spec_validator import validate

from campaign.api.openapi import HELPERS, openapi_document

SECTIONS = ("people", "petitions", "signatures", "events", "attendances", "tags", "taggings",
            "lists", "items", *HELPERS)
# Werkzeug's <name> as OpenAPI's {name}.
_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@pytest.fixture
def document(app):
    with app.app_context():
        return openapi_document()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_server_is_this_sites_public_address(document):
    assert document["servers"] == [{"url": "http://localhost/api/v2",
                                    "description": "This Placard site."}]


def test_every_route_of_the_api_is_described(app, document):
    described = {(path, method) for path, item in document["paths"].items()
                 for method in item if method != "parameters"}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "api":
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule).removeprefix("/api/v2") or "/"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    assert routes, "no route of the api blueprint found"
    assert routes - described == set(), "routes without a description"
    assert described - routes == set(), "descriptions of routes that do not exist"


def test_every_path_parameter_is_declared(document):
    for path, item in document["paths"].items():
        declared = {parameter["$ref"].rsplit("/", 1)[1] for parameter in item.get("parameters", [])}
        assert declared == set(re.findall(r"{([a-z_]+)}", path)), path


def test_the_token_is_an_api_key_in_its_header(document):
    assert document["components"]["securitySchemes"]["token"] == {
        **document["components"]["securitySchemes"]["token"],
        "type": "apiKey", "in": "header", "name": "OSDI-API-Token"}
    assert document["security"] == [{"token": []}]


def test_a_429_says_when_to_retry(document):
    too_many = document["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in too_many["headers"]
    for item in document["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                assert {"200", "401", "429"} <= set(operation["responses"]), operation


def test_the_document_is_served_without_a_token_and_may_be_cached(client, document):
    response = client.get("/api/v2/openapi.json")
    assert response.status_code == 200
    assert response.json == document
    assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.parametrize(("headers", "lang"), [({}, "en"),
                                               ({"Accept-Language": "fr-CA,fr;q=0.9"}, "fr-CA")])
def test_the_docs_page_renders_in_each_language_with_the_curies_anchors(client, headers, lang):
    response = client.get("/api/docs", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    for rel in ("person", "petition", "signature", "event", "attendance", "tag", "list"):
        assert f'id="{rel}"' in html, rel


def test_the_docs_page_chosen_language_comes_from_the_cookie(client):
    client.set_cookie("placard_lang", "fr_CA")
    assert '<html lang="fr-CA">' in client.get("/api/docs").get_data(as_text=True)


def test_the_docs_page_explains_tokens_limits_vouching_and_webhooks(client):
    html = client.get("/api/docs").get_data(as_text=True)
    for needed in ("/organize/api-tokens", "OSDI-API-Token", "per_page", "Retry-After",
                   "triggers.autoresponse.enabled", "X-Placard-Signature", "X-Placard-Timestamp",
                   "HMAC-SHA256", "/api/v2/openapi.json", "getPerson", "recordSignature"):
        assert needed in html, needed


def test_the_docs_page_needs_no_inline_script_or_style(client):
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "https://" not in re.sub(r"<pre.*?</pre>", "", html, flags=re.S)


def test_every_curie_of_the_api_lands_on_a_section(client):
    html = client.get("/api/docs").get_data(as_text=True)
    anchors = set(re.findall(r'id="([^"]+)"', html))
    from campaign.api import resources

    with client.application.app_context():
        template = resources.curies()[0]["href"]
    assert template.endswith("/api/docs#{rel}")
    rels = set()
    for source in (resources.person_resource, resources.petition_resource,
                   resources.signature_resource, resources.event_resource,
                   resources.attendance_resource, resources.tag_resource,
                   resources.tagging_resource, resources.list_resource, resources.item_resource):
        rels.update(re.findall(r'"osdi:([a-z_]+)"', _source(source)))
    assert rels and rels <= anchors, rels - anchors


def _source(function):
    import inspect

    return inspect.getsource(function)
