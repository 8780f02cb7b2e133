"""Every path of the config, reauth, reconfigure and options flows, against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
import socket
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.volcengine_aiot.api import DEFAULT_ENDPOINT
from custom_components.volcengine_aiot.const import (
    CONF_ACCESS_KEY_ID,
    CONF_ALARM_INTERVAL,
    CONF_AUDIO_TRANSCODE,
    CONF_ENDPOINT,
    CONF_FRAMING,
    CONF_GAIN_DB,
    CONF_MAX_DURATION,
    CONF_MOTION_QUIET,
    CONF_PREROLL,
    CONF_REGION,
    CONF_SECRET_ACCESS_KEY,
    CONF_SPACE_ID,
    CONF_STREAM_PROTOCOL,
    CONF_TAIL,
    CONF_TRANSPORT,
    DEFAULT_ALARM_INTERVAL,
    DEFAULT_MOTION_QUIET,
    DOMAIN,
    REGIONS,
)
from custom_components.volcengine_aiot.talk.options import (
    DEFAULT_FRAMING,
    DEFAULT_MAX_DURATION,
    DEFAULT_PREROLL,
    DEFAULT_TAIL,
    DEFAULT_TRANSPORT,
)
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_BIG_ID, SPACE_HOME_ID, SPACE_SHOP_ID


def user_input(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        CONF_ACCESS_KEY_ID: EMU_AK,
        CONF_SECRET_ACCESS_KEY: EMU_SK,
        CONF_REGION: "cn-north-1",
        "advanced": {CONF_ENDPOINT: emulator.url},
    }
    data.update(overrides)
    return data


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_user_flow(hass: HomeAssistant, emulator: Emulator) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, **{CONF_ACCESS_KEY_ID: f"  {EMU_AK} "})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "space"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SPACE_ID: SPACE_SHOP_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "shop"
    assert result["result"].unique_id == SPACE_SHOP_ID
    assert result["data"] == {
        CONF_ACCESS_KEY_ID: EMU_AK,
        CONF_SECRET_ACCESS_KEY: EMU_SK,
        CONF_REGION: "cn-north-1",
        CONF_ENDPOINT: emulator.url,
        CONF_SPACE_ID: SPACE_SHOP_ID,
    }
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"code": "InvalidAccessKey", "status": 401}, "invalid_auth"),
        ({"code": "SignatureDoesNotMatch", "status": 401}, "invalid_auth"),
        ({"code": "AccessDenied", "status": 403}, "no_permission"),
        ({"code": "InvalidTimestamp", "status": 400}, "clock_skew"),
        ({"body": b"<html>maintenance</html>", "status": 200}, "unknown"),
        ({"code": "FlowLimitExceeded", "status": 429, "times": 10}, "throttled"),
    ],
)
async def test_user_flow_errors_recover(
    hass: HomeAssistant, emulator: Emulator, fault: dict[str, Any], error: str
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    emulator.faults.add("ListSpaces", **{"times": 1, **fault})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    emulator.faults.clear()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["step_id"] == "space"


async def test_user_flow_wrong_secret_then_right(hass: HomeAssistant, emulator: Emulator) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, **{CONF_SECRET_ACCESS_KEY: "wrong"})
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["step_id"] == "space"


async def test_user_flow_cannot_connect_then_endpoint_fixed(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, advanced={CONF_ENDPOINT: closed_port_url()})
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, advanced={CONF_ENDPOINT: "ftp://example.com"})
    )
    assert result["errors"] == {"base": "invalid_endpoint"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["step_id"] == "space"


async def test_user_flow_no_spaces(hass: HomeAssistant, emulator: Emulator) -> None:
    saved = dict(emulator.state.spaces)
    emulator.state.spaces.clear()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["errors"] == {"base": "no_spaces"}
    emulator.state.spaces.update(saved)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["step_id"] == "space"


async def test_duplicate_space_aborts(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    """A space configured while the space form is open is refused on submit."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SPACE_ID: SPACE_HOME_ID}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_KEY_ID: EMU_AK, CONF_SECRET_ACCESS_KEY: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_KEY_ID: EMU_AK, CONF_SECRET_ACCESS_KEY: EMU_SK}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()  # the entry reload it scheduled
    assert mock_config_entry.data[CONF_SECRET_ACCESS_KEY] == EMU_SK
    assert mock_config_entry.data[CONF_SPACE_ID] == SPACE_HOME_ID


async def test_reauth_other_account(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    """A key that cannot see the entry's space is refused."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    emulator.state.spaces.pop(SPACE_HOME_ID)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_KEY_ID: EMU_AK, CONF_SECRET_ACCESS_KEY: EMU_SK}
    )
    assert result["errors"] == {"base": "space_not_found"}


async def test_reconfigure(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    emulator.faults.add("ListSpaces", code="AccessDenied", status=403)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, **{CONF_REGION: "cn-beijing"})
    )
    assert result["errors"] == {"base": "no_permission"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, **{CONF_REGION: "cn-beijing"})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()  # the entry reload it scheduled
    assert mock_config_entry.data[CONF_REGION] == "cn-beijing"
    assert mock_config_entry.data[CONF_SPACE_ID] == SPACE_HOME_ID


async def test_reconfigure_space_not_visible(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    emulator.state.spaces.pop(SPACE_HOME_ID)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["errors"] == {"base": "space_not_found"}


async def test_options_flow_reloads(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    entry = init_integration
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    options = {
        CONF_TRANSPORT: "udp",
        CONF_FRAMING: "raw_alaw",
        CONF_GAIN_DB: 6.0,
        CONF_MAX_DURATION: 60.0,
        CONF_PREROLL: 0.2,
        CONF_TAIL: 0.1,
        CONF_STREAM_PROTOCOL: "hls",
        CONF_AUDIO_TRANSCODE: True,
        CONF_ALARM_INTERVAL: 15,
        CONF_MOTION_QUIET: 45,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], options)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == options
    assert entry.state is ConfigEntryState.LOADED


def _as_the_frontend_fills(result: Any) -> dict[str, Any]:
    """Return what the frontend submits unchanged: the suggested value, else the default."""
    data: dict[str, Any] = {}
    for key in result["data_schema"].schema:
        suggested = (key.description or {}).get("suggested_value", vol.UNDEFINED)
        default = key.default() if callable(key.default) else vol.UNDEFINED
        data[str(key)] = default if suggested is vol.UNDEFINED else suggested
    return data


async def test_options_form_shows_defaults_for_unknown_stored_values(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Values a newer or older version stored are not offered: the form shows the defaults."""
    stored = {
        CONF_TRANSPORT: "quic",
        CONF_FRAMING: "opus_in_flv",
        CONF_GAIN_DB: 99.0,  # out of the form's range
        CONF_MAX_DURATION: "long",
        CONF_PREROLL: 0.2,  # valid: kept
        CONF_TAIL: 0.1,
        CONF_STREAM_PROTOCOL: "webrtc",
        CONF_AUDIO_TRANSCODE: "yes",
        CONF_ALARM_INTERVAL: "often",  # not a number
        CONF_MOTION_QUIET: 1,  # under the form's minimum
    }
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options=stored)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    shown = _as_the_frontend_fills(result)
    assert shown == {
        CONF_TRANSPORT: DEFAULT_TRANSPORT,
        CONF_FRAMING: DEFAULT_FRAMING,
        CONF_GAIN_DB: 0.0,
        CONF_MAX_DURATION: DEFAULT_MAX_DURATION,
        CONF_PREROLL: 0.2,
        CONF_TAIL: 0.1,
        CONF_STREAM_PROTOCOL: "flv",
        CONF_AUDIO_TRANSCODE: False,
        CONF_ALARM_INTERVAL: DEFAULT_ALARM_INTERVAL,
        CONF_MOTION_QUIET: DEFAULT_MOTION_QUIET,
    }
    assert "Unknown live view protocol 'webrtc': using flv" in caplog.text
    assert "Unknown talk transport 'quic': using tcp" in caplog.text
    # Submitted unchanged, the form is valid and stores the defaults.
    result = await hass.config_entries.options.async_configure(result["flow_id"], shown)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == shown


async def test_flow_over_http(hass: HomeAssistant, emulator: Emulator, hass_client: Any) -> None:
    """The forms serialize for the frontend (selectors, the collapsed section)."""
    for component in ("config", "media_source", "ffmpeg", "webhook"):  # before the server starts
        assert await async_setup_component(hass, component, {})
    client = await hass_client()
    response = await client.post(
        "/api/config/config_entries/flow", json={"handler": DOMAIN, "show_advanced_options": False}
    )
    assert response.status == 200
    form = await response.json()
    fields = {field["name"]: field for field in form["data_schema"]}
    assert fields[CONF_SECRET_ACCESS_KEY]["selector"]["text"]["type"] == "password"
    assert fields["advanced"]["type"] == "expandable"
    assert fields["advanced"]["expanded"] is False
    response = await client.post(
        f"/api/config/config_entries/flow/{form['flow_id']}", json=user_input(emulator)
    )
    assert response.status == 200
    form = await response.json()
    assert form["step_id"] == "space"
    options = form["data_schema"][0]["selector"]["select"]["options"]
    assert {option["value"] for option in options} >= {SPACE_HOME_ID, SPACE_SHOP_ID}
    response = await client.post(
        f"/api/config/config_entries/flow/{form['flow_id']}", json={CONF_SPACE_ID: SPACE_HOME_ID}
    )
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()


UNSAFE_INPUT = [
    pytest.param({CONF_ACCESS_KEY_ID: f"{EMU_AK}\r\nX-Injected: 1"}, "invalid_auth", id="ak-crlf"),
    pytest.param({CONF_ACCESS_KEY_ID: "AK/with,slash"}, "invalid_auth", id="ak-scope-chars"),
    pytest.param({CONF_SECRET_ACCESS_KEY: "sec\nret"}, "invalid_auth", id="sk-newline"),
    pytest.param({CONF_REGION: "cn-north-1\r\nX: 1"}, "invalid_region", id="region-crlf"),
    pytest.param(
        {"advanced": {CONF_ENDPOINT: "http://user:password@127.0.0.1:1"}},
        "invalid_endpoint",
        id="userinfo",
    ),
    pytest.param(
        {"advanced": {CONF_ENDPOINT: "http://127.0.0.1:1/?Action=x"}},
        "invalid_endpoint",
        id="query",
    ),
    pytest.param(
        {"advanced": {CONF_ENDPOINT: "http://127.0.0.1:1/#frag"}}, "invalid_endpoint", id="fragment"
    ),
    pytest.param(
        {"advanced": {CONF_ENDPOINT: "http://127.0.0.1:1/api"}}, "invalid_endpoint", id="path"
    ),
    pytest.param(
        {"advanced": {CONF_ENDPOINT: "http://127.0.0.1:99999"}}, "invalid_endpoint", id="port"
    ),
    pytest.param(
        {"advanced": {CONF_ENDPOINT: "http://exa mple.com"}}, "invalid_endpoint", id="space"
    ),
]


def _endpoint_fixed(emulator: Emulator, overrides: dict[str, Any]) -> dict[str, Any]:
    """Make the unsafe endpoints point at the emulator's port, so only their shape is wrong."""
    if "advanced" not in overrides:
        return overrides
    port = emulator.url.rsplit(":", 1)[1]
    endpoint = overrides["advanced"][CONF_ENDPOINT].replace(":1/", f":{port}/")
    return {"advanced": {CONF_ENDPOINT: endpoint}}


@pytest.mark.parametrize(("overrides", "error"), UNSAFE_INPUT)
async def test_unsafe_input_is_a_form_error_in_every_step(
    hass: HomeAssistant,
    emulator: Emulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    overrides: dict[str, Any],
    error: str,
) -> None:
    """Header-unsafe keys/regions and endpoints with userinfo/query/path never crash a form."""
    overrides = _endpoint_fixed(emulator, overrides)
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}

    if CONF_ACCESS_KEY_ID in overrides or CONF_SECRET_ACCESS_KEY in overrides:
        result = await mock_config_entry.start_reauth_flow(hass)
        keys = {CONF_ACCESS_KEY_ID: EMU_AK, CONF_SECRET_ACCESS_KEY: EMU_SK, **overrides}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], keys)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": error}

    assert emulator.requests == []  # refused before anything was sent
    assert not [record for record in caplog.records if record.exc_info]
    assert "Traceback" not in caplog.text


async def test_throttled_in_every_step(
    hass: HomeAssistant,
    emulator: Emulator,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mock_config_entry.add_to_hass(hass)
    emulator.faults.add("ListSpaces", code="FlowLimitExceeded", status=429, times=0)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["errors"] == {"base": "throttled"}
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_KEY_ID: EMU_AK, CONF_SECRET_ACCESS_KEY: EMU_SK}
    )
    assert result["errors"] == {"base": "throttled"}
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["errors"] == {"base": "throttled"}
    assert not [record for record in caplog.records if record.exc_info]


async def test_unexpected_answer_is_logged_without_traceback(
    hass: HomeAssistant, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.faults.add("ListSpaces", body=b"<html>maintenance</html>", status=200)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["errors"] == {"base": "unknown"}
    assert "not an OpenAPI envelope" in caplog.text
    assert not [record for record in caplog.records if record.exc_info]


async def test_space_step_checks_the_device_permission(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    """A key that may list spaces but not devices is refused before an entry exists."""
    emulator.deny("ListDevices")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["step_id"] == "space"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SPACE_ID: SPACE_HOME_ID}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "space"
    assert result["errors"] == {"base": "no_permission"}
    assert result["description_placeholders"]["permission"] == "ListDevices"
    assert hass.config_entries.async_entries(DOMAIN) == []

    emulator.allow("ListDevices")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SPACE_ID: SPACE_HOME_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_user_step_names_the_missing_list_permission(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    emulator.deny("ListSpaces")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["errors"] == {"base": "no_permission"}
    assert result["description_placeholders"]["permission"] == "ListSpaces"


async def test_reauth_and_reconfigure_check_the_device_permission(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    """The reauth loop: a key that cannot list the space's devices is not accepted again."""
    mock_config_entry.add_to_hass(hass)
    emulator.deny("ListDevices")
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_KEY_ID: EMU_AK, CONF_SECRET_ACCESS_KEY: EMU_SK}
    )
    assert result["errors"] == {"base": "no_permission"}
    assert result["description_placeholders"]["permission"] == "ListDevices"

    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["errors"] == {"base": "no_permission"}
    assert result["description_placeholders"]["permission"] == "ListDevices"
    assert [r.query["PageSize"] for r in emulator.requests_for("ListDevices")] == ["1", "1"]


# --- first-run polish (issue 11) --------------------------------------------------------------


def _space_field(result: Any) -> tuple[Any, list[dict[str, str]]]:
    """Return the space field's schema key and its select options."""
    ((key, selector),) = result["data_schema"].schema.items()
    return key, selector.config["options"]


async def test_space_step_leaves_configured_spaces_out(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    """Configured spaces are not offered; with several left nothing is pre-selected."""
    mock_config_entry.add_to_hass(hass)  # home
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    key, options = _space_field(result)
    assert SPACE_HOME_ID not in {option["value"] for option in options}
    assert {option["label"] for option in options} == {"shop", "big"}  # names, no UUIDs
    assert key.default is vol.UNDEFINED
    # Optional: the frontend fills a required select with its first option.
    assert isinstance(key, vol.Optional)
    assert not isinstance(key, vol.Required)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM  # nothing chosen is not "the first space"
    assert result["step_id"] == "space"
    assert result["errors"] == {"space_id": "space_required"}
    assert not hass.config_entries.async_entries(DOMAIN)[1:]  # only the mock entry
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"space_id": SPACE_SHOP_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "shop"


async def test_space_step_preselects_the_only_space_left(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    emulator.state.spaces.pop(SPACE_BIG_ID)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    key, options = _space_field(result)
    assert options == [{"value": SPACE_SHOP_ID, "label": "shop"}]
    assert key.default() == SPACE_SHOP_ID


async def test_space_step_aborts_when_every_space_is_configured(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    for space_id in list(emulator.state.spaces):
        MockConfigEntry(domain=DOMAIN, unique_id=space_id, data={}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "all_spaces_configured"


async def test_space_labels_tell_equal_names_apart(hass: HomeAssistant, emulator: Emulator) -> None:
    emulator.state.spaces[SPACE_SHOP_ID]["SpaceName"] = "home"
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    _, options = _space_field(result)
    labels = {option["value"]: option["label"] for option in options}
    assert labels == {
        SPACE_HOME_ID: f"home (…{SPACE_HOME_ID[-4:]})",
        SPACE_SHOP_ID: f"home (…{SPACE_SHOP_ID[-4:]})",
        SPACE_BIG_ID: "big",
    }


async def test_reconfigure_empty_secret_keeps_the_stored_one(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    """Changing only the region needs no secret; the stored one is used to validate."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    new = user_input(emulator, **{CONF_REGION: "cn-beijing"})
    del new[CONF_SECRET_ACCESS_KEY]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert mock_config_entry.data[CONF_SECRET_ACCESS_KEY] == EMU_SK
    assert mock_config_entry.data[CONF_REGION] == "cn-beijing"
    assert emulator.requests_for("ListSpaces")[0].headers["Authorization"]


async def test_reconfigure_empty_secret_is_validated(
    hass: HomeAssistant, emulator: Emulator, entry_data: dict[str, Any]
) -> None:
    """A stored secret that no longer works is not kept silently."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SPACE_HOME_ID,
        data={**entry_data, CONF_SECRET_ACCESS_KEY: "revoked"},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(emulator, **{CONF_SECRET_ACCESS_KEY: ""})
    )
    assert result["errors"] == {"base": "invalid_auth"}


async def test_form_error_keeps_values_and_opens_advanced(
    hass: HomeAssistant, emulator: Emulator, hass_client: Any
) -> None:
    """After an error the typed endpoint is shown in an open Advanced section (frontend view)."""
    for component in ("config", "media_source", "ffmpeg", "webhook"):
        assert await async_setup_component(hass, component, {})
    client = await hass_client()
    response = await client.post(
        "/api/config/config_entries/flow", json={"handler": DOMAIN, "show_advanced_options": False}
    )
    form = await response.json()
    url = f"/api/config/config_entries/flow/{form['flow_id']}"

    closed = closed_port_url()
    typed = user_input(emulator, **{CONF_REGION: "cn-beijing"}, advanced={CONF_ENDPOINT: closed})
    form = await (await client.post(url, json=typed)).json()
    assert form["errors"] == {"base": "cannot_connect"}
    fields = {field["name"]: field for field in form["data_schema"]}
    assert fields["advanced"]["expanded"] is True
    (endpoint,) = fields["advanced"]["schema"]
    assert endpoint["description"]["suggested_value"] == closed
    assert fields[CONF_REGION]["description"]["suggested_value"] == "cn-beijing"
    assert fields[CONF_ACCESS_KEY_ID]["description"]["suggested_value"] == EMU_AK
    assert "description" not in fields[CONF_SECRET_ACCESS_KEY]  # the secret is never echoed

    typed = user_input(  # refused before anything is sent: the real cloud is never asked
        emulator, **{CONF_ACCESS_KEY_ID: "AK\nX"}, advanced={CONF_ENDPOINT: DEFAULT_ENDPOINT}
    )
    form = await (await client.post(url, json=typed)).json()
    assert form["errors"] == {"base": "invalid_auth"}
    fields = {field["name"]: field for field in form["data_schema"]}
    assert fields["advanced"]["expanded"] is False  # default endpoint: nothing hidden


async def test_every_placeholder_of_a_form_is_filled(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    """The strings of each step (and the form errors) get every placeholder they name.

    The default endpoint is one (hassfest allows no URL in translations): an unfilled
    placeholder would show as {default_endpoint} in the form.
    """
    forms = []
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    forms.append(result)
    forms.append(
        await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
    )
    mock_config_entry.add_to_hass(hass)
    forms.append(await mock_config_entry.start_reconfigure_flow(hass))
    forms.append(await mock_config_entry.start_reauth_flow(hass))
    placeholder = re.compile(r"\{(\w+)\}")
    for language in ("en", "zh-Hans"):
        config = _translations(language)["config"]
        errors = "".join(text for _, text in _strings(config["error"]))
        for form in forms:
            assert form["type"] is FlowResultType.FORM
            step = "".join(text for _, text in _strings(config["step"][form["step_id"]]))
            wanted = set(placeholder.findall(step + errors))
            assert wanted <= set(form["description_placeholders"] or {}), form["step_id"]
    (user, _, reconfigure, _) = forms
    for form in (user, reconfigure):
        assert form["description_placeholders"]["default_endpoint"] == DEFAULT_ENDPOINT
        text = _translations("en")["config"]["step"][form["step_id"]]["sections"]["advanced"]
        assert text["data_description"][CONF_ENDPOINT].startswith("Default: `{default_endpoint}`")


def test_the_form_says_the_secret_is_typed_again_after_an_error() -> None:
    """The typed SecretAccessKey is never sent back: the form says so where it is typed."""
    again = {"en": "enter it again", "zh-Hans": "请重新输入"}
    for language, words in again.items():
        steps = _translations(language)["config"]["step"]
        for step in ("user", "reauth_confirm", "reconfigure"):
            assert words in steps[step]["data_description"][CONF_SECRET_ACCESS_KEY], step


async def test_reconfigure_opens_advanced_for_a_custom_endpoint(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    sections = [v for v in result["data_schema"].schema.values() if isinstance(v, section)]
    assert sections[0].options["collapsed"] is False  # the emulator's endpoint is not the default


async def test_reauth_error_keeps_the_typed_key(
    hass: HomeAssistant, emulator: Emulator, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_KEY_ID: "AKLTother", CONF_SECRET_ACCESS_KEY: "x"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    keys = {key.schema: key for key in result["data_schema"].schema}
    assert keys[CONF_ACCESS_KEY_ID].description == {"suggested_value": "AKLTother"}
    assert keys[CONF_SECRET_ACCESS_KEY].description is None


TRANSLATIONS = Path(__file__).parent.parent / "custom_components" / DOMAIN / "translations"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Proper nouns, product names, units and codes that stay in Latin script in Chinese text.
LATIN_IN_CHINESE = {
    "A-law",
    "AccessKey",
    "AIoT",
    "Assistant",
    "dB",
    "FLV",
    "G.711",
    "GB/T",
    "Hikvision",
    "Home",
    "HTTP",
    "ID",
    "MP3",
    "NTP",
    "OpenAPI",
    "SecretAccessKey",
    "TCP",
    "TTS",
    "UDP",
    "URL",
    "Video",
    "Volcengine",
    "http",
    "https",
    "WAV",
    "WebSocket",
    "ffmpeg",
    "s",
    "stream",  # Home Assistant's stream integration, by its name
    "Transport",
}


def _strings(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, f"{path}.{key}" if path else key)
    else:
        yield path, str(data)


def _translations(language: str) -> dict[str, Any]:
    return json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))


def test_english_strings_have_no_chinese() -> None:
    found = [key for key, text in _strings(_translations("en")) if CJK.search(text)]
    assert found == []


def test_chinese_strings_have_no_english_words() -> None:
    """Only proper nouns and codes stay in Latin script (an action, a parameter, a host)."""
    found = []
    for key, raw in _strings(_translations("zh-Hans")):
        text = re.sub(r"\{\w+\}|`[^`]*`|https?://\S+", "", raw)  # placeholders, code, URLs
        for word in re.findall(r"[A-Za-z][A-Za-z0-9_./+-]*", text):
            code = (
                re.search(r"[0-9_.]|[a-z][A-Z]", word) or word.isupper()
            )  # cn-north-1, aiotvideo:X
            if word not in LATIN_IN_CHINESE and not code and not word.startswith("aiotvideo"):
                found.append(f"{key}: {word}")
    assert found == []


async def test_region_labels_agree_with_the_closed_field(
    hass: HomeAssistant, emulator: Emulator
) -> None:
    """A custom-value dropdown shows the raw value when closed: the list shows the same."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    region = next(v for k, v in result["data_schema"].schema.items() if k == CONF_REGION)
    assert region.config.get("translation_key") is None
    assert region.config["options"] == list(REGIONS)
    for language in ("en", "zh-Hans"):
        assert CONF_REGION not in _translations(language).get("selector", {})


def test_urls_in_forms_are_plain_text() -> None:
    """A bare URL in a form description renders as a link to a raw API: code, not a link."""
    for language in ("en", "zh-Hans"):
        data = _translations(language)
        for key, text in _strings({"config": data["config"], "options": data["options"]}):
            assert not re.search(r"(?<!`)https?://", text), f"{language}: {key}"


def test_option_defaults_are_marked_consistently() -> None:
    """Every default option is marked "(default)", no other one; numbers name their default."""
    marks = {"en": "(default)", "zh-Hans": "\uff08默认\uff09"}  # full-width parentheses
    defaults = {CONF_TRANSPORT: DEFAULT_TRANSPORT, CONF_FRAMING: DEFAULT_FRAMING}
    numbers = {
        CONF_GAIN_DB: "0 dB",
        CONF_MAX_DURATION: str(DEFAULT_MAX_DURATION),
        CONF_PREROLL: str(DEFAULT_PREROLL),
        CONF_TAIL: str(DEFAULT_TAIL),
    }
    for language, mark in marks.items():
        data = _translations(language)
        for selector, default in defaults.items():
            for value, label in data["selector"][selector]["options"].items():
                assert (mark in label) is (value == default), f"{language}: {selector}.{value}"
        descriptions = data["options"]["step"]["init"]["data_description"]
        for option, default in numbers.items():
            assert default in descriptions[option], f"{language}: {option}"


def test_gain_combination_is_explained() -> None:
    """Volume (slider), output gain (options) and per-call gain (action) are related in text."""
    en = _translations("en")
    option = en["options"]["step"]["init"]["data_description"][CONF_GAIN_DB]
    field = en["services"]["play_audio"]["fields"]["gain_db"]["description"]
    assert "play_audio" in option
    assert "volume" in option
    assert "output gain" in field
    assert "volume" in field
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "10^((output gain + per-call gain) / 20)" in readme
