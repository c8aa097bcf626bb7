"""Messages coming in: the platform client, the poll loop, and ingest (checked, classified, routed, stored in one transaction)."""
