"""Lets ``python -m speakerd`` work where the console script is not on PATH."""

from speakerd.cli import main

raise SystemExit(main())
