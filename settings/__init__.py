"""Typed, validated stack configuration: `load_settings(raw_config())` is the program's first step."""

from .errors import Problem, SettingsError
from .loader import load_settings, raw_config
from .model import Settings
from .zones import az_experiment_zone, choose_zones, pin_zones_advice

__all__ = [
    "Problem",
    "Settings",
    "SettingsError",
    "az_experiment_zone",
    "choose_zones",
    "load_settings",
    "pin_zones_advice",
    "raw_config",
]
