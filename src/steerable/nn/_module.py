"""EquivariantModule: the base of every steerable layer (equivariance check, export to eval)."""

from __future__ import annotations

import functools
import logging
import types
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import torch

from ._field_type import FieldType
from ._geometric_tensor import GeometricTensor

_log = logging.getLogger("steerable.nn")

# escnn's default tolerances of ``check_equivariance`` per class (atol, rtol[, assertion, verbose]):
# every subclass with one of these names gets a ``check_equivariance`` with exactly these defaults.
_CHECK_DEFAULTS: dict[str, tuple] = {
    **{
        name: (1e-6, 1e-5)
        for name in [
            "BranchingModule",
            "ConcatenatedNonLinearity",
            "ELU",
            "ReLU",
            "LeakyReLU",
            "PointwiseNonLinearity",
            "FieldDropout",
            "PointwiseDropout",
            "GNormBatchNorm",
            "InnerBatchNorm",
            "NormBatchNorm",
            "InducedNormBatchNorm",
            "IIDBatchNorm1d",
            "IIDBatchNorm2d",
            "IIDBatchNorm3d",
            "GatedNonLinearity1",
            "GatedNonLinearity2",
            "GatedNonLinearityUniform",
            "InducedGatedNonLinearity1",
            "GroupPooling",
            "InducedNormNonLinearity",
            "NormNonLinearity",
            "InducedNormPool",
            "NormPool",
            "NormMaxPool",
            "MergeModule",
            "VectorFieldNonLinearity",
            "PointwiseAdaptiveAvgPool2D",
            "PointwiseAdaptiveAvgPool3D",
            "PointwiseAdaptiveMaxPool2D",
            "PointwiseAdaptiveMaxPool3D",
            "PointwiseAvgPool2D",
            "PointwiseAvgPool3D",
            "PointwiseAvgPoolAntialiased2D",
            "PointwiseAvgPoolAntialiased3D",
            "PointwiseMaxPool2D",
            "PointwiseMaxPool3D",
            "PointwiseMaxPoolAntialiased2D",
            "PointwiseMaxPoolAntialiased3D",
            # not in escnn: float32 reductions over the grid, as the batch norms
            "FieldNorm",
            "LayerNorm",
            "InstanceNorm",
        ]
    },
    **{
        name: (1e-7, 1e-5)
        for name in ["DisentangleModule", "ReshuffleModule", "RestrictionModule", "TensorProductModule"]
    },
    "IdentityModule": (2e-6, 1e-5),
    "SequentialModule": (2e-6, 1e-5),
    "HarmonicPolynomialR3": (1e-4, 1e-3),
    **{
        name: (1e-5, 2e-2)
        for name in ["FourierPointwise", "FourierELU", "QuotientFourierPointwise", "QuotientFourierELU"]
    },
    "R2Upsampling": (0.1, 0.1),
    "R3Upsampling": (0.1, 0.1),
    "MaskModule": (0.1, 0.1, True, True),
    "Linear": (1e-6, 1e-6, True, True),
    **{
        name: (0.1, 0.1, True, True)
        for name in ["R2Conv", "R3Conv", "R3IcoConv", "R2ConvTransposed", "R3ConvTransposed", "R3IcoConvTransposed"]
    },
}


def _as_tuple(v, d: int) -> tuple:
    if isinstance(v, (tuple, list)):
        return tuple(int(a) for a in v)
    return (int(v),) * d


def _map_structure(fn, obj):
    """Apply ``fn`` to every leaf of a FieldType / GeometricTensor structure (dict, tuple, leaf)."""
    if isinstance(obj, dict):
        return type(obj)((k, _map_structure(fn, v)) for k, v in obj.items())
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_structure(fn, v) for v in obj)
    return fn(obj)


def _leaves(obj) -> list:
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _leaves(v)]
    if isinstance(obj, (tuple, list)):
        return [x for v in obj for x in _leaves(v)]
    return [obj]


def _export_in_eval(export):
    """Wrap a subclass's ``export``: escnn's contract is that export() sets the module to eval
    mode and returns modules in eval mode."""

    @functools.wraps(export)
    def wrapper(self, *args, **kwargs):
        self.eval()
        out = export(self, *args, **kwargs)
        if isinstance(out, torch.nn.Module):
            out.eval()
        return out

    wrapper._sets_eval = True
    return wrapper


class EquivariantModule(torch.nn.Module):
    """A ``torch.nn.Module`` mapping GeometricTensors of ``in_type`` to ``out_type``.

    Subclasses implement ``forward`` and ``evaluate_output_shape`` and, where a plain-torch
    equivalent exists, ``export``. ``export()`` always puts the module in eval mode and returns
    plain modules in eval mode (as escnn does).

    >>> import torch
    >>> from steerable import gspaces, nn
    >>> gs = gspaces.rot2dOnR2(4)
    >>> t = nn.FieldType(gs, [gs.regular_repr] * 2)
    >>> pool = nn.SequentialModule(nn.ReLU(t), nn.PointwiseMaxPool2D(t, 2))
    >>> errors = pool.check_equivariance()   # picks an even grid: stride 2 needs one
    >>> max(e for _, e in errors) < 1e-12
    True
    """

    in_type: FieldType
    out_type: FieldType

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        exp = cls.__dict__.get("export")
        if exp is not None and not getattr(exp, "_sets_eval", False):
            cls.export = _export_in_eval(exp)
        defaults = _CHECK_DEFAULTS.get(cls.__name__)
        if defaults is not None and "check_equivariance" not in cls.__dict__:
            cls.check_equivariance = _check_with_defaults(cls, *defaults)

    @property
    def space(self):
        """The gspace the module acts on (escnn's attribute)."""
        if "_space" in self.__dict__:
            return self.__dict__["_space"]
        return self._first_type(self._check_types()).gspace

    @space.setter
    def space(self, value) -> None:
        self.__dict__["_space"] = value

    def _check_input(self, x) -> None:
        # hot path (every forward): a GeometricTensor whose type is the very ``in_type`` object
        # (what the previous layer's ``out_type`` usually is) needs no structural comparison
        if type(x) is GeometricTensor and x.type is self.in_type:
            return
        if not isinstance(x, GeometricTensor):
            raise TypeError(
                f"input: {type(self).__name__} expects a GeometricTensor of type {self.in_type!r}, "
                f"got {type(x).__name__}"
            )
        if x.type != self.in_type:
            raise ValueError(f"input: {type(self).__name__} expects field type {self.in_type!r}, got {x.type!r}")

    @abstractmethod
    def evaluate_output_shape(self, input_shape: Sequence[int]) -> tuple:
        """The output shape for an input of shape ``input_shape``."""

    def export(self) -> torch.nn.Module:
        """A plain ``torch.nn`` module computing the same function on ``.tensor``."""
        raise TypeError(f"{type(self).__name__} has no plain-torch equivalent to export to")

    # ------------------------------------------------------------------ equivariance check
    def check_equivariance(
        self,
        atol: float = 1e-7,
        rtol: float = 1e-5,
        assertion: bool = True,
        verbose: bool = False,
        device: str = "cpu",
        *,
        x: Any = None,
        spatial: int | None = None,
        batch: int = 2,
    ) -> list:
        """Compare ``f(g·x)`` with ``g·f(x)`` for every exact symmetry ``g`` of the grid
        (``in_type.testing_elements``: 90° rotations, flips, the cube's symmetries; all of a
        finite group's elements on R^0), in eval mode, on a random input.

        The input grid is square (cubic) of side ``spatial``; by default the smallest side
        ``>= 9`` (or the closest below) on which every strided layer inside places its windows
        symmetrically, i.e. ``(n + 2·padding − dilation·(kernel_size − 1) − 1) % stride == 0`` at
        each layer (``ValueError`` if there is none). ``x`` (a tensor, or a dict / tuple of
        tensors for multi-input modules) overrides the random input.

        Passes where ``|f(g·x) − g·f(x)| <= atol·max(1, s) + rtol·|g·f(x)|`` elementwise (``s``
        the largest output magnitude). Returns ``[(element, max error / s)]``; with
        ``assertion`` (default) raises AssertionError on the first failure, naming the element,
        the error, the tolerance and the output / index / field where it failed. ``verbose`` logs
        the errors (logger ``steerable.nn``). ``device``: where the input is created ('cpu' means
        the module's own device). The comparison is :mod:`steerable.testing`'s (see
        :func:`steerable.testing.assert_equivariant` for other inputs, actions and elements).
        """
        return self._check_equivariance(atol, rtol, assertion, verbose, device, x=x, spatial=spatial, batch=batch)

    # hooks for subclasses ------------------------------------------------------------------
    def _check_types(self):
        """The input field type(s): a FieldType, or a dict / tuple of them."""
        return self.in_type

    def _check_call(self, inputs):
        if isinstance(inputs, tuple):
            return self(*inputs)
        return self(inputs)

    def _check_elements(self) -> list:
        """Pairs ``(element acting on the input, element acting on the output)``."""
        return [(g, g) for g in self._check_gspace_elements(self._first_type(self._check_types()))]

    @staticmethod
    def _check_gspace_elements(ftype: FieldType) -> list:
        return list(ftype.testing_elements)

    @staticmethod
    def _first_type(types_) -> FieldType:
        return _leaves(types_)[0]

    def _grid_output_size(self, n: int) -> int | None:
        """The side of the (square/cubic) output for an input of side ``n``, or None if the
        module's sampling windows are not placed symmetrically on that grid (so the grid's
        symmetries are not exact) or the input is too small."""
        t = self.in_type
        if not isinstance(t, FieldType):
            return n
        d = t.gspace.dimensionality
        if d == 0:
            return n
        try:
            shape = self.evaluate_output_shape((1, t.size) + (n,) * d)
        except Exception:
            return None
        if not isinstance(shape, (tuple, list, torch.Size)):
            return n
        out = [int(v) for v in shape[2:]]
        if len(out) != d or len(set(out)) != 1 or out[0] < 1:
            return None
        m = n
        for k, s, p, dl, op in self._grid_stages(d):
            if getattr(self, "_transposed", False):
                if any(o != 0 for o in op):
                    return None
                continue
            nums = [m + 2 * pp - dd * (kk - 1) - 1 for kk, pp, dd in zip(k, p, dl)]
            if any(v < 0 or v % ss for v, ss in zip(nums, s)):
                return None
            ms = {v // ss + 1 for v, ss in zip(nums, s)}
            if len(ms) != 1:
                return None
            m = ms.pop()
        return out[0]

    def _grid_stages(self, d: int) -> list:
        """The strided windows the module applies in turn: ``[(kernel, stride, padding,
        dilation, output_padding)]`` (per-axis tuples); by default from the module's attributes
        ``kernel_size``, ``stride``, ``padding``, ``dilation``, ``output_padding``."""
        if not (hasattr(self, "stride") and hasattr(self, "kernel_size")):
            return []
        k = _as_tuple(self.kernel_size, d)
        s = _as_tuple(self.stride, d)
        p = _as_tuple(getattr(self, "padding", 0), d)
        dl = _as_tuple(getattr(self, "dilation", 1), d)
        op = _as_tuple(getattr(self, "output_padding", 0), d)
        return [(k, s, p, dl, op)]

    def _exact_spatial_size(self, start: int = 9, span: int = 96) -> int:
        """The side closest to ``start`` (trying ``start``, ``start+1``, …, then smaller) on which
        the whole module is exactly equivariant to the grid's symmetries."""
        for n in list(range(start, start + span)) + list(range(start - 1, 0, -1)):
            if self._grid_output_size(n) is not None:
                return n
        raise ValueError(
            f"check_equivariance: no square input of side 1..{start + span - 1} places the sampling windows of "
            f"every layer of {type(self).__name__} symmetrically (kernel/stride/padding/dilation/output_padding "
            "or a fixed input size), so no grid is exactly symmetric for it; pass x= (or spatial=) explicitly"
        )

    def _check_equivariance(
        self, atol, rtol, assertion=True, verbose=False, device="cpu", *, x=None, spatial=None, batch=2
    ) -> list:
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return self._check_errors(atol, rtol, assertion, verbose, device, x, spatial, batch)
        finally:
            self.train(was_training)

    def _check_device(self, device) -> torch.device:
        if device is not None and str(device) != "cpu":
            return torch.device(device)
        for t in list(self.parameters()) + list(self.buffers()):
            return t.device
        return torch.device("cpu")

    def _check_errors(self, atol, rtol, assertion, verbose, device, x, spatial, batch) -> list:
        types_ = self._check_types()
        first = self._first_type(types_)
        d = first.gspace.dimensionality
        dtype = self._param_dtype()
        dev = self._check_device(device)
        note = ""
        if x is None:
            if d > 0:
                if spatial is None:
                    spatial = self._exact_spatial_size()
                elif self._grid_output_size(int(spatial)) is None:
                    note = (
                        f" (note: a grid of side {spatial} does not place every layer's windows symmetrically; "
                        "leave spatial=None to pick one that does)"
                    )
            shape = (batch,) if d == 0 else (batch,) + (int(spatial),) * d
            x = _map_structure(lambda t: torch.randn(shape[0], t.size, *shape[1:], dtype=dtype, device=dev), types_)
        else:
            x = _map_structure(lambda v: v.tensor if isinstance(v, GeometricTensor) else v, x)
            if d > 0:
                n = _leaves(x)[0].shape[2]
                sp = set(_leaves(x)[0].shape[2:])
                if len(sp) != 1 or self._grid_output_size(int(n)) is None:
                    note = (
                        f" (note: the input's grid {tuple(_leaves(x)[0].shape[2:])} does not place every layer's "
                        "windows symmetrically)"
                    )
        gx = _pair_structure(types_, x)
        from steerable.testing._check import failure_message, run
        from steerable.testing._compare import escnn_criterion

        pairs = [(g_in, g_out, g_out) for g_in, g_out in self._check_elements()]
        criterion = escnn_criterion(atol, rtol)
        results, _ = run(
            self._check_call,
            (gx,),
            pairs,
            criterion=criterion,
            fibers_only=getattr(self, "_fibers_only", False),
            stop_on_failure=assertion,
        )
        errors = []
        for r in results:
            errors.append((r.element, r.error))
            if verbose:
                _log.info(
                    "%s: element %s, max error %.3g (output scale %.3g) at %s",
                    type(self).__name__,
                    r.element,
                    r.abs_error,
                    r.scale,
                    r.where,
                )
            if not r.passed and assertion:
                raise AssertionError(failure_message(type(self).__name__, r, "equivariant", criterion, note))
        return errors

    def _param_dtype(self) -> torch.dtype:
        for p in self.parameters():
            return p.dtype
        for b in self.buffers():
            if b.is_floating_point():
                return b.dtype
        return torch.get_default_dtype()


def _pair_structure(types_, tensors):
    """GeometricTensors from matching structures of FieldTypes and tensors."""
    if isinstance(types_, dict):
        return type(types_)((k, _pair_structure(v, tensors[k])) for k, v in types_.items())
    if isinstance(types_, (tuple, list)):
        return tuple(_pair_structure(t, v) for t, v in zip(types_, tensors))
    return GeometricTensor(tensors, types_)


def _check_with_defaults(cls, atol, rtol, assertion=True, verbose=False, device="cpu"):
    """A copy of the base ``check_equivariance`` whose defaults are escnn's for ``cls``."""
    base = EquivariantModule.check_equivariance
    f = types.FunctionType(
        base.__code__,
        base.__globals__,
        "check_equivariance",
        (atol, rtol, assertion, verbose, device),
        base.__closure__,
    )
    f.__kwdefaults__ = dict(base.__kwdefaults__)
    f.__doc__ = base.__doc__
    f.__qualname__ = f"{cls.__qualname__}.check_equivariance"
    f.__module__ = cls.__module__
    f.__annotations__ = dict(base.__annotations__)
    return f


def _ignored_kwargs(owner: str, kwargs: dict) -> None:
    """escnn's signature takes ``**kwargs`` here and ignores them: accept them as escnn does, but
    say loudly that they have no effect."""
    if kwargs:
        import warnings

        warnings.warn(
            f"{owner}: the keyword arguments {sorted(kwargs)} are accepted for compatibility with escnn "
            "(whose signature takes **kwargs) but have no effect",
            stacklevel=3,
        )
