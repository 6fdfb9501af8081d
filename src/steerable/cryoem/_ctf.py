"""The contrast transfer function of a transmission electron microscope (weak-phase model,
isotropic defocus): ``CTF(k) = -(√(1-w²) sin χ(k) + w cos χ(k))`` with the phase
``χ(k) = π λ Δf k² - (π/2) C_s λ³ k⁴`` (k in 1/Å, Δf underfocus in Å, C_s in Å, λ the
relativistic electron wavelength of the voltage, w the amplitude contrast)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["CTFParams", "ctf", "electron_wavelength", "frequency_grid"]


def electron_wavelength(voltage_kv: float) -> float:
    """The relativistic wavelength (Å) of electrons accelerated through ``voltage_kv`` kilovolts.

    >>> from steerable.cryoem import electron_wavelength
    >>> round(electron_wavelength(300.0), 5)
    0.01969
    """
    if not voltage_kv > 0:
        raise ValueError(f"voltage_kv: expected a positive number, got {voltage_kv!r}")
    v = voltage_kv * 1e3
    return 12.2642598 / math.sqrt(v * (1 + 0.97848e-6 * v))


@dataclass(frozen=True)
class CTFParams:
    """Microscope settings shared by a data set (RELION's optics group): ``voltage`` kV,
    spherical aberration ``cs`` mm, ``amplitude_contrast`` w, ``pixel_size`` Å.

    >>> from steerable.cryoem import CTFParams
    >>> CTFParams().voltage
    300.0
    """

    voltage: float = 300.0
    cs: float = 2.7
    amplitude_contrast: float = 0.1
    pixel_size: float = 2.0

    def __post_init__(self):
        for name in ("voltage", "pixel_size"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: expected a positive number, got {getattr(self, name)!r}")
        if not 0 <= self.amplitude_contrast < 1:
            raise ValueError(f"amplitude_contrast: expected a number in [0, 1), got {self.amplitude_contrast!r}")
        if not self.cs >= 0:
            raise ValueError(f"cs: expected a non-negative number (mm), got {self.cs!r}")


def frequency_grid(size: int, *, centred: bool) -> torch.Tensor:
    """Spatial frequencies (cycles per pixel) of a ``size²`` image, ``(size, size, 2)``:
    in FFT order (``centred=False``) or with zero at index ``size // 2`` (``centred=True``).

    >>> from steerable.cryoem import frequency_grid
    >>> frequency_grid(4, centred=True)[2, 2].tolist(), frequency_grid(4, centred=False)[0, 1].tolist()
    ([0.0, 0.0], [0.0, 0.25])
    """
    f = torch.fft.fftfreq(size, dtype=torch.float64)
    if centred:
        f = torch.fft.fftshift(f)
    return torch.stack(torch.meshgrid(f, f, indexing="ij"), -1)


def ctf(freqs: torch.Tensor, defocus: torch.Tensor, params: CTFParams) -> torch.Tensor:
    """The CTF at frequencies ``freqs`` (``(..., 2)``, cycles per pixel) for each underfocus in
    ``defocus`` (``(n,)``, Å): shape ``(n, *freqs.shape[:-1])``.

    >>> import torch
    >>> from steerable.cryoem import CTFParams, ctf, frequency_grid
    >>> c = ctf(frequency_grid(8, centred=False), torch.tensor([15000.0]), CTFParams())
    >>> c.shape, round(float(c[0, 0, 0]), 4)  # at k = 0 only the amplitude contrast is left
    (torch.Size([1, 8, 8]), -0.1)
    """
    defocus = torch.as_tensor(defocus, dtype=torch.float64)
    if defocus.ndim != 1:
        raise ValueError(f"defocus: expected a 1-D tensor of underfocus values in Å, got shape {tuple(defocus.shape)}")
    lam = electron_wavelength(params.voltage)
    k2 = (freqs.double() / params.pixel_size).pow(2).sum(-1)
    cs = params.cs * 1e7
    shape = (-1,) + (1,) * k2.ndim
    chi = math.pi * lam * defocus.view(shape) * k2 - 0.5 * math.pi * cs * lam**3 * k2**2
    w = params.amplitude_contrast
    return -(math.sqrt(1 - w * w) * torch.sin(chi) + w * torch.cos(chi))
