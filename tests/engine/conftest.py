from __future__ import annotations

import pytest

from workbench import Engine


@pytest.fixture
def engine():
    engine = Engine()
    yield engine
    engine.close()
