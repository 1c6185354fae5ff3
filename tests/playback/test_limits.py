"""Playback limits: defaults, PLAYBACK_LIMITS overrides, and a bad setting refused at start-up."""

import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.config import ConfigurationError, env_int_map
from playback.limits import LIMIT_NAMES, PlaybackLimits, limits_build

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_documented_ones():
    assert PlaybackLimits().as_dict() == {
        "credits": 4,
        "fetch_window_ms": 3_600_000,
        "chunk_points": 500_000,
        "scope_entities": 60,
        "scope_window_ms": 86_400_000,
        "message_bytes": 8192,
        "messages_per_second": 40,
    }
    assert LIMIT_NAMES[0] == "credits"


def test_overrides_apply_and_unknown_or_bad_ones_are_refused():
    assert limits_build({"credits": 8}).credits == 8
    with pytest.raises(ValueError, match="unknown playback limit"):
        limits_build({"credit": 8})
    with pytest.raises(ValueError, match="positive integer"):
        limits_build({"credits": 0})


def test_the_environment_variable_is_key_equals_integer():
    assert env_int_map("X", environ={"X": " credits=8, fetch_window_ms=600000 ,"}) == {
        "credits": 8,
        "fetch_window_ms": 600_000,
    }
    assert env_int_map("X", environ={}) == {}
    with pytest.raises(ConfigurationError, match="key=integer"):
        env_int_map("X", environ={"X": "credits=lots"})


def test_settings_refuse_an_unknown_limit_at_start_up(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DISPATCHSCOPE_VAR_DIR": str(tmp_path),
        "PLAYBACK_LIMITS": "credits=2,speed=9",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "PLAYBACK_LIMITS: unknown playback limit(s) speed" in done.stderr
