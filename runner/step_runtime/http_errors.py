"""The HTTP error types the real SDK raises for failed service calls, shared by step and client.

`msrest.exceptions` (which azureml-core installs) defines `HttpOperationError` and its kin;
the SDK's service errors (`ErrorResponseException`, `ServiceException`) derive from it, so
scripts catch them as `HttpOperationError`. amlocal raises `LocalServiceError` where the Azure
service would have answered with an error (a datastore or secret that does not exist): it is
an `ErrorResponseException` carrying a status code, and a `UserErrorException` too, so both
kinds of `except` see it. Standard library only.
"""
from __future__ import annotations

import sys
from typing import Any

from runner.step_runtime.exceptions import UserErrorException


def raise_with_traceback(exception: Any, message: str = "", *args: Any, **kwargs: Any) -> None:
    """Raise `exception(message, ...)` with the traceback being handled (msrest's helper)."""
    exc_type, exc_value, exc_traceback = sys.exc_info()
    text = f"{message}, {getattr(exc_type, '__name__', None)}: {exc_value}"
    raise exception(text, *args, **kwargs).with_traceback(exc_traceback)


class ClientException(Exception):
    """Base of msrest's client runtime exceptions."""

    def __init__(self, message: str, inner_exception: BaseException | None = None,
                 *args: Any, **kwargs: Any) -> None:
        self.inner_exception = inner_exception
        super().__init__(message, *args)


class SerializationError(ValueError):
    """A value could not be serialized for a request."""


class DeserializationError(ValueError):
    """A response could not be deserialized."""


class TokenExpiredError(ClientException):
    """OAuth token expired, request failed."""


class ValidationError(ClientException):
    """A request parameter failed validation."""

    def __init__(self, rule: str, target: str, value: str, *args: Any, **kwargs: Any) -> None:
        self.rule = rule
        self.target = target
        super().__init__(f"Parameter {target!r} failed to meet validation requirement {rule} "
                         f"({value!r}).", *args, **kwargs)


class ClientRequestError(ClientException):
    """The request could not be sent."""


class AuthenticationError(ClientException):
    """The request could not be authenticated."""


class _Response:
    """The parts of an HTTP response that error handlers read (`status_code`, `reason`, `text`)."""

    def __init__(self, status_code: int, reason: str, text: str) -> None:
        self.status_code = status_code
        self.reason = reason
        self.text = text
        self.headers: dict[str, str] = {}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"{self.status_code} {self.reason}")


class HttpOperationError(ClientException):
    """The service answered with an error status (msrest's signature: deserialize, response)."""

    _DEFAULT_MESSAGE = "Unknown error"

    def __init__(self, deserialize: Any, response: Any, resp_type: str | None = None,
                 *args: Any, **kwargs: Any) -> None:
        self.error: Any = None
        self.response = getattr(response, "internal_response", response)
        reason = getattr(self.response, "reason", None)
        text = (f"Operation returned an invalid status code {reason!r}" if reason
                else self._DEFAULT_MESSAGE)
        self._http_message = text
        super().__init__(text, *args, **kwargs)

    def __str__(self) -> str:
        return str(self.message)

    @property
    def message(self) -> str:
        return self._http_message

    @message.setter
    def message(self, value: str) -> None:
        self._http_message = value


class ErrorResponseException(HttpOperationError):
    """The SDK's service error (`azureml._restclient.models.error_response`)."""


class LocalServiceError(ErrorResponseException, UserErrorException):
    """What Azure's service would have answered, raised locally: `(code) message`, a status."""

    def __init__(self, message: str, status_code: int = 404, code: str = "UserError") -> None:
        text = f"({code}) {message}"
        reasons = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
        self.error = None
        self.response = _Response(status_code, reasons.get(status_code, "Error"), text)
        self.status_code = status_code
        self._inner_exception = None
        self._http_message = text
        self._message = text
        Exception.__init__(self, text)

    @property
    def message(self) -> str:
        return self._http_message


# Tracebacks and amlocal's one-line errors name it as the SDK's users know it.
LocalServiceError.__name__ = LocalServiceError.__qualname__ = "ErrorResponseException"
