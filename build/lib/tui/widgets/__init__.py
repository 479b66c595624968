"""The main screen's panes, one per module."""
