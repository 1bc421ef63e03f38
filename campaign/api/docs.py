"""The API's description: ``/api/v2/openapi.json`` for tools, ``/api/docs`` for people.

Both come from :func:`~campaign.api.openapi.openapi_document`; the page only
arranges it (operations by section, then each schema's fields), so it says what
the document says. Neither needs a token: they describe the API, not anyone's data.
"""

from flask import Blueprint, current_app, jsonify, render_template

from campaign.api import openapi

bp = Blueprint("api_docs", __name__)

DOCUMENT_CACHE_SECONDS = 300
METHODS = ("get", "post", "put", "delete")
# Records whose section is named after their OSDI rel (osdi:person → #person), so that every
# curie in the API's links lands on its description.
RECORD_ANCHORS = {"Person", "Petition", "Signature", "Event", "Attendance", "Tag", "Tagging",
                  "List", "Item"}


@bp.get("/api/v2/openapi.json")
def openapi_json():
    response = jsonify(openapi.openapi_document())
    response.headers["Cache-Control"] = f"public, max-age={DOCUMENT_CACHE_SECONDS}"
    return response


@bp.get("/api/docs")
def docs():
    document = openapi.openapi_document()
    response = current_app.make_response(render_template(
        "api/docs.html", document=document, sections=_sections(document),
        schema_groups=_schema_groups(document), errors=_errors(document),
        rate_limit=current_app.config["API_RATE_LIMIT"], anchor=schema_anchor,
        fields=fields, bases=bases, token_header=openapi.TOKEN_HEADER,
        server=document["servers"][0]["url"]))
    response.headers["Cache-Control"] = f"public, max-age={DOCUMENT_CACHE_SECONDS}"
    return response


def schema_anchor(name):
    return name.lower() if name in RECORD_ANCHORS else f"schema-{name}"


def ref_name(node):
    """The component a ``$ref`` names (``Person`` of ``#/components/schemas/Person``)."""
    return node["$ref"].rsplit("/", 1)[1] if "$ref" in node else None


def _resolved(document, node, kind):
    name = ref_name(node)
    return (name, document["components"][kind][name]) if name else (None, node)


def fields(schema):
    """``[(name, schema, required)]`` of a schema's own properties, its ``allOf`` parts' too
    (except those of the schemas it builds on: see :func:`bases`)."""
    parts = [schema, *[part for part in schema.get("allOf", []) if "$ref" not in part]]
    found = {}
    required = set()
    for part in parts:
        found.update(part.get("properties", {}))
        required.update(part.get("required", []))
    return [(name, node, name in required) for name, node in found.items()]


def bases(schema):
    return [ref_name(part) for part in schema.get("allOf", []) if "$ref" in part]


def _sections(document):
    """The operations under each of the document's tags, in the document's order."""
    sections = {tag["name"]: {**tag, "operations": []} for tag in document["tags"]}
    for path, item in document["paths"].items():
        shared = [_resolved(document, node, "parameters")[1] for node in item.get("parameters", [])]
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = shared + [_resolved(document, node, "parameters")[1]
                                   for node in operation.get("parameters", [])]
            body = operation.get("requestBody", {}).get("content", {}).get(openapi.JSON)
            sections[operation["tags"][0]]["operations"].append({
                "method": method.upper(), "path": path, "operation": operation,
                "parameters": parameters,
                "body": ref_name(body["schema"]) if body else None,
                "responses": [(status, *_response(document, node))
                              for status, node in operation["responses"].items()],
            })
    return list(sections.values())


def _response(document, node):
    """``(name of the shared response or None, description, schema name)``."""
    name, response = _resolved(document, node, "responses")
    content = next(iter(response.get("content", {}).values()), {})
    return name, response["description"], ref_name(content.get("schema", {}))


def _errors(document):
    return [(status, document["components"]["responses"][name])
            for status, (name, _response) in openapi.ERRORS.items()]


def _schema_groups(document):
    schemas = document["components"]["schemas"]
    groups = (("records", [*openapi.RECORDS, *openapi.WEBHOOK_RECORDS]),
              ("collections", ["Collection", *map(openapi.collection_name, openapi.COLLECTIONS)]),
              ("bodies", list(openapi.BODIES)),
              ("basics", list(openapi.BASICS)))
    return [(group, [(name, schemas[name]) for name in names]) for group, names in groups]
