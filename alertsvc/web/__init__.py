"""The Starlette application: routes, staff auth, server-sent events, CDS Hooks."""
