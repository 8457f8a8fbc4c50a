""""By hand" checks: does the student's function reach its result without the library function it
re-implements? (Probes run in the sandbox; authors import these from :mod:`grader.api`.)

:func:`by_hand` calls the student's function (a module, a bound method) while a recorder notes
every torch function and autograd entry point it calls (``torch.overrides.TorchFunctionMode``,
which also sees ``torch.autograd.grad``, ``torch.autograd.backward`` and ``Tensor.backward``), and
raises :class:`~grader.probing.ProbeFailure` when

- it called a ``forbidden`` function: "MyLayerNorm.forward calls torch.nn.functional.layer_norm
  (line 12: `return F.layer_norm(x, ...)`): the task asks you to compute it yourself";
- its class subclasses (or the module holds) a ``forbidden_modules`` class: ``class
  MyLayerNorm(nn.LayerNorm)`` re-uses what the task asks to write;
- the recorder saw none of the operations in ``needs`` (any correct answer performs at least one):
  the recorder runs in the student's process, so a run it could not observe fails (closed).

Otherwise it returns the function's result, for the probe to return as its observation (the test
then compares the values too: one test for "right, and by hand").
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from grader.probing import ProbeFailure

LINEAR = ("torch.nn.functional.linear", "torch.ops.aten.linear")
"""What ``nn.Linear`` computes with: forbidden in a linear layer written by hand."""

AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
            "torch.autograd.functional.jacobian", "torch.autograd.functional.vjp",
            "torch.func.grad", "torch.func.vjp")
"""Autograd's entry points: forbidden in a backward written by hand."""

MATMUL = ("torch.Tensor.matmul", "torch.matmul", "torch.Tensor.__matmul__", "torch.Tensor.__rmatmul__",
          "torch.mm", "torch.Tensor.mm", "torch.bmm", "torch.addmm", "torch.Tensor.addmm", "torch.addmv",
          "torch.baddbmm", "torch.addbmm", "torch.einsum", "torch.functional.einsum", "torch.tensordot",
          "torch.functional.tensordot", "torch.chain_matmul", "torch.functional.chain_matmul",
          "torch.linalg.linalg_multi_dot", "torch.Tensor.mul", "torch.mul", "torch.Tensor.__mul__",
          "torch.Tensor.__rmul__", "torch.Tensor.__imul__", "torch.Tensor.dot", "torch.dot",
          "torch.Tensor.mv", "torch.mv", "torch.inner", "torch.outer", "torch.Tensor.outer")
"""Products: a linear layer, a gradient by hand, a weighted sum each compute one."""

C_MODULES = {"torch._C._nn": "torch.nn.functional", "torch._C._linalg": "torch.linalg",
             "torch._C._special": "torch.special", "torch._C._fft": "torch.fft", "torch._tensor": "torch"}


def function_name(function: Any) -> str:
    """``torch.nn.functional.linear``, ``torch.Tensor.matmul``, ``torch.Tensor.backward``: the name
    of a torch function as the recorder writes it, for a function or a name (a name is kept). As
    ``torch.overrides.resolve_name`` names most of them, without its first call's 50 ms."""
    if isinstance(function, str):
        return function
    if type(function).__name__ in ("OpOverloadPacket", "OpOverload"):  # torch.ops.aten.linear(.default)
        qualified = getattr(function, "_qualified_op_name", None) or getattr(function, "_name", "?")
        return "torch.ops." + str(qualified).replace("::", ".")
    owner = getattr(function, "__self__", None)  # a property's getter: torch.Tensor.T.__get__
    if type(owner).__name__ == "getset_descriptor":
        return f"torch.Tensor.{getattr(owner, '__name__', '?')}.__get__"
    name = getattr(function, "__name__", None) or repr(function)
    qualname = getattr(function, "__qualname__", None) or name
    if qualname.startswith(("TensorBase.", "Tensor.")) or getattr(function, "__objclass__", None) is not None:
        return f"torch.Tensor.{name}"
    module = getattr(function, "__module__", None) or ""
    if qualname.startswith("_VariableFunctionsClass."):
        return f"torch.{name}"
    module = C_MODULES.get(module, module)
    if module == "torch.func" or module.startswith(("torch._functorch", "torch.func.")):
        module = "torch.func"
    return f"{module}.{qualname}" if module else qualname


class CallRecorder:
    """Records the names of the torch functions called while it is active (``with recorder:``),
    and for each ``watched`` one the first line of code outside torch that called it."""

    def __init__(self, watched: Iterable[str] = ()) -> None:
        self.names: set[str] = set()
        self.first_call: dict[str, str] = {}  # a watched name -> "line 12: `code`"
        self._watched = frozenset(watched)
        self._mode: Any = None

    def __enter__(self) -> CallRecorder:
        from torch.overrides import TorchFunctionMode

        recorder = self

        class _Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
                recorder._saw(func)
                return func(*args, **(kwargs or {}))

        self._mode = _Mode()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._mode.__exit__(*exc)

    def _saw(self, func: Any) -> None:
        name = function_name(func)
        self.names.add(name)
        if name in self._watched and name not in self.first_call:
            self.first_call[name] = _calling_line()


def _calling_line() -> str:
    """The first frame outside torch and this module: where the student's code made the call."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename != __file__ and os.sep + "torch" + os.sep not in filename:
            import linecache

            code = linecache.getline(filename, frame.f_lineno).strip()[:120]
            return f"line {frame.f_lineno}" + (f": `{code}`" if code else "")
        frame = frame.f_back
    return ""


def by_hand(function: Callable, *args: Any, forbidden: Iterable[Any] = (),
            forbidden_modules: Iterable[type] = (), needs: Iterable[Any] = (), what: str = "",
            task: str = "compute it yourself", **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, recorded: fails (:class:`ProbeFailure`) when it calls one of
    ``forbidden`` (functions or their names, see :func:`function_name`), when the object it belongs
    to is or holds an instance of one of ``forbidden_modules``, or when the recorder saw none of
    ``needs`` (any call at all when ``needs`` is empty): "the check could not observe your
    forward". ``what`` names the function in messages (default ``MyLinear.forward``, from the
    student's class); ``task`` says what the task asks instead."""
    forbidden_names = [function_name(f) for f in forbidden]
    needed = [function_name(f) for f in needs]
    owner = getattr(function, "__self__", function)
    method = getattr(function, "__name__", None) or "forward"
    if isinstance(owner, type) or inspect.isfunction(owner):
        what = what or getattr(owner, "__name__", "your function")
    else:
        what = what or f"{type(owner).__name__}.{method}"
    _check_modules(owner, tuple(forbidden_modules), what, task)
    recorder = CallRecorder(forbidden_names)
    with recorder:
        result = function(*args, **kwargs)
    used = [name for name in forbidden_names if name in recorder.names]
    if used:
        where = recorder.first_call.get(used[0], "")
        raise ProbeFailure(f"{what} calls {used[0]}{f' ({where})' if where else ''}: the task asks you "
                           f"to {task}")
    if not recorder.names or needed and not recorder.names & set(needed):
        part = what.rsplit(".", 1)[-1]
        expected = f" (none of {', '.join(needed[:4])}{', ...' if len(needed) > 4 else ''} was seen)" \
            if needed else " (no torch operation was seen)"
        raise ProbeFailure(f"the check could not observe your {part}{expected}: compute {what}'s result "
                           "with torch operations on its inputs, in plain Python code, so that it can be "
                           "checked")
    return result


def _check_modules(owner: Any, forbidden: tuple[type, ...], what: str, task: str) -> None:
    """Fails when ``owner`` (an instance or a class) is, or holds, one of ``forbidden``."""
    if not forbidden:
        return
    cls = owner if isinstance(owner, type) else type(owner)
    base = next((f for f in forbidden if issubclass(cls, f)), None)
    if base is not None:
        raise ProbeFailure(f"{cls.__name__} subclasses {base.__module__.split('.')[0]}.{_public_path(base)}: "
                           f"the task asks you to {task}, from nn.Module")
    modules = getattr(owner, "named_modules", None)
    if callable(modules) and not isinstance(owner, type):
        for name, module in modules():
            if name and isinstance(module, forbidden):
                raise ProbeFailure(f"{what.split('.')[0]} holds an {_public_path(type(module))} "
                                   f"(self.{name}): the task asks you to {task}")


def _public_path(cls: type) -> str:
    """``nn.Linear`` for torch.nn.modules.linear.Linear; else the class's name."""
    return f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn.modules") else cls.__name__
