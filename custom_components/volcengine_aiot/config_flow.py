"""Config flow: credentials, then one space of the account."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
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
import voluptuous as vol

from .api import (
    DEFAULT_ENDPOINT,
    DEFAULT_REGION,
    Space,
    VolcengineAuthError,
    VolcengineClient,
    VolcengineClockSkewError,
    VolcengineConnectionError,
    VolcengineError,
    VolcengineInvalidEndpointError,
    VolcenginePermissionError,
    VolcengineSettingsError,
    VolcengineThrottledError,
)
from .const import (
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
    DEFAULT_AUDIO_TRANSCODE,
    DEFAULT_GAIN_DB,
    DEFAULT_MOTION_QUIET,
    DEFAULT_STREAM_PROTOCOL,
    DOMAIN,
    LOGGER,
    MAX_ALARM_INTERVAL,
    MAX_MOTION_QUIET,
    MIN_ALARM_INTERVAL,
    MIN_MOTION_QUIET,
    REGIONS,
    STREAM_PROTOCOLS,
    TRANSPORTS,
)
from .options import live_options, transport_or_default
from .runtime import VolcengineConfigEntry, create_client
from .talk.options import (
    DEFAULT_FRAMING,
    DEFAULT_MAX_DURATION,
    DEFAULT_PREROLL,
    DEFAULT_TAIL,
    DEFAULT_TRANSPORT,
    FRAMINGS,
    framing_or_default,
)

SECTION_ADVANCED = "advanced"
# The forms name the default endpoint through a placeholder (hassfest: no URL in translations).
ENDPOINT_PLACEHOLDER = {"default_endpoint": DEFAULT_ENDPOINT}
PERMISSION_SPACES = "ListSpaces"
PERMISSION_DEVICES = "ListDevices"


class _FormError(Exception):
    """A validation step failed; ``error`` is the form error, ``permission`` the missing one."""

    def __init__(self, error: str, permission: str = PERMISSION_SPACES) -> None:
        super().__init__(error)
        self.error = error
        self.permission = permission


def _error_key(err: VolcengineError) -> str:
    """Return the form error of an API error (no traceback: these are expected answers)."""
    if isinstance(err, VolcengineAuthError):
        return "invalid_auth"
    if isinstance(err, VolcenginePermissionError):
        return "no_permission"
    if isinstance(err, VolcengineClockSkewError):
        return "clock_skew"
    if isinstance(err, VolcengineThrottledError):
        return "throttled"
    if isinstance(err, VolcengineConnectionError):
        return "cannot_connect"
    LOGGER.warning("Unexpected answer of the Volcengine OpenAPI: %s", err)
    return "unknown"


def _settings_error_key(err: VolcengineSettingsError) -> str:
    if isinstance(err, VolcengineInvalidEndpointError):
        return "invalid_endpoint"
    if err.setting == CONF_REGION:
        return "invalid_region"
    return "invalid_auth"


def _credentials_schema(
    defaults: Mapping[str, Any],
    shown: Mapping[str, Any] | None = None,
    *,
    keep_secret: bool = False,
) -> vol.Schema:
    """Return the credentials form.

    ``defaults`` are the stored values (reconfigure) and ``shown`` what the user typed last
    (after a form error): the Advanced section is open when either holds a non-default
    endpoint, so a typed endpoint is never hidden. With ``keep_secret`` the SecretAccessKey
    may be left empty to keep the stored one.
    """
    typed = ((shown or {}).get(SECTION_ADVANCED) or {}).get(CONF_ENDPOINT)
    endpoint = typed or defaults.get(CONF_ENDPOINT, DEFAULT_ENDPOINT)
    collapsed = str(endpoint).strip().rstrip("/") == DEFAULT_ENDPOINT
    secret = (
        vol.Optional(CONF_SECRET_ACCESS_KEY)
        if keep_secret
        else vol.Required(CONF_SECRET_ACCESS_KEY)
    )
    return vol.Schema(
        {
            vol.Required(
                CONF_ACCESS_KEY_ID, default=defaults.get(CONF_ACCESS_KEY_ID, vol.UNDEFINED)
            ): TextSelector(),
            secret: TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
            # Plain region names (no translated labels): the closed field shows the raw value
            # of a custom-value dropdown, so a label like "(default)" would disagree with it.
            vol.Required(
                CONF_REGION, default=defaults.get(CONF_REGION, DEFAULT_REGION)
            ): SelectSelector(
                SelectSelectorConfig(
                    options=list(REGIONS),
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
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
                {"collapsed": collapsed},
            ),
        }
    )


def _flatten(user_input: Mapping[str, Any], stored_secret: str = "") -> dict[str, Any]:
    """Return the credentials with the advanced section folded in.

    An empty SecretAccessKey becomes ``stored_secret`` (reconfigure keeps the stored one).
    """
    advanced = user_input.get(SECTION_ADVANCED) or {}
    return {
        CONF_ACCESS_KEY_ID: str(user_input[CONF_ACCESS_KEY_ID]).strip(),
        CONF_SECRET_ACCESS_KEY: str(user_input.get(CONF_SECRET_ACCESS_KEY) or "").strip()
        or stored_secret,
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
        self._permission = PERMISSION_SPACES

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: VolcengineConfigEntry) -> VolcengineOptionsFlow:
        """Return the options flow."""
        return VolcengineOptionsFlow()

    async def _async_validate(
        self, credentials: Mapping[str, Any], space_id: str | None = None
    ) -> list[Space]:
        """Check the settings, the spaces and, for ``space_id``, that its devices can be listed.

        The one validation of every step (user, space, reauth, reconfigure): raises ``_FormError``.
        """
        try:
            client = create_client(self.hass, credentials)
        except VolcengineSettingsError as err:
            raise _FormError(_settings_error_key(err)) from None
        try:
            spaces = await client.list_spaces()
        except VolcengineError as err:
            raise _FormError(_error_key(err), PERMISSION_SPACES) from None
        if not spaces:
            raise _FormError("no_spaces")
        if space_id is not None:
            if space_id not in {space.space_id for space in spaces}:
                raise _FormError("space_not_found")
            await self._async_check_devices(client, space_id)
        return spaces

    async def _async_check_devices(self, client: VolcengineClient, space_id: str) -> None:
        """Check that the key may list the devices of the space (what the entry polls)."""
        try:
            await client.count_devices(space_id)
        except VolcengineError as err:
            raise _FormError(_error_key(err), PERMISSION_DEVICES) from None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the AccessKey pair and the region."""
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = _flatten(user_input)
            try:
                spaces = await self._async_validate(credentials)
            except _FormError as err:
                errors["base"] = err.error
                self._permission = err.permission
            else:
                self._credentials = credentials
                self._spaces = {space.space_id: space for space in spaces}
                return await self.async_step_space()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema({}, user_input), _suggested(user_input)
            ),
            description_placeholders={"permission": self._permission, **ENDPOINT_PLACEHOLDER},
            errors=errors,
        )

    async def async_step_space(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user pick one of the spaces that are not configured yet."""
        configured = self._async_current_ids(include_ignore=False)
        available = [space for sid, space in self._spaces.items() if sid not in configured]
        if not available:
            return self.async_abort(reason="all_spaces_configured")
        errors: dict[str, str] = {}
        if user_input is not None and not user_input.get(CONF_SPACE_ID):
            errors[CONF_SPACE_ID] = "space_required"
        elif user_input is not None:
            space = self._spaces[user_input[CONF_SPACE_ID]]
            await self.async_set_unique_id(space.space_id)
            self._abort_if_unique_id_configured()
            try:
                client = create_client(self.hass, self._credentials)  # validated by the user step
                await self._async_check_devices(client, space.space_id)
            except _FormError as err:
                errors["base"] = err.error
                self._permission = err.permission
            else:
                return self.async_create_entry(
                    title=space.name,
                    data={**self._credentials, CONF_SPACE_ID: space.space_id},
                )
        options = [
            SelectOptionDict(value=space_id, label=label)
            for space_id, label in _space_labels(available).items()
        ]
        # Nothing pre-selected unless there is a single choice: the user picks deliberately.
        # Optional, because the frontend fills a required select with its first option; no
        # choice is a form error above.
        key = (
            vol.Required(CONF_SPACE_ID, default=available[0].space_id)
            if len(available) == 1
            else vol.Optional(CONF_SPACE_ID)
        )
        schema = vol.Schema(
            {
                key: SelectSelector(
                    SelectSelectorConfig(options=options, mode=SelectSelectorMode.LIST)
                )
            }
        )
        return self.async_show_form(
            step_id="space",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            description_placeholders={"permission": self._permission},
            errors=errors,
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
            try:
                await self._async_validate(credentials, entry.data[CONF_SPACE_ID])
            except _FormError as err:
                errors["base"] = err.error
                self._permission = err.permission
            else:
                return self.async_update_reload_and_abort(entry, data=credentials)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(
                            CONF_ACCESS_KEY_ID, default=entry.data[CONF_ACCESS_KEY_ID]
                        ): TextSelector(),
                        vol.Required(CONF_SECRET_ACCESS_KEY): TextSelector(
                            TextSelectorConfig(type=TextSelectorType.PASSWORD)
                        ),
                    }
                ),
                _suggested(user_input),
            ),
            description_placeholders={"space": entry.title, "permission": self._permission},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the keys, region or endpoint of an entry (same space)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            credentials = _flatten(user_input, entry.data[CONF_SECRET_ACCESS_KEY])
            try:
                await self._async_validate(credentials, entry.data[CONF_SPACE_ID])
            except _FormError as err:
                errors["base"] = err.error
                self._permission = err.permission
            else:
                return self.async_update_reload_and_abort(entry, data_updates=credentials)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _credentials_schema(entry.data, user_input, keep_secret=True),
                _suggested(user_input),
            ),
            description_placeholders={
                "space": entry.title,
                "permission": self._permission,
                **ENDPOINT_PLACEHOLDER,
            },
            errors=errors,
        )


def _space_labels(spaces: Iterable[Space]) -> dict[str, str]:
    """Label spaces by name; add the end of the ID only where names are equal."""
    spaces = list(spaces)
    count = Counter(space.name for space in spaces)
    labels: dict[str, str] = {}
    for space in spaces:
        if count[space.name] == 1:
            labels[space.space_id] = space.name
            continue
        twins = [other.space_id for other in spaces if other.name == space.name]
        length = next(
            (n for n in (4, 8, 12) if len({sid[-n:] for sid in twins}) == len(twins)),
            len(space.space_id),
        )
        suffix = space.space_id[-length:]
        labels[space.space_id] = (
            f"{space.name} (…{suffix})"
            if length < len(space.space_id)
            else (f"{space.name} ({suffix})")
        )
    return labels


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


# Alarm options (motion sensors and alarm events).
ALARM_OPTIONS = {
    vol.Required(CONF_ALARM_INTERVAL, default=DEFAULT_ALARM_INTERVAL): NumberSelector(
        NumberSelectorConfig(
            min=MIN_ALARM_INTERVAL,
            max=MAX_ALARM_INTERVAL,
            step=1,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    ),
    vol.Required(CONF_MOTION_QUIET, default=DEFAULT_MOTION_QUIET): NumberSelector(
        NumberSelectorConfig(
            min=MIN_MOTION_QUIET,
            max=MAX_MOTION_QUIET,
            step=1,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    ),
}


class VolcengineOptionsFlow(OptionsFlowWithReload):
    """Talk options; the entry reloads when they change."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the talk options."""
        if user_input is not None:
            return self.async_create_entry(data=_whole_seconds(user_input))
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
                **ALARM_OPTIONS,
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema, _form_values(schema, self.config_entry.options)
            ),
            description_placeholders={"webhook_url": self._webhook_url()},
        )

    def _webhook_url(self) -> str:
        """Return the alarm callback URL to enter in the console ("-" when there is none)."""
        runtime = getattr(self.config_entry, "runtime_data", None)
        push = runtime.alarms.push if runtime is not None else None
        return push.url if push is not None and push.url else "-"


def _whole_seconds(options: dict[str, Any]) -> dict[str, Any]:
    """Store the alarm options as whole seconds (the number selector gives floats)."""
    return {
        **options,
        **{
            key: int(options[key])
            for key in (CONF_ALARM_INTERVAL, CONF_MOTION_QUIET)
            if key in options
        },
    }


def _form_values(schema: vol.Schema, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the stored options the form shows; a value it cannot offer shows the default.

    Choices fall back as the entities read them (``options.py``, ``framing_or_default``); any
    other stored value the form's own selector rejects (a number out of range, not a number)
    is left out, so the field shows its default instead of failing on submit.
    """
    live = live_options(options)
    values = {
        **options,
        CONF_TRANSPORT: transport_or_default(options),
        CONF_FRAMING: framing_or_default(options.get(CONF_FRAMING)),
        CONF_STREAM_PROTOCOL: live.protocol,
        CONF_AUDIO_TRANSCODE: live.transcode_audio,
    }
    shown: dict[str, Any] = {}
    for key, selector in schema.schema.items():
        name = str(key)
        if name not in values:
            continue
        try:
            selector(values[name])
        except vol.Invalid:
            LOGGER.warning("Unknown option %s=%r: the form shows the default", name, values[name])
            continue
        shown[name] = values[name]
    return shown
