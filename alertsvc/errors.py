"""The one error tree of alertsvc.

Every error says what failed and on which input (entry id, drug, field, file). Library errors are
translated at the boundary with ``raise X from exc``. HTTP status codes live in ``alertsvc.web``; the
command line prints ``str(error)`` as one line on stderr and exits non-zero.

    AlertsvcError
    ├── ConfigError                  a setting is missing or malformed
    ├── InputError                   malformed JSON, duplicate keys, a missing or wrong-typed field
    │   ├── IdempotencyKeyReused     an Idempotency-Key used before with a different request body
    │   ├── BodyTooLarge             a request body over the service's byte limit (names the limit)
    │   ├── LimitExceeded            a list or text over one of the service's limits (names field and limit)
    │   └── ReasonRequired           a safety rule needs a reason first (a dose given under a critical alert)
    ├── IdentityError                a key file missing, unreadable, of the wrong kind, or in the way
    ├── LedgerError
    │   ├── LedgerNotFound           no ledger file at that path
    │   ├── LedgerExists             `ledger init` on an existing ledger
    │   ├── LedgerBusy               another process holds the ledger for longer than the busy timeout
    │   ├── BadSignature             an entry or tree head whose signature does not verify
    │   ├── BrokenLog                an entry deleted, inserted, reordered or altered: roots do not match
    │   ├── UnknownSigner            an entry signed by a key that is neither the patient nor a write grantee
    │   ├── UnknownKind              an entry kind or tree name alertsvc does not know
    │   └── ProofError               an inclusion or consistency proof that does not hold
    ├── GrantError
    │   ├── GrantNotYetValid         now is before the grant's not_before
    │   ├── GrantExpired             now is at or after the grant's expires_at
    │   ├── GrantRevoked             a revocation entry ends the grant
    │   ├── WrongGrantee             the grant names another grantee
    │   ├── OutOfScope               content the grant does not cover, or a write outside the write scope
    │   └── StaleHead                a tree head older than one already accepted
    ├── KnowledgeError
    │   ├── UnknownDrug              a term that does not resolve to RxNorm ingredients
    │   ├── TerminologyUnavailable   RxNav is slow, down, rate-limited or answered garbage
    │   └── KnowledgeBuildError      a source file is missing or malformed during `knowledge build`
    ├── ScheduleError                a bad dose time, dosage timing or ward time zone
    ├── StoreError                   the service database (SQLite or PostgreSQL) refused or failed a statement
    │   ├── UniqueViolation          a row whose unique key (or partial unique index) is already stored
    │   └── ConstraintViolation      any other refused row: a foreign key, NOT NULL, the append-only audit log
    └── ServiceError
        ├── NotFound                 no such admission, alert or ward
        ├── Conflict                 the request contradicts stored state (e.g. admission already ended)
        ├── Unauthorized             a bad, missing or expired token (shown to clients with no detail)
        ├── Forbidden                a valid token for another ward or role
        ├── TooManyRequests          a client over a per-token limit (e.g. open event streams)
        ├── Unreachable              another server the request needs (her ledger server) failed or is down
        └── SealingError             a sealed value or data key that the keys at hand do not open
            └── KeyShredded          her data key is gone (purged): her sealed values are unreadable
"""

from __future__ import annotations


class AlertsvcError(Exception):
    """Base of every error alertsvc raises on purpose."""


class ConfigError(AlertsvcError):
    """A setting is missing or malformed."""


class InputError(AlertsvcError):
    """Input that cannot be read: malformed JSON, duplicate keys, a missing or wrong-typed field."""


class IdempotencyKeyReused(InputError):
    """An Idempotency-Key already used, by the same caller on the same route, with another request body."""


class BodyTooLarge(InputError):
    """A request body over the service's byte limit; the message names the limit."""


class LimitExceeded(InputError):
    """A list or text over one of the service's limits; the message names the field and the limit."""


class ReasonRequired(InputError):
    """A clinical action that a safety rule lets through only with a coded reason and a name (a dose given
    while a critical alert concerns it); the message names what is missing."""


class IdentityError(AlertsvcError):
    """A key file is missing, unreadable, of the wrong kind, or would be overwritten."""


class LedgerError(AlertsvcError):
    """A patient ledger or something read from one is not as it must be."""


class LedgerNotFound(LedgerError):
    """No ledger file at the given path."""


class LedgerExists(LedgerError):
    """A ledger already exists at the given path."""


class LedgerBusy(LedgerError):
    """Another process held the ledger for longer than the busy timeout."""


class BadSignature(LedgerError):
    """An entry, tree head or request whose signature does not verify."""


class BrokenLog(LedgerError):
    """The log's entries do not hash to the signed roots: deleted, inserted, reordered or altered."""


class UnknownSigner(LedgerError):
    """An entry signed by a key that is neither the patient nor a grantee allowed to write."""


class UnknownKind(LedgerError):
    """An entry kind or tree name that alertsvc does not know."""


class ProofError(LedgerError):
    """An inclusion or consistency proof that does not hold."""


class GrantError(AlertsvcError):
    """A grant that does not allow what is asked."""


class GrantNotYetValid(GrantError):
    """The grant's not_before is still in the future."""


class GrantExpired(GrantError):
    """The grant's expires_at has passed."""


class GrantRevoked(GrantError):
    """A revocation entry ends the grant."""


class WrongGrantee(GrantError):
    """The grant names a different grantee."""


class OutOfScope(GrantError):
    """Content or a write that the grant's scope does not cover."""


class StaleHead(GrantError):
    """A tree head older than one already accepted."""


class KnowledgeError(AlertsvcError):
    """Drug knowledge could not answer."""


class UnknownDrug(KnowledgeError):
    """A term that does not resolve to RxNorm ingredients."""


class TerminologyUnavailable(KnowledgeError):
    """The terminology server is slow, down, rate-limited or answered garbage."""


class KnowledgeBuildError(KnowledgeError):
    """A public source file is missing or malformed during the knowledge build."""


class ScheduleError(AlertsvcError):
    """A bad dose time, dosage timing or ward time zone."""


class StoreError(AlertsvcError):
    """The service database refused or failed a statement; both engines raise this tree (``alertsvc.store``)
    with the driver's error as the cause."""


class UniqueViolation(StoreError):
    """A row whose unique key (primary key, UNIQUE column or partial unique index) is already stored."""


class ConstraintViolation(StoreError):
    """A row refused by another constraint: a foreign key, NOT NULL, or the append-only audit log."""


class ServiceError(AlertsvcError):
    """A request to the hospital service that cannot be carried out."""


class NotFound(ServiceError):
    """No such admission, alert or ward."""


class Conflict(ServiceError):
    """The request contradicts stored state."""


class Unauthorized(ServiceError):
    """A bad, missing or expired token. Clients see a bare 401 with no detail."""


class Forbidden(ServiceError):
    """A valid token for another ward or role."""


class TooManyRequests(ServiceError):
    """A client over a per-token limit (e.g. open event streams); the message names the limit."""


class Unreachable(ServiceError):
    """Another server the request needs (the patient's ledger server) could not be reached or failed."""


class SealingError(ServiceError):
    """A sealed value or a wrapped data key that the keys at hand do not open (names the admission)."""


class KeyShredded(SealingError):
    """The admission's data key is gone (purged): her sealed values can never be read again."""
