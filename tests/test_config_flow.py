"""Every path of the config, reauth, reconfigure and options flows, against the emulator."""

from __future__ import annotations

import socket
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.volcengine_aiot.api import client as api_client
from custom_components.volcengine_aiot.const import (
    CONF_ACCESS_KEY_ID,
    CONF_AUDIO_TRANSCODE,
    CONF_ENDPOINT,
    CONF_FRAMING,
    CONF_GAIN_DB,
    CONF_MAX_DURATION,
    CONF_PREROLL,
    CONF_REGION,
    CONF_SECRET_ACCESS_KEY,
    CONF_SPACE_ID,
    CONF_STREAM_PROTOCOL,
    CONF_TAIL,
    CONF_TRANSPORT,
    DOMAIN,
)
from tests.emulator.app import Emulator
from tests.emulator.data import EMU_AK, EMU_SK, SPACE_HOME_ID, SPACE_SHOP_ID


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_client, "_BACKOFF_BASE", 0.0)


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
        ({"code": "FlowLimitExceeded", "status": 429, "times": 10}, "unknown"),
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
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(emulator))
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
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], options)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == options
    assert entry.state is ConfigEntryState.LOADED


async def test_flow_over_http(hass: HomeAssistant, emulator: Emulator, hass_client: Any) -> None:
    """The forms serialize for the frontend (selectors, the collapsed section)."""
    for component in ("config", "media_source", "ffmpeg"):  # before the test server starts
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
