"""The OpenAPI document for the submissions API, derived from the public forms."""

from flask import url_for
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField
from wtforms.validators import Length

from crm.forms.public import PUBLIC_FORMS
from crm.models.enums import FormKind

# Fields that exist for browsers only.
_BROWSER_ONLY = {"csrf_token", "form_token", "website"}


def _field_schema(field) -> dict:
    if isinstance(field, SelectMultipleField):
        return {
            "type": "array",
            "items": {"type": "string", "enum": [c.value for c in field.choices]},
        }
    if isinstance(field, RadioField | SelectField):
        schema = {"type": "string", "enum": [c.value for c in field.choices if c.value]}
        # What the form takes when the field is left out (best time, preferred language).
        return schema | ({"default": field.default} if field.default else {})
    if isinstance(field, BooleanField):
        return {"type": "boolean"}
    schema: dict = {"type": "string"}
    for validator in field.validators:
        if isinstance(validator, Length) and validator.max > 0:
            schema["maxLength"] = validator.max
    return schema


def _form_schema(kind: FormKind) -> dict:
    form = PUBLIC_FORMS[kind](formdata=None, meta={"csrf": False})
    properties, required = {}, []
    for field in form:
        if field.name in _BROWSER_ONLY:
            continue
        properties[field.name] = {"description": str(field.label.text), **_field_schema(field)}
        if field.flags.required:
            required.append(field.name)
    properties["visitor_ip"] = {
        "description": "The visitor's IP address, for the consent record and per-visitor limits",
        "type": "string",
        "format": "ip",
    }
    return {"type": "object", "properties": properties, "required": required}


def _operation(kind: FormKind) -> dict:
    ref = {"$ref": f"#/components/schemas/{kind.name}"}
    return {
        "post": {
            "summary": f"Submit the {kind.label.lower()} form",
            "operationId": f"submit_{kind.name}",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 190},
                    "description": (
                        "Scoped to the API key. The same key with the same body stores one"
                        " submission and answers 200; with another body, 409."
                    ),
                }
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
            "responses": {
                "201": {"description": "Stored", "content": _json("Received")},
                "200": {
                    "description": "Already stored under this Idempotency-Key",
                    "content": _json("Received"),
                },
                "401": {
                    "description": "No API key, or an unknown or revoked one",
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                    "content": _json("Errors"),
                },
                "409": {
                    "description": "This Idempotency-Key was already used with another body",
                    "content": _json("Errors"),
                },
                "422": {"description": "Invalid fields", "content": _json("Errors")},
                "429": {
                    "description": "Too many submits from this API key, visitor address, "
                    "email or phone; retry after the Retry-After seconds"
                },
            },
            "security": [{"bearer": []}],
        }
    }


def _json(schema_name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def openapi_document() -> dict:
    """Build the OpenAPI 3.1 document for the submissions API."""
    schemas = {kind.name: _form_schema(kind) for kind in PUBLIC_FORMS}
    schemas["Received"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "form": {"type": "string"},
            "status": {"type": "string"},
        },
        "required": ["id", "form", "status"],
    }
    schemas["Errors"] = {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
    paths = {f"/api/v1/submissions/{kind.value}": _operation(kind) for kind in PUBLIC_FORMS}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Advocate CRM submissions API", "version": "1"},
        "servers": [{"url": url_for("public.home", _external=True).rstrip("/")}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "An API key from `flask crm api-key create --name CLIENT`, sent as"
                        " `Authorization: Bearer KEY` by the client's server (never a browser)."
                    ),
                }
            },
        },
    }
