"""Alarms as entities: the runtime's poller, the motion sensors and the alarm event entities.

Alarms are injected into the emulator (``emulator.events.inject``) and listed by the integration
over real HTTP (``ListAlarmNotify``); Home Assistant's time is moved with
``async_fire_time_changed`` (no wall-time sleeps).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
import logging
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import media_source
from homeassistant.components.media_source import Unresolvable
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.volcengine_aiot import PLATFORMS
from custom_components.volcengine_aiot.alarms import (
    alarm_interval,
    alarm_permission_issue_id,
    alarm_store,
    motion_quiet,
)
from custom_components.volcengine_aiot.api import AlarmEventType
from custom_components.volcengine_aiot.const import (
    CONF_ALARM_INTERVAL,
    CONF_MOTION_QUIET,
    DOMAIN,
)
from custom_components.volcengine_aiot.events import AlarmCursor
from tests.emulator.app import Emulator
from tests.emulator.data import (
    HOME_IPC_CHANNEL_ID,
    HOME_IPC_ID,
    HOME_IPC_NSID,
    HOME_IPC_STREAM_ID,
    HOME_NVR_CHANNEL_IDS,
    HOME_NVR_ID,
    HOME_NVR_NSID,
    SPACE_HOME_ID,
)
from tests.emulator.recordings import Segment
from tests.entities import entities_of

INTERVAL = timedelta(seconds=10)
QUIET = timedelta(seconds=30)


class Clock:
    """Moves the (frozen) time forward and lets the tasks it starts finish.

    The poller's clock, the emulator's alarm times and Home Assistant's timers all follow it.
    """

    def __init__(self, hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
        self.hass = hass
        self.freezer = freezer

    async def advance(self, delta: timedelta = INTERVAL + timedelta(seconds=1)) -> None:
        self.freezer.tick(delta)
        async_fire_time_changed(self.hass)
        await self.hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
def clock(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Clock:
    return Clock(hass, freezer)


@pytest.fixture
def platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the platforms of the alarm entities (and the cameras' devices)."""
    monkeypatch.setattr(
        "custom_components.volcengine_aiot.PLATFORMS", [Platform.BINARY_SENSOR, Platform.EVENT]
    )


@pytest.fixture
async def loaded(
    hass: HomeAssistant, platforms: None, init_integration: MockConfigEntry
) -> MockConfigEntry:
    """The integration set up, its first alarm poll done."""
    await hass.async_block_till_done(wait_background_tasks=True)
    return init_integration


def entity(
    registry: er.EntityRegistry, platform: str, device_id: str, channel: str, key: str
) -> str:
    found = registry.async_get_entity_id(platform, DOMAIN, f"{device_id}_{channel}_{key}")
    assert found is not None
    return found


@pytest.fixture
def ipc_event(entity_registry: er.EntityRegistry) -> str:
    return entity(entity_registry, "event", HOME_IPC_ID, HOME_IPC_CHANNEL_ID, "alarm")


@pytest.fixture
def ipc_motion(entity_registry: er.EntityRegistry) -> str:
    return entity(entity_registry, "binary_sensor", HOME_IPC_ID, HOME_IPC_CHANNEL_ID, "motion")


class Fired:
    """Records every event an event entity fires.

    An event entity restores its last event when it is added again (after a reload): the same
    state and attributes as an event already recorded. (On Home Assistant 2026.3 two events
    fired in the same instant share the timestamp, so the attributes tell them apart.)
    """

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._seen: set[tuple[str, ...]] = set()

        @callback
        def changed(event: Event[EventStateChangedData]) -> None:
            state = event.data["new_state"]
            if state is None or state.state in ("unknown", "unavailable"):
                return
            key = (
                state.state,
                *(str(state.attributes.get(name)) for name in ("event_type", "description")),
                str(state.attributes.get("alarm_time")),
            )
            if key not in self._seen:
                self._seen.add(key)
                self.events.append(dict(state.attributes))

        self.unsub = async_track_state_change_event(hass, entity_id, changed)

    @property
    def descriptions(self) -> list[str | None]:
        return [event.get("description") for event in self.events]


@pytest.fixture
def fired(hass: HomeAssistant, ipc_event: str) -> Iterator[Fired]:
    recorder = Fired(hass, ipc_event)
    yield recorder
    recorder.unsub()


def list_calls(emulator: Emulator) -> int:
    return len(emulator.requests_for("ListAlarmNotify"))


async def inject(emulator: Emulator, description: str, **kwargs: Any) -> None:
    await emulator.events.inject(
        SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_CHANNEL_ID, description=description, **kwargs
    )


# --- entities ----------------------------------------------------------------------------------


async def test_entities(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """One motion sensor and one alarm event entity per video channel, enabled, on its device."""
    assert {Platform.BINARY_SENSOR, Platform.EVENT} <= set(PLATFORMS)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    entities = {
        entity_id: value
        for entity_id, value in entities_of(hass, mock_config_entry.entry_id).items()
        if entity_id.startswith("event.") or entity_id.endswith("_motion")
    }
    for value in entities.values():  # newer releases key capabilities with StrEnum members
        capabilities = value["entry"]["capabilities"]
        if capabilities is not None:
            value["entry"]["capabilities"] = {str(k): v for k, v in capabilities.items()}
    assert entities == snapshot
    event_types = entities["event.front_door_alarm"]["entry"]["capabilities"]["event_types"]
    assert event_types == [event_type.value for event_type in AlarmEventType]


# --- motion ------------------------------------------------------------------------------------


async def test_motion_on_then_off_after_the_quiet_time(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, clock: Clock, ipc_motion: str
) -> None:
    assert hass.states.get(ipc_motion).state == STATE_OFF
    await inject(emulator, "first")
    await clock.advance()
    assert hass.states.get(ipc_motion).state == STATE_ON
    # A second motion alarm restarts the quiet time.
    await clock.advance(QUIET - timedelta(seconds=12))
    await inject(emulator, "second")
    await clock.advance()
    await clock.advance(QUIET - timedelta(seconds=12))
    assert hass.states.get(ipc_motion).state == STATE_ON
    await clock.advance(timedelta(seconds=12))
    assert hass.states.get(ipc_motion).state == STATE_OFF


async def test_other_alarms_do_not_turn_motion_on(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, clock: Clock, ipc_motion: str
) -> None:
    await inject(emulator, "intrusion", method=5, alarm_type=6)
    await inject(emulator, "tamper", method=2, alarm_type=2)
    await clock.advance()
    assert hass.states.get(ipc_motion).state == STATE_OFF


async def test_motion_quiet_time_option(
    hass: HomeAssistant,
    emulator: Emulator,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    clock: Clock,
    entity_registry: er.EntityRegistry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_MOTION_QUIET: 60})
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    ipc_motion = entity(
        entity_registry, "binary_sensor", HOME_IPC_ID, HOME_IPC_CHANNEL_ID, "motion"
    )
    await inject(emulator, "motion")
    await clock.advance()
    await clock.advance(timedelta(seconds=45))
    assert hass.states.get(ipc_motion).state == STATE_ON
    await clock.advance(timedelta(seconds=20))
    assert hass.states.get(ipc_motion).state == STATE_OFF


async def test_motion_stays_off_for_an_alarm_over_before_the_start(
    hass: HomeAssistant,
    emulator: Emulator,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    hass_storage: dict[str, Any],
) -> None:
    """An alarm of the downtime fires the event entity but is no motion now."""
    now = int(time.time())
    mock_config_entry.add_to_hass(hass)
    hass_storage[f"{DOMAIN}.{mock_config_entry.entry_id}.alarms"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{mock_config_entry.entry_id}.alarms",
        "data": {"cursor": AlarmCursor(now - 600).as_dict(), "webhook_id": "stored-webhook"},
    }
    await inject(emulator, "while down", alarm_time=now - 300)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    event_id = entity(entity_registry, "event", HOME_IPC_ID, HOME_IPC_CHANNEL_ID, "alarm")
    motion_id = entity(entity_registry, "binary_sensor", HOME_IPC_ID, HOME_IPC_CHANNEL_ID, "motion")
    assert hass.states.get(event_id).attributes["description"] == "while down"
    assert hass.states.get(motion_id).state == STATE_OFF


# --- event entity ------------------------------------------------------------------------------


async def test_event_type_and_attributes(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    ipc_event: str,
    fired: Fired,
) -> None:
    alarm_time = int(time.time())
    await inject(emulator, "someone at the gate", method=5, alarm_type=6, priority=2)
    await emulator.events.inject(
        SPACE_HOME_ID,
        HOME_IPC_NSID,
        HOME_IPC_CHANNEL_ID,
        method=5,
        alarm_type=5,
        alarm_time=alarm_time,
        description="tripwire",
    )
    await clock.advance()
    assert [(e["event_type"], e["description"]) for e in fired.events] == [
        ("intrusion", "someone at the gate"),
        ("line_crossing", "tripwire"),
    ]
    intrusion = fired.events[0]
    assert intrusion["priority"] == 2
    assert intrusion["channel"] == HOME_IPC_CHANNEL_ID
    assert dt_util.parse_datetime(intrusion["alarm_time"]) is not None
    assert "alarm_method" not in intrusion
    assert fired.events[1]["alarm_time"] == dt_util.utc_from_timestamp(alarm_time).isoformat()


async def test_alarm_event_links_the_recording_of_its_moment(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    fired: Fired,
) -> None:
    """The event's ``recording`` plays the recording covering the alarm's time.

    Built without asking the cloud; looked up when played: the first alarm's recording has been
    uploaded (a 30 s alarm recording around it), the second alarm has none (yet).
    """
    recordings = ("ListStreamRecords", "GetRecordList", "PlayCloudRecord", "StartPlayback")
    first = int(time.time())
    await inject(emulator, "recorded", alarm_time=first)
    await clock.advance()
    await clock.advance(timedelta(seconds=60))
    second = int(time.time())
    await inject(emulator, "not uploaded yet", alarm_time=second)
    await clock.advance()
    assert fired.descriptions == ["recorded", "not uploaded yet"]
    base = f"media-source://{DOMAIN}/{loaded.entry_id}/{HOME_IPC_STREAM_ID}/at"
    assert [e["recording"] for e in fired.events] == [f"{base}/{first}", f"{base}/{second}"]
    assert not any(emulator.requests_for(action) for action in recordings)

    emulator.recordings.cloud[HOME_IPC_STREAM_ID].append(
        Segment(first - 5, first + 25, alarm=True, kind="alarm")
    )
    play = await media_source.async_resolve_media(hass, fired.events[0]["recording"], None)
    assert play.mime_type == "video/mp4"
    camera = f"{loaded.entry_id}/{HOME_IPC_STREAM_ID}"
    assert play.url == f"/api/{DOMAIN}/recordings/{camera}/{first - 5}-{first + 25}.mp4"
    with pytest.raises(Unresolvable) as info:
        await media_source.async_resolve_media(hass, fired.events[1]["recording"], None)
    assert info.value.translation_key == "recording_not_found"
    assert str(info.value) == "No recording covers the chosen time."


async def test_unknown_type_is_other_with_raw_method_and_type(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    fired: Fired,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        await inject(emulator, "mystery", method=7, alarm_type=42)
        await inject(emulator, "mystery again", method=7, alarm_type=42)
        await inject(emulator, "disk full", method=2, alarm_type=3)
        await clock.advance()
    assert [
        (e["event_type"], e["alarm_method"], e["alarm_type"], e["gb_type"]) for e in fired.events
    ] == [("other", 7, 42, None), ("other", 7, 42, None), ("other", 2, 3, "disk_full")]
    # Only the pair outside the GB table is unknown: logged once, counted each time.
    assert loaded.runtime_data.alarms.unknown_types == {"7/42": 2}
    assert len([r for r in caplog.records if "7/42" in r.getMessage()]) == 1


async def test_alarms_reach_only_their_channel(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    entity_registry: er.EntityRegistry,
    fired: Fired,
) -> None:
    first, second = (
        entity(entity_registry, "event", HOME_NVR_ID, channel, "alarm")
        for channel in HOME_NVR_CHANNEL_IDS
    )
    second_motion = entity(
        entity_registry, "binary_sensor", HOME_NVR_ID, HOME_NVR_CHANNEL_IDS[1], "motion"
    )
    await emulator.events.inject(
        SPACE_HOME_ID, HOME_NVR_NSID, HOME_NVR_CHANNEL_IDS[1], description="back yard"
    )
    # A single-channel camera may name itself as the channel: its one channel gets it.
    await emulator.events.inject(SPACE_HOME_ID, HOME_IPC_NSID, HOME_IPC_NSID, description="ipc")
    # An NVR alarm of no known channel cannot be routed (counted in diagnostics).
    await emulator.events.inject(SPACE_HOME_ID, HOME_NVR_NSID, HOME_NVR_NSID, description="nvr")
    await clock.advance()
    assert hass.states.get(first).state == "unknown"
    assert hass.states.get(second).attributes["description"] == "back yard"
    assert hass.states.get(second_motion).state == STATE_ON
    assert fired.descriptions == ["ipc"]
    alarms = loaded.runtime_data.alarms
    assert (alarms.listeners.dispatched, alarms.listeners.unrouted) == (2, 1)


# --- polling -----------------------------------------------------------------------------------


async def test_one_list_call_per_interval(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, clock: Clock
) -> None:
    assert list_calls(emulator) == 1  # the poll at the start
    for _ in range(3):
        await clock.advance()
    assert list_calls(emulator) == 4


async def test_poll_interval_option(
    hass: HomeAssistant,
    emulator: Emulator,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    clock: Clock,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_ALARM_INTERVAL: 30})
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await clock.advance()
    assert list_calls(emulator) == 1
    await clock.advance(timedelta(seconds=20))
    assert list_calls(emulator) == 2


@pytest.mark.parametrize(
    ("stored", "interval", "quiet"),
    [
        ({}, 10, 30),
        ({CONF_ALARM_INTERVAL: 5, CONF_MOTION_QUIET: 120}, 5, 120),
        ({CONF_ALARM_INTERVAL: 60.0, CONF_MOTION_QUIET: 45.0}, 60, 45),
        ({CONF_ALARM_INTERVAL: 1, CONF_MOTION_QUIET: -3}, 10, 30),
        ({CONF_ALARM_INTERVAL: "often", CONF_MOTION_QUIET: None}, 10, 30),
        ({CONF_ALARM_INTERVAL: True, CONF_MOTION_QUIET: [30]}, 10, 30),
        ({CONF_ALARM_INTERVAL: 10**9, CONF_MOTION_QUIET: float("nan")}, 10, 30),
    ],
)
def test_invalid_options_fall_back_to_the_default(
    stored: dict[str, Any], interval: int, quiet: int
) -> None:
    assert (alarm_interval(stored), motion_quiet(stored)) == (interval, quiet)


async def test_paging_across_pages(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    fired: Fired,
) -> None:
    for n in range(150):
        await inject(emulator, f"alarm {n}", deliver=False)
    before = list_calls(emulator)
    await clock.advance()
    assert list_calls(emulator) - before == 2  # 100 + 50
    assert fired.descriptions == [f"alarm {n}" for n in range(150)]
    await clock.advance()  # the look-back lists them again: none is fired twice
    assert len(fired.events) == 150
    assert loaded.runtime_data.alarms.poller.duplicates >= 150


async def test_a_failed_poll_loses_nothing_and_is_logged_once(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    fired: Fired,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.faults.add("ListAlarmNotify", code="InternalError", status=500, times=0)
    await inject(emulator, "during the outage")
    with caplog.at_level(logging.WARNING):
        await clock.advance()
        await clock.advance()
    assert fired.events == []
    warnings = [r for r in caplog.records if "Listing the alarms" in r.getMessage()]
    assert len(warnings) == 1
    alarms = loaded.runtime_data.alarms
    assert alarms.failures == 2
    assert alarms.last_error == "VolcengineApiError"
    emulator.faults.clear()
    await clock.advance()
    assert fired.descriptions == ["during the outage"]
    assert alarms.last_error is None


async def test_missing_permission_is_a_repair_issue(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    issue_registry: ir.IssueRegistry,
    fired: Fired,
) -> None:
    emulator.deny("ListAlarmNotify")
    await inject(emulator, "hidden")
    await clock.advance()
    issue = issue_registry.async_get_issue(DOMAIN, alarm_permission_issue_id(loaded))
    assert issue is not None
    assert issue.translation_key == "missing_alarm_permission"
    assert issue.translation_placeholders == {"space": "home", "permission": "ListAlarmNotify"}
    assert fired.events == []
    emulator.allow("ListAlarmNotify")
    await clock.advance()
    assert issue_registry.async_get_issue(DOMAIN, alarm_permission_issue_id(loaded)) is None
    assert fired.descriptions == ["hidden"]


async def test_clock_skew_is_a_repair_issue(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    issue_registry: ir.IssueRegistry,
    fired: Fired,
) -> None:
    emulator.clock_offset = 3600  # the gateway's time is an hour from ours: every call fails
    await inject(emulator, "skewed", alarm_time=int(time.time()))
    await clock.advance()
    assert issue_registry.async_get_issue(DOMAIN, "clock_skew") is not None
    assert loaded.runtime_data.alarms.last_error == "VolcengineClockSkewError"
    assert fired.events == []
    emulator.clock_offset = 0
    await clock.advance()
    assert issue_registry.async_get_issue(DOMAIN, "clock_skew") is None
    assert fired.descriptions == ["skewed"]


async def test_rejected_key_starts_reauth(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, clock: Clock
) -> None:
    emulator.faults.add("ListAlarmNotify", code="InvalidAccessKey", status=401, times=0)
    await clock.advance()
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_throttled_poll_pauses(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, clock: Clock
) -> None:
    emulator.faults.add("ListAlarmNotify", code="FlowLimitExceeded", status=429, times=0)
    await clock.advance()
    calls = list_calls(emulator)
    emulator.faults.clear()
    for _ in range(5):  # no call for a minute
        await clock.advance(INTERVAL)
    assert list_calls(emulator) == calls
    await clock.advance(INTERVAL)
    assert list_calls(emulator) == calls + 1


async def test_restart_neither_loses_nor_repeats(
    hass: HomeAssistant,
    emulator: Emulator,
    loaded: MockConfigEntry,
    clock: Clock,
    fired: Fired,
) -> None:
    await inject(emulator, "before")
    await clock.advance()
    assert fired.descriptions == ["before"]
    assert await hass.config_entries.async_unload(loaded.entry_id)
    await hass.async_block_till_done()
    await inject(emulator, "while unloaded")
    await clock.advance()  # nothing polls while the entry is unloaded
    assert fired.descriptions == ["before"]
    assert await hass.config_entries.async_setup(loaded.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await clock.advance()
    assert fired.descriptions == ["before", "while unloaded"]


async def test_stored_cursor_survives_a_new_store_instance(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, clock: Clock
) -> None:
    await inject(emulator, "stored", alarm_id="alarm-stored")
    await clock.advance()
    stored = await alarm_store(hass, loaded.entry_id).async_load()
    assert stored is not None
    cursor = AlarmCursor.from_dict(stored["cursor"])
    assert cursor is not None
    assert "alarm-stored" in cursor.seen


async def test_unload_leaves_nothing_running(
    hass: HomeAssistant, emulator: Emulator, loaded: MockConfigEntry, clock: Clock
) -> None:
    alarms = loaded.runtime_data.alarms
    emulator.faults.add("ListAlarmNotify", delay=2.0)
    clock.freezer.tick(INTERVAL + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert alarms.running  # a poll waits for the slow gateway
    assert await hass.config_entries.async_unload(loaded.entry_id)
    assert loaded.state is ConfigEntryState.NOT_LOADED
    assert not alarms.running
    assert not loaded._background_tasks
    calls = list_calls(emulator)
    await clock.advance()
    await clock.advance()
    assert list_calls(emulator) == calls  # the timer is gone
    assert not alarms.listeners._listeners  # every entity unsubscribed


async def test_removing_the_entry_drops_its_cursor(
    hass: HomeAssistant,
    platforms: None,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    key = f"{DOMAIN}.{mock_config_entry.entry_id}.alarms"
    assert key in hass_storage
    await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
