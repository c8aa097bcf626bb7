"""Lasting trouble (platform, disk, database, an output) turned into one technical alert, reminders and a recovery notice."""
