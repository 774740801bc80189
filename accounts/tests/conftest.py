import pytest

from chat.realtime.state import throttle


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Each test starts with no failed logins or sign-ups counted."""
    throttle.reset()
    yield
    throttle.reset()
