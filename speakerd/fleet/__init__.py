"""Several devices: one hub polls and assigns, department speakers announce, over an MQTT broker (docs/fleet.md)."""
