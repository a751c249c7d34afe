"""Adapters that bring muse_fx into other applications (Reaper, Audacity)."""
