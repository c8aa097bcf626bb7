"""Telling people: whether and how much to say now (attention), each output's worker, reminders, escalation, the device's own messages."""
