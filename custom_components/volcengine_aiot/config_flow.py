"""Config flow: credentials, then one space of the account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .api import (
    Space,
    VolcengineAuthError,
    VolcengineClient,
    VolcengineClockSkewError,
    VolcengineConnectionError,
    VolcengineError,
    VolcenginePermissionError,
)
from .const import (
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
    DEFAULT_AUDIO_TRANSCODE,
    DEFAULT_ENDPOINT,
    DEFAULT_FRAMING,
    DEFAULT_GAIN_DB,
    DEFAULT_MAX_DURATION,
    DEFAULT_PREROLL,
    DEFAULT_REGION,
    DEFAULT_STREAM_PROTOCOL,
    DEFAULT_TAIL,
    DEFAULT_TRANSPORT,
    DOMAIN,
    FRAMINGS,
    LOGGER,
    REGIONS,
    STREAM_PROTOCOLS,
    TRANSPORTS,
)
from .coordinator import VolcengineConfigEntry

SECTION_ADVANCED = "advanced"


def _credentials_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(
                CONF_ACCESS_KEY_ID, default=defaults.get(CONF_ACCESS_KEY_ID, vol.UNDEFINED)
            ): TextSelector(),
            vol.Required(CONF_SECRET_ACCESS_KEY): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            vol.Required(
                CONF_REGION, default=defaults.get(CONF_REGION, DEFAULT_REGION)
            ): SelectSelector(
                SelectSelectorConfig(
                    options=list(REGIONS),
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                    translation_key=CONF_REGION,
                )
            ),
            vol.Required(SECTION_ADVANCED): section(
                vol.Schema(
                    {
                        vol.Required(
                            CONF_ENDPOINT,
                            default=defaults.get(CONF_ENDPOINT, DEFAULT_ENDPOINT),
                        ): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
                    }
                ),
                {"collapsed": True},
            ),
        }
    )


def _flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Return the credentials with the advanced section folded in."""
    advanced = user_input.get(SECTION_ADVANCED) or {}
    return {
        CONF_ACCESS_KEY_ID: str(user_input[CONF_ACCESS_KEY_ID]).strip(),
        CONF_SECRET_ACCESS_KEY: str(user_input[CONF_SECRET_ACCESS_KEY]).strip(),
        CONF_REGION: str(user_input[CONF_REGION]).strip() or DEFAULT_REGION,
        CONF_ENDPOINT: str(advanced.get(CONF_ENDPOINT) or DEFAULT_ENDPOINT).strip(),
    }


class VolcengineConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for Volcengine AIoT Video."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Initialize the flow."""
        self._credentials: dict[str, Any] = {}
        self._spaces: dict[str, Space] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: VolcengineConfigEntry) -> VolcengineOptionsFlow:
        """Return the options flow."""
        return VolcengineOptionsFlow()

    async def _async_list_spaces(
        self, credentials: Mapping[str, Any], errors: dict[str, str]
    ) -> list[Space] | None:
        """Validate the credentials by listing the spaces; fill ``errors`` on failure."""
        try:
            client = VolcengineClient(
                async_get_clientsession(self.hass),
                credentials[CONF_ACCESS_KEY_ID],
                credentials[CONF_SECRET_ACCESS_KEY],
                region=credentials[CONF_REGION],
                endpoint=credentials[CONF_ENDPOINT],
            )
        except ValueError:
            errors["base"] = "invalid_endpoint"
            return None
        try:
            spaces = await client.list_spaces()
        except VolcengineAuthError:
            errors["base"] = "invalid_auth"
        except VolcenginePermissionError:
            errors["base"] = "no_permission"
        except VolcengineClockSkewError:
            errors["base"] = "clock_skew"
        except VolcengineConnectionError:
            errors["base"] = "cannot_connect"
        except VolcengineError:
            LOGGER.exception("Unexpected answer while listing spaces")
            errors["base"] = "unknown"
        else:
            if not spaces:
                errors["base"] = "no_spaces"
                return None
            return spaces
        return None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the AccessKey pair and the region."""
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = _flatten(user_input)
            if spaces := await self._async_list_spaces(credentials, errors):
                self._credentials = credentials
                self._spaces = {space.space_id: space for space in spaces}
                return await self.async_step_space()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema({}), _suggested(user_input)
            ),
            errors=errors,
        )

    async def async_step_space(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick one space."""
        if user_input is not None:
            space = self._spaces[user_input[CONF_SPACE_ID]]
            await self.async_set_unique_id(space.space_id)
            self._abort_if_unique_id_configured()
            return self.async_create_entry(
                title=space.name,
                data={**self._credentials, CONF_SPACE_ID: space.space_id},
            )
        options = [
            SelectOptionDict(value=space.space_id, label=f"{space.name} ({space.space_id})")
            for space in self._spaces.values()
        ]
        return self.async_show_form(
            step_id="space",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_SPACE_ID, default=options[0]["value"]): SelectSelector(
                        SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                    )
                }
            ),
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start reauthentication when the keys stop working."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new AccessKey pair."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = {
                **entry.data,
                CONF_ACCESS_KEY_ID: str(user_input[CONF_ACCESS_KEY_ID]).strip(),
                CONF_SECRET_ACCESS_KEY: str(user_input[CONF_SECRET_ACCESS_KEY]).strip(),
            }
            if spaces := await self._async_list_spaces(credentials, errors):
                if entry.unique_id in {space.space_id for space in spaces}:
                    return self.async_update_reload_and_abort(entry, data=credentials)
                errors["base"] = "space_not_found"
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_ACCESS_KEY_ID, default=entry.data[CONF_ACCESS_KEY_ID]
                    ): TextSelector(),
                    vol.Required(CONF_SECRET_ACCESS_KEY): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    ),
                }
            ),
            description_placeholders={"space": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the keys, region or endpoint of an entry (same space)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = _flatten(user_input)
            if spaces := await self._async_list_spaces(credentials, errors):
                if entry.unique_id in {space.space_id for space in spaces}:
                    return self.async_update_reload_and_abort(entry, data_updates=credentials)
                errors["base"] = "space_not_found"
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema(entry.data), _suggested(user_input)
            ),
            description_placeholders={"space": entry.title},
            errors=errors,
        )


def _suggested(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keep what the user typed, except the secret, when a form is shown again."""
    if user_input is None:
        return {}
    return {k: v for k, v in user_input.items() if k != CONF_SECRET_ACCESS_KEY}


# Live view options (camera entities): pull protocol and G.711 -> AAC audio transcoding.
LIVE_OPTIONS = {
    vol.Required(CONF_STREAM_PROTOCOL, default=DEFAULT_STREAM_PROTOCOL): SelectSelector(
        SelectSelectorConfig(
            options=list(STREAM_PROTOCOLS),
            mode=SelectSelectorMode.LIST,
            translation_key=CONF_STREAM_PROTOCOL,
        )
    ),
    vol.Required(CONF_AUDIO_TRANSCODE, default=DEFAULT_AUDIO_TRANSCODE): BooleanSelector(),
}


class VolcengineOptionsFlow(OptionsFlowWithReload):
    """Talk options; the entry reloads when they change."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the talk options."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        schema = vol.Schema(
            {
                vol.Required(CONF_TRANSPORT, default=DEFAULT_TRANSPORT): SelectSelector(
                    SelectSelectorConfig(
                        options=list(TRANSPORTS),
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_TRANSPORT,
                    )
                ),
                vol.Required(CONF_FRAMING, default=DEFAULT_FRAMING): SelectSelector(
                    SelectSelectorConfig(
                        options=list(FRAMINGS),
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_FRAMING,
                    )
                ),
                vol.Required(CONF_GAIN_DB, default=DEFAULT_GAIN_DB): NumberSelector(
                    NumberSelectorConfig(
                        min=-30,
                        max=20,
                        step=1,
                        unit_of_measurement="dB",
                        mode=NumberSelectorMode.SLIDER,
                    )
                ),
                vol.Required(CONF_MAX_DURATION, default=DEFAULT_MAX_DURATION): NumberSelector(
                    NumberSelectorConfig(
                        min=5,
                        max=3600,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(CONF_PREROLL, default=DEFAULT_PREROLL): NumberSelector(
                    NumberSelectorConfig(
                        min=0, max=3, step=0.1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                    )
                ),
                vol.Required(CONF_TAIL, default=DEFAULT_TAIL): NumberSelector(
                    NumberSelectorConfig(
                        min=0, max=3, step=0.1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                    )
                ),
                **LIVE_OPTIONS,
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
        )
