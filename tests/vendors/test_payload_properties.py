"""Every vendor answer and webhook body model, fed random JSON and random bytes: the only
error is pydantic's ValidationError (which VendorHttp turns into a temporary vendor error
naming where the body broke), never a crash of our own validators."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

import vendors.codegames
import vendors.g2a
import vendors.g2a_import
import vendors.kinguin
import vendors.kinguin_integration
from vendors.payload import Payload

MODULES = (
    vendors.codegames,
    vendors.g2a,
    vendors.g2a_import,
    vendors.kinguin,
    vendors.kinguin_integration,
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)


def payload_models() -> list[type[Payload]]:
    found: list[type[Payload]] = []
    pending = list(Payload.__subclasses__())
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if model.__module__ in {module.__name__ for module in MODULES}:
            found.append(model)
    return sorted(found, key=lambda model: f"{model.__module__}.{model.__name__}")


MODELS = payload_models()


def test_every_vendor_has_its_models_here() -> None:
    assert {model.__module__ for model in MODELS} == {module.__name__ for module in MODULES}


def keys_of(model: type[Payload]) -> st.SearchStrategy[str]:
    """Field names (and their aliases) as keys: random bodies that look like the model's."""
    names = set(model.model_fields)
    names |= {field.alias for field in model.model_fields.values() if field.alias}
    return st.sampled_from(sorted(names)) | st.text(max_size=12)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: f"{model.__module__}.{model.__name__}")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_bodies_raise_only_validation_errors(model: type[Payload], data: st.DataObject):
    shaped = st.dictionaries(keys_of(model), JSON, max_size=8)
    body = data.draw(shaped | JSON, label="body")
    adapter = TypeAdapter(model)
    for raw in (json.dumps(body).encode(), data.draw(st.binary(max_size=40), label="bytes")):
        with contextlib.suppress(ValidationError):
            adapter.validate_json(raw)
