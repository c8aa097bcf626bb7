"""What the stored messages add up to: counts, the operations reports and analysis, the digest, charts, ``status``."""
