"""HSDS 3.0 under /hsds/: every answer validates against the published HSDS 3.0 JSON schemas
(loaded from the configured standards directory, ``compiled/`` for nested objects)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mapservice.interop.hsds import mapping
from mapservice.models import Offer


class Schemas:
    """The HSDS 3.0 schemas of ``<STANDARDS_DIR>/hsds-3.0/schema``."""

    def __init__(self, standards_dir: Path) -> None:
        self.root = standards_dir / "hsds-3.0" / "schema"
        assert (self.root / "compiled" / "service.json").exists(), self.root
        resources = [
            (path.name, Resource.from_contents(self.load(path.name), DRAFT202012))
            for path in self.root.glob("*.json")
        ]
        self.registry: Registry = Registry().with_resources(resources)
        openapi = self.load("openapi.json")
        self.page = openapi["components"]["schemas"]["Page"]
        self.root_answer = openapi["paths"]["/"]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]

    def load(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / name).read_text())
        return data

    def validate(self, instance: Any, schema: dict[str, Any]) -> None:
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=FormatChecker()
        )
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

    def paged(self, items_schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "allOf": [self.page],
            "required": ["total_items", "total_pages", "page_number", "size", "contents"],
            "properties": {"contents": {"type": "array", "items": items_schema}},
        }


@pytest.fixture
def schemas(app: Flask) -> Schemas:
    return Schemas(Path(app.config["STANDARDS_DIR"]))


def test_root_names_version_and_profile(client: FlaskClient, schemas: Schemas) -> None:
    body = client.get("/hsds/").get_json()
    schemas.validate(body, schemas.root_answer)
    assert body["version"] == "3.0" and body["openapi_url"].endswith("openapi.json")


def test_services_pages_validate_and_cover_every_offer(
    client: FlaskClient, db_session: Session, schemas: Schemas
) -> None:
    total = db_session.scalar(select(func.count(Offer.id)))
    schema = schemas.paged(schemas.load("compiled/service_list.json"))
    seen: list[str] = []
    page = 1
    while True:
        body = client.get(f"/hsds/services?per_page=40&page={page}").get_json()
        schemas.validate(body, schema)
        assert body["total_items"] == total
        seen += [service["id"] for service in body["contents"]]
        if body["last_page"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total
    assert body["total_pages"] == page


def test_full_service_is_nested_and_valid(
    client: FlaskClient, db_session: Session, schemas: Schemas
) -> None:
    schema = schemas.load("compiled/service.json")
    offer = db_session.scalars(
        select(Offer).where(Offer.site_id.is_not(None), Offer.schedule.any()).limit(1)
    ).one()
    sid = mapping.service_id(offer)
    body = client.get(f"/hsds/services/{sid}").get_json()
    schemas.validate(body, schema)
    assert body["name"] == offer.title
    (place,) = body["service_at_locations"]
    assert place["location"]["latitude"] and place["location"]["longitude"]
    assert len(body["schedules"]) == len(offer.schedule)
    first = body["schedules"][0]
    assert first["freq"] == "WEEKLY" and first["byday"] in mapping.DAYS
    assert first["opens_at"] == offer.schedule[0].start_time.strftime("%H:%M")
    months = {a["taxonomy_term"]["code"]: a["value"] for a in body["attributes"]}
    assert months["age_min_months"] == str(offer.age_min_months)
    assert months["age_max_months"] == str(offer.age_max_months)
    assert body["minimum_age"] == round(offer.age_min_months / 12, 2)
    assert {lang["code"] for lang in body["languages"]} == set(offer.languages)


def test_welcome_visit_has_a_service_area(
    client: FlaskClient, db_session: Session, schemas: Schemas
) -> None:
    offer = db_session.scalars(select(Offer).where(Offer.site_id.is_(None)).limit(1)).one()
    body = client.get(f"/hsds/services/{mapping.service_id(offer)}").get_json()
    schemas.validate(body, schemas.load("compiled/service.json"))
    (area,) = body["service_areas"]
    assert area["extent_type"] == "geojson"
    assert json.loads(area["extent"])["type"] == "MultiPolygon"
    assert body["service_at_locations"] == []


def test_every_service_validates_in_the_ndjson_export(
    client: FlaskClient, db_session: Session, schemas: Schemas
) -> None:
    answer = client.get("/hsds/services?format=ndjson")
    assert answer.mimetype == "application/x-ndjson"
    lines = answer.get_data(as_text=True).splitlines()
    assert len(lines) == db_session.scalar(select(func.count(Offer.id)))
    schema = schemas.load("compiled/service.json")
    for line in lines:
        schemas.validate(json.loads(line), schema)


def test_unknown_cost_and_registration_claim_nothing(
    client: FlaskClient, db_session: Session
) -> None:
    offer = db_session.scalars(select(Offer).limit(1)).one()
    # Not known (the three-valued facts of a parallel branch): no claim at all.
    db_session.execute(
        text(
            "ALTER TABLE offer ALTER COLUMN cost_free DROP NOT NULL, "
            "ALTER COLUMN registration_required DROP NOT NULL"
        )
    )
    offer.cost_free = None  # type: ignore[assignment]
    offer.registration_required = None  # type: ignore[assignment]
    offer.cost_text = None
    db_session.commit()
    body = client.get(f"/hsds/services/{mapping.service_id(offer)}").get_json()
    assert body["cost_options"] == []
    assert "application_process" not in body and "fees_description" not in body
    offer.cost_free = True
    offer.registration_required = True
    db_session.commit()
    body = client.get(f"/hsds/services/{mapping.service_id(offer)}").get_json()
    assert body["cost_options"][0]["amount"] == 0
    assert body["application_process"] == "Anmeldung erforderlich"


def test_ids_are_stable_uuids_from_our_keys(client: FlaskClient, db_session: Session) -> None:
    offer = db_session.scalars(select(Offer).where(~Offer.schedule.any()).limit(1)).one()
    expected = uuid.uuid5(mapping.NAMESPACE, f"service|{offer.source_dataset}|{offer.source_id}")
    assert mapping.service_id(offer) == str(expected)
    # A re-import gives the row a new database id but the same source key: the same UUID.
    offer.id = offer.id + 100_000
    db_session.commit()
    assert client.get(f"/hsds/services/{expected}").get_json()["id"] == str(expected)


def test_filters_search_taxonomy_modified_after(
    client: FlaskClient, db_session: Session, schemas: Schemas
) -> None:
    term = next(t for t in mapping.taxonomy_terms() if t["code"] == "day_care")
    body = client.get(f"/hsds/services?taxonomy_term_id={term['id']}&per_page=500").get_json()
    expected = db_session.scalar(select(func.count()).where(Offer.category == "day_care"))
    assert body["total_items"] == expected > 0
    phase = next(t for t in mapping.taxonomy_terms() if t["code"] == "phase:0-2")
    babies = client.get(f"/hsds/services?taxonomy_term_id={phase['id']}&per_page=500").get_json()
    for item in babies["contents"]:
        assert item["minimum_age"] < 2
    offer = db_session.scalars(select(Offer).order_by(Offer.id).limit(1)).one()
    found = client.get(f"/hsds/services?search={offer.title[:12]}").get_json()
    assert mapping.service_id(offer) in [s["id"] for s in found["contents"]]
    # The trigger moves updated_at when an offer changes; nothing else changed since then.
    db_session.execute(text("UPDATE offer SET updated_at = now() - interval '1 day'"))
    db_session.execute(text("UPDATE site SET updated_at = now() - interval '1 day'"))
    db_session.commit()
    db_session.refresh(offer)
    offer.title = offer.title + " (neu)"
    db_session.commit()
    since = db_session.scalar(text("SELECT (now() - interval '1 minute')::text"))
    changed = client.get("/hsds/services", query_string={"modified_after": since}).get_json()
    assert [s["id"] for s in changed["contents"]] == [mapping.service_id(offer)]
    schemas.validate(changed, schemas.paged(schemas.load("compiled/service_list.json")))


def test_organizations_and_taxonomies_validate(client: FlaskClient, schemas: Schemas) -> None:
    orgs = client.get("/hsds/organizations").get_json()
    schemas.validate(orgs, schemas.paged(schemas.load("compiled/organization_list.json")))
    assert orgs["total_items"] > 0
    one = client.get(f"/hsds/organizations/{orgs['contents'][0]['id']}").get_json()
    schemas.validate(one, schemas.load("compiled/organization.json"))
    taxonomies = client.get("/hsds/taxonomies").get_json()
    schemas.validate(taxonomies, schemas.paged(schemas.load("taxonomy.json")))
    terms = client.get("/hsds/taxonomy_terms?per_page=100").get_json()
    schemas.validate(terms, schemas.paged(schemas.load("taxonomy_term.json")))
    codes = {term["code"] for term in terms["contents"]}
    assert {"day_care", "welcome_visit", "phase:0-2", "age_min_months"} <= codes
    term = terms["contents"][0]
    schemas.validate(
        client.get(f"/hsds/taxonomy_terms/{term['id']}").get_json(),
        schemas.load("taxonomy_term.json"),
    )
    schemas.validate(
        client.get(f"/hsds/taxonomies/{term['taxonomy_id']}").get_json(),
        schemas.load("taxonomy.json"),
    )


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=0", "page"),
        ("per_page=100000", "per_page"),
        ("modified_after=yesterday", "modified_after"),
        ("taxonomy_term_id=nope", "taxonomy_term_id"),
        ("format=xml", "format"),
        ("minimal=true", "minimal"),
    ],
)
def test_bad_parameters_name_themselves(client: FlaskClient, query: str, parameter: str) -> None:
    answer = client.get(f"/hsds/services?{query}")
    assert answer.status_code == 400
    assert answer.get_json()["parameter"] == parameter


def test_unknown_ids_answer_404(client: FlaskClient) -> None:
    for path in ("services", "organizations", "taxonomies", "taxonomy_terms"):
        assert client.get(f"/hsds/{path}/{uuid.uuid4()}").status_code == 404
        assert client.get(f"/hsds/{path}/not-a-uuid").status_code == 404


def test_a_changed_time_slot_moves_the_offers_last_modified(db_session: Session) -> None:
    offer = db_session.scalars(select(Offer).where(Offer.schedule.any()).limit(1)).one()
    db_session.execute(
        text("UPDATE offer SET updated_at = now() - interval '1 day' WHERE id = :id"),
        {"id": offer.id},
    )
    db_session.execute(
        text("UPDATE offer SET status = status WHERE id = :id"), {"id": offer.id}
    )  # no change: the time stays
    stale = db_session.scalar(
        text("SELECT now() - updated_at > interval '1 hour' FROM offer WHERE id = :id"),
        {"id": offer.id},
    )
    assert stale
    db_session.execute(
        text("DELETE FROM schedule_slot WHERE id = :id"), {"id": offer.schedule[0].id}
    )
    moved = db_session.scalar(
        text("SELECT updated_at = now() FROM offer WHERE id = :id"), {"id": offer.id}
    )
    assert moved
