# Assignment: autograd_function
# Custom autograd Functions with a hand-written backward.
import torch


class MySigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return s * (1 - s)  # derivative of the sigmoid


class MyLinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_output @ weight
        grad_weight = grad_output.T @ x
        grad_bias = grad_output.sum(dim=0)
        return grad_x, grad_weight, grad_bias


x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
w = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
b = torch.randn(2, dtype=torch.float64, requires_grad=True)
print(MySigmoid.apply(x))
print(torch.autograd.gradcheck(MyLinearFunction.apply, (x, w, b)))
