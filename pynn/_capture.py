"""Capturing a step into a plan and replaying it (Note [Captured steps] in csrc/plan/plan.h).

capture(step, inputs, state) runs step(*inputs) once, eagerly, while the C++
recorder keeps every kernel call; the result is a StepPlan that replays the
whole step in one C++ call with the GIL released. What Python computes per step
and hands to a kernel as data (an optimizer's scalars from its schedule, a
dropout key) is a host input: host_input() gives the tensor, and a plan refills
it before each replay with the same function, in the same order as the eager
step called them. Anything else Python decides per step is refused (refuse()),
so a plan is either the eager step or not made at all.
"""

import os
import sys
import threading

import numpy as np

from . import _core

__all__ = ["StepPlan", "capture", "capturing", "host_input", "refuse", "sub_step"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# Frames of these files are the machinery of a host read, not its cause.
_PLUMBING = {os.path.join(_PACKAGE, f) for f in ("tensor.py", "_capture.py", "ops.py", "autograd.py", "utils.py")}


class _State(threading.local):
    def __init__(self):
        self.host_inputs = None  # while capturing: [(NumPy view of the tensor, fill)]


_state = _State()
passes = True  # Note [Plan passes] in csrc/plan/plan.h; the tests turn them off to compare


def capturing():
    """Whether a step is being captured on this thread."""
    return _state.host_inputs is not None


def host_input(fill, dtype=np.float64):
    """A new tensor holding fill()'s values (a number or a sequence). While a step is
    captured, the plan calls fill again before every replay and writes the values in, so a
    kernel reading the tensor sees this step's values, as eagerly."""
    t = _core._copy_from(np.asarray(fill(), dtype=dtype))
    if _state.host_inputs is not None:
        view = np.asarray(t)  # taken before the tensor is marked as changing between replays
        _core._plan_dynamic([t])
        _state.host_inputs.append((view, fill))
    return t


def refuse(reason):
    """While capturing: the step cannot be captured, for `reason` (the first reason is kept)."""
    if _state.host_inputs is not None:
        _core._plan_fail(reason)


def _python_place():
    """The innermost Python frame outside pynn's plumbing: where a capture failed."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename) in _PLUMBING:
        frame = frame.f_back
    if frame is None:
        return "unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


class StepPlan:
    """A captured step: run() refills the host inputs, gathers the batch and replays."""

    def __init__(self, plan, host_inputs, result):
        self.plan = plan
        self.host_inputs = host_inputs
        self.result = result  # what the step returned at capture: its tensors are the plan's outputs

    def run(self, sources, order, start, stop):
        for view, fill in self.host_inputs:
            view[...] = fill()
        self.plan.run(sources, order, start, stop)
        return self.result

    @property
    def ops(self):
        return self.plan.ops


def capture(step, inputs, state=()):
    """Runs step(*inputs) eagerly while recording it. inputs: the batch tensors (the plan's
    input buffers); state: every tensor whose values change between steps (variables,
    optimizer and metric state). Returns (result, StepPlan or None, why not)."""
    if _state.host_inputs is not None or _core._plan_active():
        raise RuntimeError("capture: a step is already being captured on this thread")
    _core._plan_begin()
    _state.host_inputs = host_inputs = []
    try:
        _core._plan_dynamic(list(inputs) + list(state))
        result = step(*inputs)
        failure = _core._plan_failure()
        if failure:
            _core._plan_abort()
            return result, None, failure
        plan = _core._plan_end(list(inputs), passes)
    except BaseException:
        _core._plan_abort()
        raise
    finally:
        _state.host_inputs = None
    return result, StepPlan(plan, host_inputs, result), None


def sub_step(fn, *args):
    """While capturing, runs fn(*args) as a part of the step that may fail alone: when it
    cannot be captured its calls are dropped from the plan and False is returned (the caller
    then runs it eagerly after each replay). Not capturing: runs fn and returns True."""
    if _state.host_inputs is None:
        fn(*args)
        return True
    mark = _core._plan_mark()
    inputs_mark = len(_state.host_inputs)
    fn(*args)
    if _core._plan_failure():
        _core._plan_rollback(mark)
        del _state.host_inputs[inputs_mark:]
        return False
    return True
