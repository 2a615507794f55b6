import pytest

from ._class import ClassRefused, start_class


def start_or_skip(*extra: str):
    """A class server, or a skip saying why this machine cannot isolate learners (the command's own line)."""
    try:
        return start_class(*extra)
    except ClassRefused as exc:
        if "network namespace" in str(exc):
            pytest.skip(str(exc))
        raise


@pytest.fixture(scope="module")
def classroom():
    """One real ``netlab class`` for a test module (learners' netlabs are real processes in namespaces)."""
    server = start_or_skip()
    yield server
    server.stop()
