# %%
import torch
import numpy as np

# %% Tensors, as in the blitz
x = torch.empty(5, 3)
x = torch.rand(5, 3)
print(x.size())
y = torch.rand(5, 3)
print(torch.add(x, y))
print(x[:, 1])

# %% NumPy bridge
a = torch.ones(5)
b = a.numpy()
a.add_(1)
print(b)

# %% CUDA tensors (from the tutorial: only on a GPU machine)
x = x.to("cuda")

# %% The exercise
def describe_layout(t):
    return {"shape": tuple(t.shape), "stride": t.stride(),
            "storage_offset": t.storage_offset(), "is_contiguous": t.is_contiguous()}


def column_view(t, j):
    return t.select(1, j)


def safe_copy(t):
    return t.clone()


def flatten_transposed(t):
    return t.T.flatten()


def to_float64_on(t, device):
    return t.to(device, torch.float64)


def scalar_autograd_example():
    x = torch.ones(2, 2, requires_grad=True)
    out = ((x + 2) ** 2 * 3).mean()
    out.backward()
    return x.grad.detach().clone().numpy()    # a NumPy array, not a tensor


def make_trainable(t):
    t.requires_grad_()
    return t
