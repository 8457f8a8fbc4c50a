# Autograd: automatic differentiation (the 60-minute blitz), then the exercise's functions
import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)
out.backward()
print(x.grad)          # d(out)/dx = 4.5 everywhere
out.backward()         # scratch line: the graph was freed by the first backward()

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
b = (a * a).sum()
print(b.grad_fn)


def describe_layout(t):
    return {"shape": tuple(t.shape), "stride": t.stride(),
            "storage_offset": t.storage_offset(), "is_contiguous": t.is_contiguous()}


def column_view(t, j):
    return t[:, j]


def safe_copy(t):
    return t.clone()


def flatten_transposed(t):
    return t.t().contiguous().view(-1)


def to_float64_on(t, device):
    return t.double().to(device)


def scalar_autograd_example():
    x = torch.ones(2, 2, requires_grad=True)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward()
    return x.grad


def make_trainable(t):
    t.requires_grad = True
    return t


print(scalar_autograd_example())
