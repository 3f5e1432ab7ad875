"""The SDK's exception types, defined once here so step code and client code share them."""


class AzureMLException(Exception):
    """Base of the SDK's exceptions (`azureml.exceptions.AzureMLException`)."""

    def __init__(self, exception_message: str = "", inner_exception: BaseException | None = None,
                 **kwargs) -> None:
        super().__init__(exception_message)
        self._message = exception_message
        self._inner_exception = inner_exception

    @property
    def message(self) -> str:
        return self._message

    @property
    def inner_exception(self) -> BaseException | None:
        return self._inner_exception

    def print_stacktrace(self) -> None:
        import traceback
        traceback.print_exception(self)


class UserErrorException(AzureMLException):
    """A mistake in how the SDK was called."""


class RunEnvironmentException(AzureMLException):
    """`Run.get_context(allow_offline=False)` outside a run."""


class ActivityFailedException(AzureMLException):
    """A run that was waited on failed."""


class ComputeTargetException(AzureMLException):
    """A compute target does not exist or its configuration is invalid."""


class ExperimentExecutionException(AzureMLException):
    """A run could not be submitted or executed."""


class AuthenticationException(AzureMLException):
    """An authentication class was given what it cannot work with."""


class TrainingException(AzureMLException):
    """An estimator was configured in a way the SDK refuses (e.g. an unsupported version)."""


class RunConfigurationException(UserErrorException):
    """A run configuration setting the SDK refuses."""


class WebserviceException(AzureMLException):
    """A model management call failed (a model not found, an invalid name, …)."""


class ModelNotFoundException(AzureMLException):
    """A registered model (or its files) could not be found."""
