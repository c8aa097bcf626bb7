"""Where a message goes: its category, its department and person, quiet hours; pure functions of a message and the config."""
