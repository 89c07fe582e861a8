"""Exceptions users catch, named as upstream DBOS names them so `except` clauses carry over.

Every error carries a stable numeric code (upstream's numbering) so logs and tooling can match
on it without parsing messages.
"""

from __future__ import annotations

from typing import Any


class DBOSException(Exception):
    """Base of every recoverable DBOS error."""

    def __init__(self, message: str, dbos_error_code: int | None = None) -> None:
        self.message = message
        self.dbos_error_code = dbos_error_code
        super().__init__(message)

    def __str__(self) -> str:
        if self.dbos_error_code is not None:
            return f"DBOS Error {self.dbos_error_code}: {self.message}"
        return f"DBOS Error: {self.message}"

    def __reduce__(self) -> Any:
        return (self.__class__, (self.message,))


class DBOSBaseException(BaseException):
    """Base of errors that must not be swallowed by a user's `except Exception`."""

    def __init__(self, message: str, dbos_error_code: int | None = None) -> None:
        self.message = message
        self.dbos_error_code = dbos_error_code
        super().__init__(message)

    def __str__(self) -> str:
        return f"DBOS Error {self.dbos_error_code}: {self.message}"

    def __reduce__(self) -> Any:
        return (self.__class__, (self.message,))


class DBOSWorkflowConflictIDError(DBOSBaseException):
    """Another execution of the same workflow already recorded this step; this one stops."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(
            f"Conflicting workflow ID {workflow_id}: another execution owns this workflow", 1
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id,))


class DBOSRecoveryError(DBOSException):
    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        self.workflow_id = workflow_id
        super().__init__(f"Recovery error for workflow ID {workflow_id}: {message or ''}", 2)

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id,))


class DBOSInitializationError(DBOSException):
    def __init__(self, message: str) -> None:
        super().__init__(message, 3)


class DBOSWorkflowFunctionNotFoundError(DBOSException):
    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        self.workflow_id = workflow_id
        super().__init__(f"Workflow function not found for workflow ID {workflow_id}: {message}", 4)

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id,))


class DBOSNonExistentWorkflowError(DBOSException):
    """No workflow has this ID; `kind` says what it was wanted as (upstream's wording: the
    "target" of a call, the "`send` destination" of a message)."""

    def __init__(self, workflow_id: str, kind: str = "target") -> None:
        self.workflow_id = workflow_id
        self.kind = kind
        super().__init__(f"Non-existent {kind} workflow ID: {workflow_id}", 5)

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id, self.kind))


class MaxRecoveryAttemptsExceededError(DBOSException):
    def __init__(self, workflow_id: str, max_retries: int) -> None:
        self.workflow_id = workflow_id
        self.max_retries = max_retries
        super().__init__(
            f"Workflow {workflow_id} has been recovered {max_retries} times without completing; "
            "it is now in status MAX_RECOVERY_ATTEMPTS_EXCEEDED. "
            "Fix the crash, then DBOS.resume_workflow() it.",
            6,
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id, self.max_retries))


class DBOSMaxStepRetriesExceeded(DBOSException):
    def __init__(self, step_name: str, max_retries: int, errors: list[Exception] | None = None):
        self.step_name = step_name
        self.max_retries = max_retries
        self.errors = list(errors or [])
        last = f" Last error: {self.errors[-1]!r}" if self.errors else ""
        super().__init__(
            f"Step {step_name} has exceeded its maximum of {max_retries} attempts.{last}", 7
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.step_name, self.max_retries, self.errors))


class DBOSNotAuthorizedError(DBOSException):
    def __init__(self, message: str) -> None:
        super().__init__(message, 8)


class DBOSConflictingWorkflowError(DBOSException):
    def __init__(self, workflow_id: str, message: str | None = None) -> None:
        self.workflow_id = workflow_id
        self.detail = message
        super().__init__(
            f"Conflicting workflow invocation with the same ID ({workflow_id}): {message}", 9
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id, self.detail))


class DBOSWorkflowCancelledError(DBOSBaseException):
    """Raised inside a workflow whose status became CANCELLED; unwinds the body."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 10)


class DBOSWorkflowAbandonedError(DBOSBaseException):
    """Raised inside a workflow whose checkpoint could not be written because the system
    database stayed unreachable past the retry bound. Not an error of the workflow: it stops
    here, stays PENDING, and is resumed from its last checkpoint once the database is back."""

    def __init__(self, workflow_id: str, reason: str) -> None:
        self.workflow_id = workflow_id
        self.reason = reason
        super().__init__(
            f"Workflow {workflow_id} stopped: the system database is unreachable ({reason}); "
            "it stays PENDING and resumes from its last checkpoint once the database is back",
            19,
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id, self.reason))


class DBOSExecutorShutdownError(DBOSBaseException):
    """Raised inside a workflow at its next durable boundary (a step, a wait) once its process
    stops gracefully (SIGTERM, a server's shutdown). Not an error of the workflow: it unwinds
    the body (re-raise it from any `except BaseException`), nothing is recorded, and the
    workflow stays PENDING, to resume from its last checkpoint at recovery."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(
            f"Workflow {workflow_id} stopped: its process is shutting down; it stays PENDING "
            "and resumes from its last checkpoint at recovery",
            33,
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id,))


class DBOSUnexpectedStepError(DBOSException):
    """Replay found a different operation recorded at this step number: nondeterminism."""

    def __init__(self, workflow_id: str, step_id: int, expected_name: str, recorded_name: str):
        self.workflow_id = workflow_id
        self.step_id = step_id
        self.expected_name = expected_name
        self.recorded_name = recorded_name
        super().__init__(
            f"During execution of workflow {workflow_id} step {step_id}, function "
            f"{recorded_name} was recorded when {expected_name} was expected. "
            "Check that your workflow is deterministic.",
            11,
        )

    def __reduce__(self) -> Any:
        return (
            self.__class__,
            (self.workflow_id, self.step_id, self.expected_name, self.recorded_name),
        )


class DBOSQueueDeduplicatedError(DBOSException):
    def __init__(self, workflow_id: str, queue_name: str, deduplication_id: str) -> None:
        self.workflow_id = workflow_id
        self.queue_name = queue_name
        self.deduplication_id = deduplication_id
        super().__init__(
            f"Workflow {workflow_id} was deduplicated due to an existing workflow in queue "
            f"{queue_name} with deduplication ID {deduplication_id}.",
            12,
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id, self.queue_name, self.deduplication_id))


class DBOSPatchNondeterminismError(DBOSException):
    """A patch whose place in the workflow's history would depend on task scheduling (called
    from a task the workflow started), so a replay could not tell which path the run took."""

    def __init__(self, workflow_id: str, patch_name: str, details: str) -> None:
        self.workflow_id = workflow_id
        self.patch_name = patch_name
        self.details = details
        super().__init__(
            f"Cannot deterministically apply patch {patch_name} in workflow {workflow_id}: "
            f"{details}. Check that your workflow is deterministic.",
            15,
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id, self.patch_name, self.details))


class DBOSStreamTimeoutError(DBOSException):
    """No value arrived on a stream within `timeout_seconds` of the previous one."""

    def __init__(self, workflow_id: str, key: str, timeout_seconds: float | None = None) -> None:
        self.workflow_id = workflow_id
        self.key = key
        self.timeout_seconds = timeout_seconds
        waited = f" within {timeout_seconds} s" if timeout_seconds is not None else ""
        super().__init__(
            f"No value arrived on stream {key!r} of workflow {workflow_id}{waited}", 16
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id, self.key, self.timeout_seconds))


class DBOSStepTimeoutError(DBOSException):
    """An attempt of an async step ran past the step's `timeout_seconds` and was cancelled."""

    def __init__(self, step_name: str, timeout_seconds: float) -> None:
        self.step_name = step_name
        self.timeout_seconds = timeout_seconds
        super().__init__(
            f"Step {step_name} did not finish within its timeout of {timeout_seconds} s", 18
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.step_name, self.timeout_seconds))


class DBOSAwaitedWorkflowCancelledError(DBOSException):
    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(f"Awaited workflow {workflow_id} was cancelled", 13)

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id,))


class DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded(DBOSException):
    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(
            f"Awaited workflow {workflow_id} exceeded its maximum recovery attempts", 14
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.workflow_id,))


class DBOSConflictingRegistrationError(DBOSException):
    def __init__(self, name: str, message: str | None = None) -> None:
        self.name = name
        super().__init__(
            message or f"Operation (Name: {name}) is already registered with a different function",
            25,
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.name, self.message))


class DBOSInvalidStepOptionError(DBOSException, ValueError):
    """A step option its step cannot honour (a timeout or preemption on a sync step) or out of
    range; a ValueError too, like the other bad arguments of `@DBOS.step`."""


class DBOSDuplicateRegistrationError(DBOSConflictingRegistrationError):
    """A second class, or configured instance, under a name already taken: recovery finds them
    by name and could not tell them apart. Its text is the message alone, as upstream's."""

    def __str__(self) -> str:
        return self.message


class DBOSSerializationError(DBOSException, TypeError):
    """A value cannot be stored: raised before anything is written. Also a TypeError, which is
    what `json.dumps` raises and what upstream-style handlers catch."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 30)


class DBOSNotInTransactionError(DBOSException, AssertionError):
    """A transaction's session (`DBOS.sql_session`, `ds.sql_session()`) asked for outside any
    transaction. Also an AssertionError, which is what upstream DBOS raises there (it asserts)."""


class DBOSDeserializationError(DBOSException):
    """A stored value cannot be read back (corrupt row, unknown format, or missing class)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 31)


class DBOSFormatNotConfiguredError(DBOSDeserializationError):
    """A stored value is in a format this process may not read without being configured for
    it (pickle above all: unpickling runs code chosen by whoever wrote the row). Not the
    workflow's error: a workflow that meets one stays as it is, for a process configured to
    read it."""

    def __init__(self, stored_format: str, configured: str) -> None:
        self.stored_format = stored_format
        self.configured = configured
        if stored_format == "py_pickle":
            how = (
                "it is pickled (py_pickle, upstream DBOS's default format), and this process "
                'unpickles only when its config says "serializer": PickleSerializer() (from '
                "dbos import PickleSerializer). Unpickling runs code chosen by whoever wrote "
                "the row: opt in only if every writer of this database is trusted"
            )
        else:
            how = (
                f"this process is configured with serializer {configured!r}: configure the "
                "serializer that wrote it"
            )
        # Upstream's words for it first ("Serialization X is not available"), then ours.
        super().__init__(
            f"Serialization {stored_format} is not available: a stored value is in format "
            f"{stored_format!r} and was not read: {how}"
        )

    def __reduce__(self) -> Any:
        return (self.__class__, (self.stored_format, self.configured))


class DBOSSchemaVersionError(DBOSInitializationError):
    """The system database was migrated by a newer version of this library."""


class DBOSDatabaseConnectionError(DBOSInitializationError):
    """The system database cannot be reached (at launch, or for longer than the retry bound
    during a write); the message names it with the password masked."""


class DBOSDatabaseReplacedError(DBOSDatabaseConnectionError):
    """The SQLite system database file was deleted or replaced under a running process: every
    write stops with this error rather than start over in a new, empty file."""


class DBOSRecordedError(DBOSException):
    """A recorded exception whose class cannot be rebuilt here: keeps its type name and message."""

    def __init__(self, type_name: str, error_message: str) -> None:
        self.type_name = type_name
        self.error_message = error_message
        super().__init__(f"{type_name}: {error_message}", 32)

    def __reduce__(self) -> Any:
        return (self.__class__, (self.type_name, self.error_message))
