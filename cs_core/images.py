"""Reading images and converting them to a domain's shape; writing PNGs.

Conversion rule (documented in the README): decode (any mode, 8- or 16-bit) → scale to [0, 1]
→ composite alpha over white → centre-crop to a square → area-resize (box filter) to the
domain's size → convert channels (luminance ITU-R 601 for 1 channel, replicate gray for 3).
"""
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .domains import Domain
from .errors import InputError

MAX_PIXELS = 40_000_000  # decompression-bomb guard (e.g. 20000×20000 is refused)
MAX_FILE_BYTES = 20 * 1024 * 1024


def load_image_array(path: str | Path) -> np.ndarray:
    """Decode an image file to a float array ``(H, W, C)`` in [0, 1], C ∈ {1, 3}, alpha composited over white."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image file not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"image file is empty: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"image file is larger than {MAX_FILE_BYTES // 2**20} MiB: {path}")
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise InputError(f"image is {img.width}×{img.height} pixels, more pixels than the {MAX_PIXELS:,} allowed: {path}")
            img.load()
            return pil_to_array(img)
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(f"image has more pixels than the {MAX_PIXELS:,} allowed: {path}") from None
    except UnidentifiedImageError:
        raise InputError(f"not a readable image (PNG, JPEG, ...): {path}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"corrupt or truncated image {path}: {exc}") from None


def pil_to_array(img: Image.Image) -> np.ndarray:
    """PIL image of any mode → float ``(H, W, C)`` in [0, 1], C ∈ {1, 3}."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        return np.clip(arr / peak, 0, 1)[..., None]
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        return np.clip(arr / max(arr.max(), 1.0), 0, 1)[..., None]
    if img.mode in ("1", "L"):
        return np.asarray(img.convert("L"), dtype=np.float64)[..., None] / 255.0
    if img.mode == "P" and "transparency" in img.info or img.mode in ("RGBA", "LA", "PA"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float64) / 255.0
        alpha = rgba[..., 3:4]
        return rgba[..., :3] * alpha + (1.0 - alpha)
    return np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0


def array_to_domain(arr: np.ndarray, domain: Domain) -> torch.Tensor:
    """``(H, W)`` or ``(H, W, C)`` array in [0, 1] (or uint8) → ``(1, C, S, S)`` float32 tensor by the module's rule."""
    arr = np.asarray(arr)
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float64) / 255.0
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or min(arr.shape[:2]) < 1:
        raise InputError(f"expected an image array of shape (H, W[, 1|3|4]), got {arr.shape}")
    if arr.shape[2] == 4:
        alpha = arr[..., 3:4]
        arr = arr[..., :3] * alpha + (1.0 - alpha)
    if not np.isfinite(arr).all():
        raise InputError("image contains non-finite values")
    h, w = arr.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    arr = arr[top:top + side, left:left + side]
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).permute(2, 0, 1)[None]
    t = torch.nn.functional.interpolate(t, size=(domain.size, domain.size), mode="area") if side != domain.size else t
    if t.shape[1] == 3 and domain.channels == 1:
        t = (0.299 * t[:, 0:1] + 0.587 * t[:, 1:2] + 0.114 * t[:, 2:3])
    elif t.shape[1] == 1 and domain.channels == 3:
        t = t.expand(-1, 3, -1, -1)
    return t.clamp(0, 1).contiguous()


def load_image(path: str | Path, domain: Domain) -> torch.Tensor:
    """Read an image file and convert it to the domain: ``(1, C, S, S)`` in [0, 1]."""
    return array_to_domain(load_image_array(path), domain)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """``(C, H, W)`` or ``(1, C, H, W)`` in [0, 1] → ``(H, W)`` or ``(H, W, 3)`` uint8 for display."""
    if image.dim() == 4:
        image = image[0]
    arr = (image.detach().clamp(0, 1).cpu().numpy() * 255.0).round().astype(np.uint8)
    return arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)


def save_png(image: torch.Tensor, path: str | Path, scale: int = 1) -> Path:
    """Write ``(C, H, W)`` or ``(1, C, H, W)`` in [0, 1] as a lossless PNG, optionally nearest-upscaled."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(to_uint8(image))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    img.save(path, format="PNG")
    return path
