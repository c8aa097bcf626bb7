"""The outputs: speech, the panel, push and the log, each behind the interface of :mod:`.interface`."""
