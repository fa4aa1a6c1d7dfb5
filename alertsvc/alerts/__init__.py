"""Alerts: build from findings, sign (JWS EdDSA), store in the outbox, fan out to wards."""
