"""Storage: the seam between the hospital service and its database engines, and the cluster primitives
(the timer lease and cross-process fan-out) that run beside it on PostgreSQL."""
