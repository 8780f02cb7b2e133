"""Alarm push: the emulator POSTs its documented callback to the integration's webhook.

The webhook runs on Home Assistant's test HTTP server on 127.0.0.1; no clock is moved here, so
an event that fires came through the push (a poll asked for by the callback), not the timer.
"""

from __future__ import annotations

import base64
from datetime import timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.volcengine_aiot.alarms import push_issue_id
from custom_components.volcengine_aiot.const import DOMAIN
from tests.emulator.app import Emulator
from tests.emulator.data import HOME_IPC_CHANNEL_ID, HOME_IPC_ID, HOME_IPC_NSID, SPACE_HOME_ID


@pytest.fixture
def platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("custom_components.volcengine_aiot.PLATFORMS", [Platform.EVENT])


@pytest.fixture
async def pushed(
    hass: HomeAssistant,
    emulator: Emulator,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> MockConfigEntry:
    """The integration set up, the space's CallbackURL set to its webhook (as in the console)."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    client = await hass_client_no_auth()  # the test server, once every view is registered
    push = mock_config_entry.runtime_data.alarms.push
    assert push is not None
    emulator.events.set_callback(
        SPACE_HOME_ID, str(client.make_url(f"/api/webhook/{push.webhook_id}"))
    )
    return mock_config_entry


def event_state(hass: HomeAssistant) -> Any:
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"{HOME_IPC_ID}_{HOME_IPC_CHANNEL_ID}_alarm"
    )
    assert entity_id is not None
    return hass.states.get(entity_id)


def envelope(detail: object, event_type: str = "device_alarm") -> bytes:
    return json.dumps(
        {
            "CallbackMeta": {"MsgID": "m-1", "App": "a", "Version": "v1", "Url": []},
            "CallbackHeader": {
                "EventObject": "device",
                "ObjectTag": HOME_IPC_NSID,
                "EventType": event_type,
                "EventTime": 1_760_000_000_000_000_000,
            },
            "Detail": base64.b64encode(json.dumps(detail).encode()).decode(),
        }
    ).encode()


async def test_pushed_alarm_fires_without_waiting_for_the_interval(
    hass: HomeAssistant, emulator: Emulator, pushed: MockConfigEntry
) -> None:
    calls = len(emulator.requests_for("ListAlarmNotify"))
    await emulator.events.inject(
        SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, description="pushed"
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    (delivery,) = emulator.events.deliveries
    assert delivery.status == 200
    state = event_state(hass)
    assert state.attributes["event_type"] == "motion"
    assert state.attributes["description"] == "pushed"
    assert len(emulator.requests_for("ListAlarmNotify")) == calls + 1  # the confirmation
    push = pushed.runtime_data.alarms.push
    assert (push.received, push.confirmations, push.duplicates) == (1, 1, 0)


async def test_replayed_callback_fires_once(
    hass: HomeAssistant, emulator: Emulator, pushed: MockConfigEntry
) -> None:
    raw = await emulator.events.inject(
        SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, description="once"
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    first = event_state(hass).state
    calls = len(emulator.requests_for("ListAlarmNotify"))
    for _ in range(3):
        delivery = await emulator.events.post_raw(SPACE_HOME_ID, emulator.events.deliveries[0].body)
        assert delivery is not None
        assert delivery.status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    assert event_state(hass).state == first  # not fired again
    assert len(emulator.requests_for("ListAlarmNotify")) == calls  # known: no list call
    push = pushed.runtime_data.alarms.push
    assert push.duplicates == 3
    assert raw["AlarmNotifyID"] in pushed.runtime_data.alarms.poller.cursor.seen


async def test_forged_callback_fires_nothing(
    hass: HomeAssistant, emulator: Emulator, pushed: MockConfigEntry
) -> None:
    """A well-formed alarm the platform does not list is not reported."""
    forged = {
        "DeviceNSID": HOME_IPC_NSID,
        "ChannelID": HOME_IPC_CHANNEL_ID,
        "AlarmMethod": 5,
        "AlarmTime": 1_760_000_000,
        "AlarmNotifyID": "forged",
        "Info": {"AlarmType": 2},
    }
    delivery = await emulator.events.post_raw(SPACE_HOME_ID, envelope(forged))
    assert delivery is not None
    assert delivery.status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    assert event_state(hass).state == "unknown"
    assert pushed.runtime_data.alarms.push.confirmations == 1


async def test_a_flood_of_callbacks_is_no_flood_of_list_calls(
    hass: HomeAssistant, emulator: Emulator, pushed: MockConfigEntry
) -> None:
    calls = len(emulator.requests_for("ListAlarmNotify"))
    for n in range(20):
        forged = {
            "DeviceNSID": HOME_IPC_NSID,
            "AlarmMethod": 5,
            "AlarmTime": 1_760_000_000,
            "AlarmNotifyID": f"forged-{n}",
        }
        delivery = await emulator.events.post_raw(SPACE_HOME_ID, envelope(forged))
        assert delivery is not None
        assert delivery.status == 200
    await hass.async_block_till_done(wait_background_tasks=True)
    # The first callback lists at once, the others wait for a second after it.
    assert len(emulator.requests_for("ListAlarmNotify")) - calls <= 2
    assert pushed.runtime_data.alarms.push.confirmations == 20


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"CallbackHeader": {}}',
        json.dumps({"CallbackHeader": {"EventType": "device_alarm"}, "Detail": "%%%"}).encode(),
        b"x" * 70_000,
    ],
)
async def test_malformed_callbacks_are_counted_and_logged_once(
    hass: HomeAssistant,
    emulator: Emulator,
    pushed: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            delivery = await emulator.events.post_raw(SPACE_HOME_ID, body)
            assert delivery is not None
            assert delivery.status == 400
    push = pushed.runtime_data.alarms.push
    assert push.malformed == 2
    assert push.last_malformed
    assert len([r for r in caplog.records if "malformed alarm callback" in r.getMessage()]) == 1
    assert event_state(hass).state == "unknown"


async def test_other_event_types_are_ignored(
    hass: HomeAssistant, emulator: Emulator, pushed: MockConfigEntry
) -> None:
    delivery = await emulator.events.post_raw(SPACE_HOME_ID, envelope({}, "device_online"))
    assert delivery is not None
    assert delivery.status == 200
    assert pushed.runtime_data.alarms.push.ignored == 1


async def test_webhook_is_gone_after_unload(
    hass: HomeAssistant, emulator: Emulator, pushed: MockConfigEntry
) -> None:
    push = pushed.runtime_data.alarms.push
    assert await hass.config_entries.async_unload(pushed.entry_id)
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert push.received == 0


async def test_webhook_id_survives_a_reload(hass: HomeAssistant, pushed: MockConfigEntry) -> None:
    webhook_id = pushed.runtime_data.alarms.push.webhook_id
    assert await hass.config_entries.async_reload(pushed.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert pushed.runtime_data.alarms.push.webhook_id == webhook_id


async def test_options_show_the_callback_url(hass: HomeAssistant, pushed: MockConfigEntry) -> None:
    push = pushed.runtime_data.alarms.push
    assert push.url is not None
    assert push.url.endswith(f"/api/webhook/{push.webhook_id}")
    result = await hass.config_entries.options.async_init(pushed.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == {"webhook_url": push.url}


async def test_repair_issue_when_push_stops_while_polling_finds_alarms(
    hass: HomeAssistant,
    emulator: Emulator,
    pushed: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    issue_id = push_issue_id(pushed)
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    callback_url = emulator.state.spaces[SPACE_HOME_ID]["CallbackURL"]
    emulator.events.set_callback(SPACE_HOME_ID, "")  # the console's callback URL was removed
    freezer.tick(timedelta(minutes=30))
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None  # not silent for long yet
    freezer.tick(timedelta(minutes=31))
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "push_silent"
    assert issue.translation_placeholders == {"space": "home"}
    emulator.events.set_callback(SPACE_HOME_ID, callback_url)
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_no_push_issue_when_push_was_never_set_up(
    hass: HomeAssistant,
    emulator: Emulator,
    pushed: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    emulator.events.set_callback(SPACE_HOME_ID, "")
    for _ in range(2):
        freezer.tick(timedelta(hours=1))
        await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert event_state(hass).state != "unknown"  # the poll found them
    assert issue_registry.async_get_issue(DOMAIN, push_issue_id(pushed)) is None


async def test_cloudhook_when_home_assistant_cloud_is_logged_in(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Home Assistant Cloud (mocked: a cloud service) gives the public URL; removal deletes it."""
    from homeassistant.components import cloud  # noqa: PLC0415

    hooks: dict[str, str] = {}

    async def create(hass: HomeAssistant, webhook_id: str) -> str:
        hooks[webhook_id] = f"https://hooks.cloud.invalid/{webhook_id[:8]}"
        return hooks[webhook_id]

    async def delete(hass: HomeAssistant, webhook_id: str) -> None:
        del hooks[webhook_id]

    monkeypatch.setattr(cloud, "async_active_subscription", lambda _hass: True)
    monkeypatch.setattr(cloud, "async_get_or_create_cloudhook", create)
    monkeypatch.setattr(cloud, "async_delete_cloudhook", delete)
    hass.config.components.add("cloud")
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    push = mock_config_entry.runtime_data.alarms.push
    assert push.cloudhook
    assert push.url == hooks[push.webhook_id]
    assert await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hooks == {}
