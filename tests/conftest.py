import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import pytest
import torch

from cs_core.devices import available_devices


@pytest.fixture(params=available_devices(), ids=str)
def device(request) -> torch.device:
    """Every test taking ``device`` runs on the CPU and, when present, on CUDA."""
    return request.param
