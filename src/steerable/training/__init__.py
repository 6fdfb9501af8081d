"""Training for any model and task: :class:`Trainer` (loss, metrics, optimiser and schedule
factories, callbacks, checkpoints with exact resume, DDP under ``torchrun``, JSON/CSV logs,
plots), tasks built by name (:func:`fit_task`: ``rotated_mnist``, ``tetris``, ``dipole``, ``nbody``,
``shapes3d``, ``fourier_sampling``, ``partial_equivariance``), and the evaluation, export and int8 quantisation behind the ``steerable`` command.

A tiny model on a tiny data set, checkpointed into a run folder and extended by two epochs:

>>> import tempfile, torch
>>> from steerable.training import EarlyStopping, Trainer, accuracy
>>> g = torch.Generator().manual_seed(0)
>>> x = torch.randn(96, 2, generator=g); y = (x.sum(1) > 0).long()
>>> data = torch.utils.data.TensorDataset(x, y)
>>> out = tempfile.mkdtemp()
>>> def run(epochs, **kw):
...     return Trainer(torch.nn.Linear(2, 2), data, loss=torch.nn.functional.cross_entropy,
...                    metrics={"acc": accuracy}, eval_data=data, epochs=epochs, batch_size=16, lr=0.5,
...                    callbacks=[EarlyStopping("test_loss", patience=2)], out=out, device="cpu",
...                    progress=False, **kw).fit()
>>> first = run(2)
>>> more = run(4, resume=True)
>>> more.start_epoch, [r["epoch"] for r in more.history], more.last["test_acc"] > 0.9
(2, [1, 2, 3, 4], True)
>>> import csv; next(csv.reader(open(out + "/log.csv")))
['epoch', 'train_loss', 'train_acc', 'test_loss', 'test_acc', 'lr', 'seconds']
"""

from ._callbacks import Callback, EarlyStopping, LambdaCallback
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
from ._deploy import (
    OnnxModel,
    count_macs,
    d4_invariance_error,
    export_onnx,
    measure_latency,
    peak_memory_bytes,
    quantize_onnx_int8,
    quantize_qat,
)
from ._distributed import (
    DistContext,
    all_gather_object,
    all_reduce_sum,
    barrier,
    broadcast_object,
    cleanup,
    find_free_port,
    init_distributed,
)
from ._errors import Arg, ConfigError, NoCheckpointError
from ._evaluate import (
    accuracy_of,
    angle_invariance,
    evaluate_model,
    predict_logits,
    rot90_invariance,
    rotate_batch,
)
from ._logs import history_columns, write_logs
from ._metrics import MetricTotals, accuracy, cosine_error, squared_error
from ._plot import plot_accuracy, plot_history, plot_invariance
from ._quantize import (
    export_model,
    load_saved,
    max_relative_difference,
    quantize_int8,
    save_module,
    save_torchscript,
)
from ._schedule import BatchNormWarmup, constant_schedule, cosine_schedule
from ._task import Task, build_task, describe_tasks, fit_task, get_task, register_task, task_names, unregister_task
from ._task_dipole import DipoleNet, DipoleTask
from ._task_fourier import FourierSamplingTask, SO2FourierNet, SO3FourierShapesNet, invariance_error
from ._task_mnist import RotatedMNISTTask
from ._task_nbody import NBodyE3nn, NBodyGNN, NBodyMLP, NBodyNet, NBodyTask, build_nbody_model
from ._task_partial import DoubleDigitNet, PartialEquivarianceTask, true_symmetry_mask
from ._task_shapes import ShapesNet, ShapesTask
from ._task_tetris import PlainTetrisCNN, TetrisNet, TetrisTask
from ._train import PLAN_DEFAULTS, TrainConfig, TrainResult, load_data, train
from ._trainer import FitResult, Trainer

__all__ = [
    "Arg",
    "BatchNormWarmup",
    "Callback",
    "CheckpointError",
    "ConfigError",
    "DipoleNet",
    "DipoleTask",
    "DistContext",
    "EarlyStopping",
    "FitResult",
    "DoubleDigitNet",
    "FourierSamplingTask",
    "LambdaCallback",
    "MetricTotals",
    "NBodyE3nn",
    "NBodyGNN",
    "NBodyMLP",
    "NBodyNet",
    "NBodyTask",
    "NoCheckpointError",
    "OnnxModel",
    "PLAN_DEFAULTS",
    "PlainTetrisCNN",
    "RotatedMNISTTask",
    "PartialEquivarianceTask",
    "SO2FourierNet",
    "SO3FourierShapesNet",
    "ShapesNet",
    "ShapesTask",
    "Task",
    "TetrisNet",
    "TetrisTask",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "accuracy",
    "accuracy_of",
    "all_gather_object",
    "all_reduce_sum",
    "angle_invariance",
    "atomic_torch_save",
    "atomic_write",
    "barrier",
    "broadcast_object",
    "build_nbody_model",
    "build_task",
    "capture_rng_state",
    "cleanup",
    "constant_schedule",
    "count_macs",
    "cosine_error",
    "cosine_schedule",
    "d4_invariance_error",
    "describe_tasks",
    "evaluate_model",
    "export_model",
    "export_onnx",
    "find_free_port",
    "fit_task",
    "get_task",
    "history_columns",
    "init_distributed",
    "invariance_error",
    "load_checkpoint",
    "load_data",
    "load_model_state",
    "load_saved",
    "max_relative_difference",
    "measure_latency",
    "model_from_checkpoint",
    "peak_memory_bytes",
    "plot_accuracy",
    "plot_history",
    "plot_invariance",
    "predict_logits",
    "quantize_int8",
    "quantize_onnx_int8",
    "quantize_qat",
    "register_task",
    "restore_rng_state",
    "rot90_invariance",
    "rotate_batch",
    "save_module",
    "save_torchscript",
    "squared_error",
    "strip_ddp_prefix",
    "task_names",
    "train",
    "true_symmetry_mask",
    "unregister_task",
    "write_logs",
]
