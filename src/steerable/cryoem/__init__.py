"""Cryo-EM: amortised inference of particle poses with equivariant encoders (de Ruijter & Cesa
2024, on cryoAI by Levy et al. 2022).

A simulator (Gaussian-atom molecules, Haar-random poses, shifts, CTF, noise at a chosen SNR),
a differentiable image-formation model (:class:`VoxelDecoder`: Fourier-slice theorem, CTF,
shift phase), pose encoders (a plain CNN and C_N/D_N-equivariant steerable CNNs whose predicted
pose turns exactly with the image), the cryoAI training loop with its optional symmetric loss,
metrics (pose errors after global alignment including the chirality flip, FSC and resolution),
MRC and RELION STAR I/O, and a command line: ``python -m steerable.cryoem``.

Imports only the public library; nothing in the core imports it.
"""

from ._ctf import CTFParams, ctf, electron_wavelength, frequency_grid
from ._decoder import VoxelDecoder, fourier_slice, image_spectrum
from ._encoders import PoseEncoder, pose_encoder
from ._io import euler_to_matrix, load_relion, matrix_to_euler, read_mrc, read_star, save_relion, write_mrc, write_star
from ._metrics import fsc, resolution, rotate_volume
from ._molecules import Molecule, make_molecule
from ._reconstruct import PoseEvaluation, Reconstruction, aligned_reconstruction, evaluate_poses, reconstruct
from ._rotations import align_rotations, planar_action, random_rotations, rotation_from_6d
from ._simulate import ParticleStack, simulate_particles

__all__ = [
    "CTFParams",
    "Molecule",
    "ParticleStack",
    "PoseEncoder",
    "PoseEvaluation",
    "Reconstruction",
    "VoxelDecoder",
    "align_rotations",
    "aligned_reconstruction",
    "ctf",
    "electron_wavelength",
    "euler_to_matrix",
    "evaluate_poses",
    "fourier_slice",
    "frequency_grid",
    "fsc",
    "image_spectrum",
    "load_relion",
    "make_molecule",
    "matrix_to_euler",
    "planar_action",
    "pose_encoder",
    "random_rotations",
    "read_mrc",
    "read_star",
    "reconstruct",
    "resolution",
    "rotate_volume",
    "rotation_from_6d",
    "save_relion",
    "simulate_particles",
    "write_mrc",
    "write_star",
]
