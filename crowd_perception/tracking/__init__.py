"""JDE online tracking (ROS-free): Kalman filter, association, track pool, profiles, evaluation helpers."""

from .config import PROFILES, TrackerConfig, get_profile, load_config
from .tracker import Tracker

__all__ = ["PROFILES", "Tracker", "TrackerConfig", "get_profile", "load_config"]
