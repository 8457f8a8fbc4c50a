"""Reference solution: tensor storage, strides, views and copies, dtype/device, a first gradient."""

import torch


def describe_layout(t):
    """How ``t`` lies in its storage."""
    return {
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "is_contiguous": t.is_contiguous(),
    }


def column_view(t, j):
    """Column ``j`` of the 2-D tensor ``t``, as a view sharing its storage."""
    return t[:, j]


def safe_copy(t):
    """An independent copy of ``t``: writing into it leaves ``t`` alone."""
    return t.clone()


def flatten_transposed(t):
    """The transpose of the 2-D tensor ``t``, flattened to 1-D (its columns one after another)."""
    return t.T.reshape(-1)


def to_float64_on(t, device):
    """``t`` converted to float64 on ``device``."""
    return t.to(device=device, dtype=torch.float64)


def scalar_autograd_example():
    """x.grad for out = mean(3 * (x + 2)**2) with x = ones(2, 2)."""
    x = torch.ones(2, 2, requires_grad=True)
    out = ((x + 2) ** 2 * 3).mean()
    out.backward()
    return x.grad


def make_trainable(t):
    """``t`` itself, now recording operations for autograd."""
    return t.requires_grad_()
