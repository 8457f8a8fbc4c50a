# 과제: linear layer 직접 구현 (tensorflow로 먼저 해보고 torch로 다시)
import numpy as np
import tensorflow as tf
import torch
from torch import nn

# tensorflow version (from last week's lab)
x_train = np.random.rand(100, 3).astype("float32")
y_train = x_train @ np.array([[1.0], [2.0], [3.0]], dtype="float32")
W = tf.Variable(tf.random.normal([3, 1]))
b = tf.Variable(tf.zeros([1]))
optimizer = tf.optimizers.SGD(0.1)
for step in range(100):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(x_train @ W + b - y_train))
    grads = tape.gradient(loss, [W, b])
    optimizer.apply_gradients(zip(grads, [W, b]))
print("tf loss:", loss.numpy())
print(W.numpy(), b.numpy())


# torch version
class MyLinear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(in_features, out_features))
        if bias:
            self.bias = nn.Parameter(torch.randn(out_features))
        else:
            self.bias = None

    def forward(self, x):
        out = x @ self.weights
        if self.bias is not None:
            out = out + self.bias
        return out


layer = MyLinear(3, 1)
print(layer(torch.from_numpy(x_train)).shape)
