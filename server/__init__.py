"""Zvonok: realtime messaging and video for schools."""

__version__ = "0.1.0"
