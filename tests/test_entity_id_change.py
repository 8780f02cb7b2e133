"""A renamed entity ID is applied in place (Home Assistant 2026.11 asks, 2027.11 requires it).

Core re-adds an entity of a custom integration on an entity ID change unless every class of
ours that defines an add or remove hook is covered by an ``async_entity_id_changed`` of its own
or of a subclass; this is core's rule, checked on every Home Assistant version we support.
"""

from __future__ import annotations

from homeassistant.components.media_player import DOMAIN as MP_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.volcengine_aiot.assist_satellite import VolcengineAnnouncerEntity
from custom_components.volcengine_aiot.binary_sensor import (
    VolcengineBinarySensorEntity,
    VolcengineMotionSensor,
)
from custom_components.volcengine_aiot.button import VolcengineTestToneButton
from custom_components.volcengine_aiot.camera import VolcengineCameraEntity
from custom_components.volcengine_aiot.const import DOMAIN
from custom_components.volcengine_aiot.event import VolcengineAlarmEventEntity
from custom_components.volcengine_aiot.media_player import VolcengineSpeakerEntity
from tests.emulator.data import HOME_IPC_ID

HOOKS = ("async_added_to_hass", "async_will_remove_from_hass")
ENTITIES: tuple[type[Entity], ...] = (
    VolcengineAnnouncerEntity,
    VolcengineBinarySensorEntity,
    VolcengineMotionSensor,
    VolcengineTestToneButton,
    VolcengineCameraEntity,
    VolcengineAlarmEventEntity,
    VolcengineSpeakerEntity,
)


def uncovered(entity_class: type[Entity]) -> list[str]:
    """Return our classes whose add/remove hooks no ``async_entity_id_changed`` covers."""
    ours = [c for c in entity_class.__mro__ if c.__module__.startswith("custom_components.")]
    owners = [c for c in ours if "async_entity_id_changed" in c.__dict__]
    return [
        c.__qualname__
        for c in ours
        if any(hook in c.__dict__ for hook in HOOKS)
        and not any(issubclass(owner, c) for owner in owners)
    ]


def test_every_entity_changes_its_id_in_place() -> None:
    assert {e.__qualname__: uncovered(e) for e in ENTITIES} == {
        e.__qualname__: [] for e in ENTITIES
    }


async def test_renamed_speaker_keeps_working(
    hass: HomeAssistant, init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """After a rename the speaker's state is under the new ID and follows the camera's speaker."""
    old = entity_registry.async_get_entity_id(MP_DOMAIN, DOMAIN, f"{HOME_IPC_ID}_speaker")
    assert old is not None
    entity_registry.async_update_entity(old, new_entity_id="media_player.porch_speaker")
    await hass.async_block_till_done()
    assert hass.states.get(old) is None
    assert hass.states.get("media_player.porch_speaker").state == "idle"
    await hass.services.async_call(
        MP_DOMAIN,
        "volume_set",
        {"entity_id": "media_player.porch_speaker", "volume_level": 0.4},
        blocking=True,
    )
    assert init_integration.runtime_data.volumes.get(HOME_IPC_ID) == 0.4
    assert hass.states.get("media_player.porch_speaker").attributes["volume_level"] == 0.4
