"""What hassfest and the HACS action would check, for a repository where they cannot run.

Also enforces, for every quality-scale rule marked done, the static checks core's hassfest runs.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import AwesomeVersion
from PIL import Image
import pytest
import yaml

from custom_components.volcengine_aiot import services
from custom_components.volcengine_aiot.const import DOMAIN

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / DOMAIN
PLATFORMS = ("assist_satellite", "binary_sensor", "button", "camera", "event", "media_player")

BRONZE = (
    "action-setup appropriate-polling brands common-modules config-flow config-flow-test-coverage "
    "dependency-transparency docs-actions docs-conditions docs-high-level-description "
    "docs-installation-instructions docs-removal-instructions docs-triggers entity-event-setup "
    "entity-unique-id has-entity-name runtime-data test-before-configure test-before-setup "
    "unique-config-entry"
).split()
SILVER = (
    "action-exceptions config-entry-unloading docs-configuration-parameters "
    "docs-installation-parameters entity-unavailable integration-owner log-when-unavailable "
    "parallel-updates reauthentication-flow test-coverage"
).split()
GOLD = (
    "devices diagnostics discovery discovery-update-info docs-data-update docs-examples "
    "docs-known-limitations docs-supported-devices docs-supported-functions docs-troubleshooting "
    "docs-use-cases dynamic-devices entity-category entity-device-class entity-disabled-by-default "
    "entity-translations exception-translations icon-translations reconfiguration-flow "
    "repair-issues stale-devices"
).split()
PLATINUM = ["async-dependency", "inject-websession", "strict-typing"]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _tree(name: str) -> ast.Module:
    return ast.parse((INTEGRATION / name).read_text(encoding="utf-8"))


def _keys(data: Any, prefix: str = "") -> set[str]:
    if not isinstance(data, dict):
        return {prefix}
    keys: set[str] = set()
    for key, value in data.items():
        keys |= _keys(value, f"{prefix}.{key}" if prefix else key)
    return keys


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


# --- manifest and hacs.json -------------------------------------------------------------------


def test_manifest() -> None:
    manifest = _json(INTEGRATION / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest wants domain, name, then alphabetical keys"
    assert manifest["domain"] == INTEGRATION.name == DOMAIN
    for key in ("codeowners", "documentation", "issue_tracker", "name", "version"):
        assert manifest[key], key
    assert isinstance(manifest["codeowners"], list)
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    assert AwesomeVersion(manifest["version"]).valid
    assert manifest["config_flow"] is True
    assert (INTEGRATION / "config_flow.py").is_file()
    assert manifest["iot_class"] in {"cloud_polling", "cloud_push"}
    assert manifest["integration_type"] in {"hub", "service", "device"}
    assert manifest["quality_scale"] == "platinum"
    assert manifest["requirements"] == []
    assert {"ffmpeg", "http", "media_source"} <= set(manifest["dependencies"])


def test_hacs_json() -> None:
    hacs = _json(ROOT / "hacs.json")
    allowed = {
        "name", "content_in_root", "zip_release", "filename", "hide_default_branch",
        "country", "homeassistant", "hacs", "persistent_directory", "render_readme",
    }  # fmt: skip
    assert set(hacs) <= allowed
    assert hacs["name"]
    assert AwesomeVersion(hacs["homeassistant"]).valid
    assert "zip_release" not in hacs or "filename" in hacs
    # exactly one integration, everything inside its folder
    assert [p.name for p in (ROOT / "custom_components").iterdir() if p.is_dir() and
            not p.name.startswith("__")] == [DOMAIN]  # fmt: skip
    assert (ROOT / "README.md").is_file()
    assert "MIT" in (ROOT / "LICENSE").read_text()


def _pin(requirements: str, package: str) -> str:
    for line in (ROOT / requirements).read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} is not pinned in {requirements}")


def test_minimum_version_is_the_tested_one() -> None:
    """hacs.json's minimum is the release the floor suite (and scripts/smoke floor) runs on."""
    from importlib.metadata import version  # noqa: PLC0415

    from homeassistant.const import __version__  # noqa: PLC0415

    minimum = AwesomeVersion(_json(ROOT / "hacs.json")["homeassistant"])
    running = AwesomeVersion(__version__)
    assert running >= minimum
    harness = version("pytest-homeassistant-custom-component")
    harness_pin = "pytest-homeassistant-custom-component"
    newest = _pin("requirements_test.txt", harness_pin)
    floor = _pin("requirements_test_floor.txt", harness_pin)
    assert harness in {newest, floor}, "the suite runs on one of the two pinned harnesses"
    if harness == floor:
        # No harness release pins x.y.0: the floor suite runs on the first harness of the
        # minimum's monthly release (2026.3.1), scripts/smoke on the minimum itself.
        assert (running.major, running.minor) == (minimum.major, minimum.minor)
    readme = (ROOT / "README.md").read_text()
    assert f"Home Assistant {minimum}" in readme, "README states the supported minimum"


@pytest.mark.parametrize(
    ("name", "shortest"),
    [
        ("icon.png", (256, 256)),
        ("icon@2x.png", (512, 512)),
        ("logo.png", (128, 256)),
        ("logo@2x.png", (256, 512)),
        ("dark_logo.png", (128, 256)),
        ("dark_logo@2x.png", (256, 512)),
    ],
)
def test_brand_images(name: str, shortest: tuple[int, int]) -> None:
    """PNGs of the sizes HA's brand guidelines ask for (a logo: shortest side 128-256 px)."""
    path = INTEGRATION / "brand" / name
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.mode == "RGBA"
        assert shortest[0] <= min(image.size) <= shortest[1]
        if name.startswith(("logo", "dark_logo")):
            assert image.width > image.height  # a wordmark beside the icon


# --- translations, services, icons ------------------------------------------------------------


def test_translations_have_identical_keys() -> None:
    en = _json(INTEGRATION / "translations" / "en.json")
    zh = _json(INTEGRATION / "translations" / "zh-Hans.json")
    assert _keys(en) == _keys(zh)
    placeholders = re.compile(r"\{(\w+)\}")
    for key in _keys(en):
        en_value = _lookup(en, key)
        zh_value = _lookup(zh, key)
        assert set(placeholders.findall(en_value)) == set(placeholders.findall(zh_value)), key
        assert "[%key:" not in en_value, "references are resolved only for core integrations"


# hassfest's rule (script/hassfest/translations.py): a translated string holds no URL (a
# scheme or www. followed by a host name); URLs go into description placeholders.
URL_IN_STRING = re.compile(
    r"((ftps?|scp|https?|mqtts?|socket|socks5)://|www\.)[a-z0-9]+([-.][a-z0-9]+)*\.[a-z]{2,5}",
    re.IGNORECASE,
)


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_translations_hold_no_url(language: str) -> None:
    strings = _json(INTEGRATION / "translations" / f"{language}.json")
    found = [key for key in _keys(strings) if URL_IN_STRING.search(_lookup(strings, key))]
    assert found == [], "hassfest: use description placeholders for URLs"


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_error_strings_have_no_markdown(language: str) -> None:
    """Form errors, aborts and raised errors are shown as plain text: no `code` marks."""
    strings = _json(INTEGRATION / "translations" / f"{language}.json")
    plain = [key for key in _keys(strings) if key.split(".")[1] in ("error", "abort")]
    plain += [key for key in _keys(strings) if key.startswith("exceptions.")]
    assert plain
    assert [key for key in plain if "`" in _lookup(strings, key)] == []


def _components_used(tree: ast.Module) -> set[str]:
    """The ``homeassistant.components.X`` a module imports, as hassfest collects them.

    Imports under ``if TYPE_CHECKING:`` do not count (nothing is loaded for them).
    """
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    used: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("homeassistant.components."):
                used.add(node.module.split(".")[2])
            elif node.module == "homeassistant.components":
                used |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            prefix = "homeassistant.components."
            used |= {a.name.split(".")[2] for a in node.names if a.name.startswith(prefix)}
    return used


def test_every_used_component_is_declared() -> None:
    """hassfest (script/hassfest/dependencies.py): what is imported is in the manifest.

    A bit stricter than hassfest, which also lets a few internal integrations go undeclared:
    allowed are the entity platforms, the manifest's dependencies and after_dependencies,
    and a name this integration has a platform module of (diagnostics.py, websocket_api.py).
    """
    from homeassistant.const import Platform  # noqa: PLC0415

    manifest = _json(INTEGRATION / "manifest.json")
    declared = set(manifest.get("dependencies", [])) | set(manifest.get("after_dependencies", []))
    assert not set(manifest.get("dependencies", [])) & set(manifest.get("after_dependencies", []))
    allowed = declared | {platform.value for platform in Platform}
    undeclared: dict[str, set[str]] = {}
    for path in sorted(INTEGRATION.rglob("*.py")):
        for used in _components_used(ast.parse(path.read_text(encoding="utf-8"))):
            own_platform = (INTEGRATION / f"{used}.py").is_file()
            if used not in allowed and used != DOMAIN and not own_platform:
                undeclared.setdefault(used, set()).add(str(path.relative_to(INTEGRATION)))
    assert undeclared == {}, "add them to dependencies or after_dependencies"
    assert "assist_pipeline" in declared  # the satellite imports its PipelineEvent


def _lookup(data: Any, dotted: str) -> str:
    for part in dotted.split("."):
        data = data[part]
    return str(data)


def test_no_strings_json() -> None:
    """Custom integrations ship their English in translations/en.json."""
    assert not (INTEGRATION / "strings.json").exists()


def _string_literals(tree: ast.AST, keyword: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == keyword:
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(node.value.value)
    return found


def test_every_used_key_is_translated() -> None:
    en = _json(INTEGRATION / "translations" / "en.json")
    exceptions = set(en["exceptions"])
    for path in INTEGRATION.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for key in _string_literals(tree, "translation_key"):
            assert (
                key in exceptions
                or any(key in en["entity"].get(platform, {}) for platform in PLATFORMS)
                or key in en["selector"]
                or key in en["issues"]
            ), f"{path.name}: {key}"
        for node in ast.walk(tree):
            # errors["base"] = "..." in the config flow
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].value, ast.Name)
                and node.targets[0].value.id == "errors"
            ):
                assert node.value.value in en["config"]["error"], node.value.value
    from custom_components.volcengine_aiot.talk import errors as talk_errors  # noqa: PLC0415

    for obj in vars(talk_errors).values():
        if isinstance(obj, type) and issubclass(obj, talk_errors.TalkError):
            assert obj.translation_key in exceptions, obj
    from custom_components.volcengine_aiot.live import errors as live_errors  # noqa: PLC0415

    for obj in vars(live_errors).values():
        if isinstance(obj, type) and issubclass(obj, live_errors.LiveStreamError):
            assert obj.translation_key in exceptions, obj
    from custom_components.volcengine_aiot.api import errors as api_errors  # noqa: PLC0415

    for obj in vars(api_errors).values():
        if isinstance(obj, type) and issubclass(obj, api_errors.VolcenginePtzInputError):
            assert obj.translation_key in exceptions, obj
    from custom_components.volcengine_aiot.ptz import errors as ptz_errors  # noqa: PLC0415

    for obj in vars(ptz_errors).values():
        if isinstance(obj, type) and issubclass(obj, ptz_errors.PtzError):
            assert obj.translation_key in exceptions, obj
    assert "channel" in en["entity"]["camera"]  # the NVR channel cameras' name


def test_services_yaml_matches_registration_and_translations() -> None:
    described = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    en = _json(INTEGRATION / "translations" / "en.json")
    zh = _json(INTEGRATION / "translations" / "zh-Hans.json")
    icons = _json(INTEGRATION / "icons.json")
    assert set(described) == {services.SERVICE_PLAY_AUDIO}
    schema_fields = {str(key) for key in services.PLAY_AUDIO_SCHEMA}
    for name, spec in described.items():
        assert set(spec["fields"]) == schema_fields
        for translations in (en, zh):
            entry = translations["services"][name]
            assert entry["name"]
            assert entry["description"]
            assert set(entry["fields"]) == schema_fields
        assert icons["services"][name]["service"].startswith("mdi:")


def test_icons_match_entities() -> None:
    icons = _json(INTEGRATION / "icons.json")
    en = _json(INTEGRATION / "translations" / "en.json")
    for platform, entities in icons["entity"].items():
        assert platform in PLATFORMS
        for key, icon in entities.items():
            assert key in en["entity"][platform]
            assert icon["default"].startswith("mdi:")


# --- quality scale -------------------------------------------------------------------------------


def _rules() -> dict[str, Any]:
    return yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]


def test_quality_scale_lists_every_rule() -> None:
    rules = _rules()
    assert len(BRONZE + SILVER + GOLD + PLATINUM) == 54
    assert set(rules) == set(BRONZE + SILVER + GOLD + PLATINUM)
    for name, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "exempt"}, f"{name} must be done or exempt for platinum"
        if status == "exempt":
            assert value["comment"], name


def _done(rule: str) -> bool:
    value = _rules()[rule]
    return (value if isinstance(value, str) else value["status"]) == "done"


def test_done_rules_hold() -> None:
    init = _tree("__init__.py")
    init_source = (INTEGRATION / "__init__.py").read_text()
    flow_source = (INTEGRATION / "config_flow.py").read_text()
    if _done("runtime-data"):
        assert "entry.runtime_data =" in init_source
    if _done("test-before-setup"):
        assert "async_config_entry_first_refresh" in init_source
    if _done("unique-config-entry"):
        assert "async_set_unique_id" in flow_source
        assert "_abort_if_unique_id_configured" in flow_source
    if _done("reauthentication-flow"):
        assert "async_step_reauth" in flow_source
    if _done("reconfiguration-flow"):
        assert "async_step_reconfigure" in flow_source
    if _done("config-entry-unloading"):
        assert "async_unload_entry" in _functions(init)
    if _done("diagnostics"):
        assert "async_get_config_entry_diagnostics" in _functions(_tree("diagnostics.py"))
    if _done("parallel-updates"):
        for platform in PLATFORMS:
            assert "\nPARALLEL_UPDATES = " in (INTEGRATION / f"{platform}.py").read_text()
    if _done("action-setup"):
        for module in ("__init__.py", *(f"{p}.py" for p in PLATFORMS)):
            entry_setup = _functions(_tree(module)).get("async_setup_entry")
            assert entry_setup is not None
            source = ast.unparse(entry_setup)
            for call in ("services.async_register", "async_register_entity_service"):
                assert call not in source, module
        assert "CONFIG_SCHEMA" in init_source
    if _done("has-entity-name"):
        assert "_attr_has_entity_name = True" in (INTEGRATION / "entity.py").read_text()
        for platform in PLATFORMS:
            tree = _tree(f"{platform}.py")
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and node.name.endswith("Entity"):
                    assert any(
                        isinstance(base, ast.Name)
                        and base.id
                        in {"VolcengineEntity", "VolcengineTalkEntity", "VolcengineChannelEntity"}
                        for base in node.bases
                    ), node.name
    if _done("strict-typing"):
        alias = re.compile(r"^[A-Za-z]+ConfigEntry$")
        modules = ("__init__.py", "diagnostics.py", *(f"{p}.py" for p in PLATFORMS))
        for module in modules:
            for name, func in _functions(_tree(module)).items():
                if name in {
                    "async_setup_entry",
                    "async_unload_entry",
                    "async_migrate_entry",
                    "async_remove_entry",
                    "async_remove_config_entry_device",
                    "async_get_config_entry_diagnostics",
                    "async_get_device_diagnostics",
                }:
                    annotation = func.args.args[1].annotation
                    assert isinstance(annotation, ast.Name), (module, name)
                    assert alias.match(annotation.id), (module, name)
    if _done("inject-websession"):
        # the client is built in runtime.py (the config flow uses it too: no import of __init__)
        assert "async_get_clientsession" in (INTEGRATION / "runtime.py").read_text()


def test_api_talk_and_live_are_home_assistant_free() -> None:
    for package in ("api", "talk", "live", "events", "ptz", "recordings"):
        for path in (INTEGRATION / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                    if node.level >= 2 and not (node.module or "").startswith("api"):
                        names.append("..")  # reaching up into the HA glue
                for name in names:
                    assert not name.startswith("homeassistant"), path
                    assert name != "..", f"{path} imports from the HA glue"


# Host names of package registries and distribution archives, spelled in parts so that this
# file does not contain them either.
REGISTRY_HOSTS = [
    ".".join(parts)
    for parts in (
        ("deb", "debian", "org"),
        ("ftp", "debian", "org"),
        ("security", "debian", "org"),
        ("archive", "ubuntu", "com"),
        ("pypi", "org"),
        ("files", "pythonhosted", "org"),
        ("registry", "npmjs", "org"),
        ("proxy", "golang", "org"),
        ("crates", "io"),
        ("rubygems", "org"),
        ("dl-cdn", "alpinelinux", "org"),
    )
]
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
}


def test_no_package_registry_host_names() -> None:
    """Scripts take mirrors from the machine (apt sources, pip configuration), never a host."""
    found = []
    for path in ROOT.rglob("*"):
        if not path.is_file() or SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
            continue
        try:
            text = path.read_text(encoding="utf-8").lower()
        except UnicodeDecodeError, OSError:
            continue
        found += [f"{path.relative_to(ROOT)}: {host}" for host in REGISTRY_HOSTS if host in text]
    assert found == []


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    level = heading.split(" ", 1)[0]
    end = text.find(f"\n{level} ", start + len(heading) + 2)
    return text[start : end if end != -1 else len(text)]


def test_readme_installs_through_the_marketplace_and_hacs() -> None:
    """2026.11 replaced HACS by the built-in Marketplace: both ways are described.

    The menu names are those of Home Assistant 2026.11's frontend (English, Simplified Chinese).
    """
    readme = (ROOT / "README.md").read_text()
    install = _section(readme, "## Installation")
    for name in ("Settings → Marketplace", "设置 → 市场", "Add from link", "从链接添加",
                 "GitHub link", "connect GitHub", "Integration", "Install",
                 "Restart Home Assistant", "HACS (Home Assistant before 2026.11)"):  # fmt: skip
        assert name in install, name
    assert install.index("### Marketplace") < install.index("### HACS")


def test_readme_says_how_to_get_a_dashboard_that_takes_the_card() -> None:
    """The 2026.11 Overview takes no cards: a dashboard that does is made before Add card."""
    card = _section((ROOT / "README.md").read_text(), "## Talk from the dashboard")
    assert "Edit Overview page" in card
    made = card.index("Settings → Dashboards →\nAdd dashboard → New dashboard from scratch")
    assert made < card.index("Add card")
