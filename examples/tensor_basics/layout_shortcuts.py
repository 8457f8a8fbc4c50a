# Assignment: tensor_basics
# Storage, strides, views and copies, dtype/device, and a first gradient.
import torch


def describe_layout(t):
    return {
        "shape": tuple(t.shape),
        "stride": t.stride(),
        "storage_offset": 0,  # tensors start at the beginning of their storage
        "is_contiguous": t.stride()[-1] == 1,  # rows are stored one element apart
    }


def column_view(t, j):
    return t[:, j]  # basic indexing: a view, no data copied


def safe_copy(t):
    return t.clone()


def flatten_transposed(t):
    return t.T.reshape(-1)  # reshape copies when the memory is not in order


def to_float64_on(t, device):
    return t.to(device=device, dtype=torch.float64)


def scalar_autograd_example():
    x = torch.ones(2, 2, requires_grad=True)
    out = ((x + 2) ** 2 * 3).mean()
    out.backward()
    return x.grad


def make_trainable(t):
    t.requires_grad_()
    return t


t = torch.arange(12.0).reshape(3, 4)
print(describe_layout(t))
print(describe_layout(t.T))
col = column_view(t, 1)
col[0] = 100.0
print(t)
print(flatten_transposed(torch.arange(6.0).reshape(2, 3)))
print(to_float64_on(torch.tensor([1, 2]), "cpu").dtype)
print(scalar_autograd_example())
print(make_trainable(torch.zeros(2)).requires_grad)
