"""Typed, validated stack configuration: `load_settings(raw_config())` is the program's first step."""

from .errors import Problem, SettingsError
from .loader import choose_zones, load_settings, raw_config
from .model import Settings

__all__ = ["Problem", "Settings", "SettingsError", "choose_zones", "load_settings", "raw_config"]
