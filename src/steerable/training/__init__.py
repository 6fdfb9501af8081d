"""Training, evaluation, export, int8 quantisation and plots for the models of
``steerable.models`` on rotated MNIST; the machinery behind the ``steerable`` command.

>>> from steerable.training import TrainConfig
>>> TrainConfig(model="c8", epochs=3).resolved().epochs
3
"""
from ._checkpoint import (
    CheckpointError,
    atomic_torch_save,
    atomic_write,
    capture_rng_state,
    load_checkpoint,
    load_model_state,
    model_from_checkpoint,
    restore_rng_state,
    strip_ddp_prefix,
)
from ._distributed import DistContext, find_free_port, init_distributed
from ._evaluate import (
    accuracy_of,
    angle_invariance,
    evaluate_model,
    predict_logits,
    rot90_invariance,
    rotate_batch,
)
from ._plot import plot_accuracy, plot_invariance
from ._quantize import (
    export_model,
    load_saved,
    max_relative_difference,
    quantize_int8,
    save_module,
    save_torchscript,
)
from ._train import PLAN_DEFAULTS, TrainConfig, TrainResult, load_data, train

__all__ = [
    "CheckpointError", "DistContext", "PLAN_DEFAULTS", "TrainConfig", "TrainResult",
    "accuracy_of", "angle_invariance", "atomic_torch_save", "atomic_write", "capture_rng_state",
    "evaluate_model", "export_model", "find_free_port", "init_distributed", "load_checkpoint",
    "load_data", "load_model_state", "load_saved", "max_relative_difference", "model_from_checkpoint",
    "plot_accuracy", "plot_invariance", "predict_logits", "quantize_int8", "restore_rng_state",
    "rot90_invariance", "rotate_batch", "save_module", "save_torchscript", "strip_ddp_prefix", "train",
]
