"""The patient-owned health ledger: identities, signed entries, Merkle log, grants and slices."""
