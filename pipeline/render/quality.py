"""Comparing pictures: SSIM, the measure used for parity between the review canvas and L6."""
from __future__ import annotations

import cv2
import numpy as np

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image[..., :3].astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return image.astype(np.float64)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of two RGB (or grey) pictures of the same size, on luma, Gaussian window 11/1.5."""
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"cannot compare a {a.shape[1]}x{a.shape[0]} picture with a {b.shape[1]}x{b.shape[0]} one")
    x, y = _gray(a), _gray(b)

    def blur(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image, (11, 11), 1.5)

    mu_x, mu_y = blur(x), blur(y)
    sigma_x = blur(x * x) - mu_x ** 2
    sigma_y = blur(y * y) - mu_y ** 2
    sigma_xy = blur(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + _C1) * (2 * sigma_xy + _C2)
    denominator = (mu_x ** 2 + mu_y ** 2 + _C1) * (sigma_x + sigma_y + _C2)
    return float(np.mean(numerator / denominator))


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..255, D65) to CIE L*a*b*."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e(a, b) -> float:
    """The colour difference (CIE76 ΔE*ab) between two sRGB colours: about 2.3 is the smallest a person sees."""
    return float(np.linalg.norm(_lab(np.asarray(a)) - _lab(np.asarray(b)), axis=-1).max())
