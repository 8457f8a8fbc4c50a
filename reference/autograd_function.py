"""Reference solution: custom torch.autograd.Functions with hand-written backward passes."""

import torch


class MySigmoid(torch.autograd.Function):
    """s = 1 / (1 + exp(-x)); ds/dx = s * (1 - s), computed from the saved output s."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


class MyLinearFunction(torch.autograd.Function):
    """y = x @ weight.T + bias, as torch.nn.functional.linear; weight is (out, in)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        grad_x = grad_output @ weight
        grad_weight = grad_output.T @ x
        grad_bias = grad_output.sum(0)
        return grad_x, grad_weight, grad_bias
