"""The interface itself: one set of names and signatures, what each target accepts, the shared types."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pandas as pd
import pytest
import restate

import restate_lab
from restate_lab import (
    Catalogue,
    InvocationTimeout,
    LocalRestate,
    NotSupportedByTarget,
    RestateError,
    SimulatedRestate,
    Simulation,
    connect,
)
from restate_lab.api import IngressApi
from restate_lab.cli import TargetError
from restate_lab.runtime.frames import INVOCATION_COLUMNS, invocations_frame
from restate_lab.server import RestateClient
from tests.api import apps

TARGET_CLASSES = [LocalRestate, RestateClient, SimulatedRestate]
PROTOCOL_METHODS = sorted(
    name for name, member in vars(IngressApi).items() if callable(member) and not name.startswith("_")
)

#: The admin API's ``GET /services`` answer from Restate Server 1.7.12 (trimmed to the fields read).
REAL_SERVICES_BODY = {
    "services": [
        {
            "name": "Counter",
            "ty": "VirtualObject",
            "handlers": [
                {
                    "name": "add",
                    "ty": "Exclusive",
                    "public": True,
                    "input_description": "JSON integer",
                    "output_description": "JSON integer",
                    "input_json_schema": {"type": "integer"},
                    "output_json_schema": {"type": "integer"},
                    "retry_policy": {"max_attempts": None},
                }
            ],
            "deployment_id": "dp_12BbMusN6COCnoqi7Lp2OZj",
            "revision": 1,
            "public": True,
        },
        {
            "name": "Greeter",
            "ty": "Service",
            "handlers": [
                {
                    "name": "greet",
                    "public": True,
                    "input_description": "JSON string",
                    "output_description": "JSON string",
                    "input_json_schema": {"type": "string"},
                    "output_json_schema": {"type": "string"},
                }
            ],
            "deployment_id": "dp_12BbMusN6COCnoqi7Lp2OZj",
            "revision": 1,
            "public": True,
        },
    ]
}


@pytest.mark.parametrize("cls", TARGET_CLASSES, ids=lambda c: c.__name__)
def test_every_target_has_every_method_with_the_protocols_signature(cls: type) -> None:
    """Each target implements every IngressApi method under the same name with the same parameters."""
    for name in PROTOCOL_METHODS:
        assert hasattr(cls, name), f"{cls.__name__} lacks {name}"
        expected = inspect.signature(getattr(IngressApi, name)).parameters
        actual = inspect.signature(getattr(cls, name)).parameters
        assert [(p.name, p.kind) for p in actual.values()] == [(p.name, p.kind) for p in expected.values()], name
        if name.startswith("a") and name[1:] in PROTOCOL_METHODS:
            assert inspect.iscoroutinefunction(getattr(cls, name)), f"{cls.__name__}.{name} is not awaitable"


@pytest.mark.parametrize("old", ["workflow_attach", "workflow_output", "idempotent_attach", "invocations_by_id"])
def test_drifted_names_are_gone(old: str) -> None:
    """The names that meant the same operation under another spelling no longer exist on any target."""
    assert not any(hasattr(cls, old) for cls in TARGET_CLASSES)


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(apps.greeter, id="a service"),
        pytest.param([apps.greeter, apps.counter], id="a list of services"),
        pytest.param(restate.app([apps.greeter]), id="an app"),
    ],
)
def test_local_restate_accepts_what_restate_lab_serve_accepts(given: object) -> None:
    """``LocalRestate(service)``, ``LocalRestate([a, b])`` and ``LocalRestate(app)`` all serve."""
    with LocalRestate(given) as lab:
        assert lab.call("Greeter", "greet", "Ada") == "Hello Ada!"


def test_local_restate_refuses_what_is_not_services_with_a_clear_error() -> None:
    """Something that is no app and no service is refused with a message naming what is accepted."""
    with pytest.raises(TargetError, match="neither an app from restate.app"):
        LocalRestate(42)


def test_connect_opens_the_target_that_fits() -> None:
    """connect(): services → LocalRestate, a file:attr → LocalRestate, a Simulation → SimulatedRestate, a URL →
    RestateClient, a target → itself."""
    with connect(apps.services) as lab:
        assert isinstance(lab, LocalRestate)
        assert connect(lab) is lab
        sim = connect(Simulation(lab.catalogue()))
        assert isinstance(sim, SimulatedRestate) and sim.call("Greeter", "greet", "x") is None
    with connect("tests/api/apps.py:services") as from_file:
        assert from_file.call("Greeter", "greet", "Bo") == "Hello Bo!"
    client = connect("http://127.0.0.1:1", admin_url="http://127.0.0.1:2")
    assert isinstance(client, RestateClient) and client.admin_url == "http://127.0.0.1:2"
    client.close()
    with pytest.raises(TypeError, match="admin_url"):
        connect(apps.services, admin_url="http://127.0.0.1:2")


def test_client_without_admin_url_says_what_it_cannot_do() -> None:
    """Without ``admin_url`` the admin-backed methods raise NotSupportedByTarget saying how to fix it."""
    with RestateClient("http://127.0.0.1:1") as client, pytest.raises(NotSupportedByTarget, match="admin_url"):
        client.invocations()


def test_catalogue_reads_the_real_servers_get_services_answer() -> None:
    """Catalogue.from_admin takes the admin API's own answer, kinds spelled 'Service'/'VirtualObject'."""
    cat = Catalogue.from_admin(REAL_SERVICES_BODY)
    assert [(s.name, s.kind, s.keyed) for s in cat] == [
        ("Counter", "VirtualObject", True),
        ("Greeter", "Service", False),
    ]
    add = cat.handler("Counter", "add")
    assert add is not None and (add.kind, add.takes_lock, add.input_schema) == ("Exclusive", True, {"type": "integer"})
    assert cat.to_admin() == REAL_SERVICES_BODY["services"]
    sim = SimulatedRestate(Simulation(cat))
    assert sim.send("Counter", "add", 1, key="a").status == "Accepted"


def test_catalogue_refuses_what_is_not_an_admin_entry() -> None:
    """An entry without a known kind is a ValueError naming the entry and the accepted kinds."""
    with pytest.raises(ValueError, match="not an admin GET /services entry"):
        Catalogue.from_admin([{"name": "X", "ty": "Gadget", "handlers": []}])


def test_frames_fill_missing_columns_and_parse_timestamps_as_utc() -> None:
    """A sparse row (the real server leaves nulls out) becomes a full row; strings and epoch ms become UTC."""
    frame = invocations_frame([{"id": "inv_1", "created_at": "2026-11-29T09:47:10.017Z", "retry_count": 2}])
    assert tuple(frame.columns) == INVOCATION_COLUMNS
    assert frame["created_at"].iloc[0] == pd.Timestamp("2026-11-29T09:47:10.017Z")
    assert str(frame["modified_at"].dt.tz) == "UTC" and pd.isna(frame["modified_at"].iloc[0])
    epoch = invocations_frame([{"id": "inv_2", "created_at": 1_796_184_431_764}])
    assert epoch["created_at"].iloc[0] == pd.Timestamp(1_796_184_431_764, unit="ms", tz="UTC")


def test_interface_errors_are_the_documented_types() -> None:
    """InvocationTimeout is a TimeoutError; NotSupportedByTarget is a RestateError with code 501."""
    assert issubclass(InvocationTimeout, TimeoutError)
    error = NotSupportedByTarget("SimulatedRestate", "state", "no state")
    assert isinstance(error, RestateError) and error.code == 501 and "SimulatedRestate" in str(error)
    assert {"InvocationTimeout", "NotSupportedByTarget", "connect"} <= set(restate_lab.__all__)


def test_the_interface_modules_import_without_pandas() -> None:
    """The interface, the client and the frames helpers import pandas only when a frame is built."""
    code = (
        "import sys; import restate_lab.api, restate_lab.catalogue, restate_lab.runtime.frames, "
        "restate_lab.server.client, restate_lab.runtime.local; print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
