import pytest

from ._class import start_class


@pytest.fixture(scope="module")
def classroom():
    """One real ``netlab class`` for a test module (learners' netlabs are real processes in namespaces)."""
    server = start_class()
    yield server
    server.stop()
