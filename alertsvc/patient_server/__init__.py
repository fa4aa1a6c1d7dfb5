"""The patient's own server over her ledger: her pages, the slice and entry endpoints, the live watch, and the
``ledger``/``keys`` command line that serves and inspects it."""
