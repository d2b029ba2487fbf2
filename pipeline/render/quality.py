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
