"""Device choice: CUDA when available, else CPU."""
import torch

from .errors import InputError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → ``cuda`` if available else ``cpu``; asking for CUDA without a GPU is an input error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("--device cuda asked for, but no CUDA GPU is available; use --device cpu or auto")
        return torch.device(name)
    raise InputError(f"unknown device {name!r}; choose auto, cpu or cuda")


def describe_device(device: torch.device) -> str:
    """``"cpu"`` or ``"cuda:0 <GPU name>"``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} {torch.cuda.get_device_name(index)}"
    return "cpu"


def available_devices() -> list[torch.device]:
    """Every device the tests should run on."""
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    return devices
