"""speakerd: tells a shop's staff about platform events, aloud, on a panel and on their phones."""

__version__ = "0.1.0"
